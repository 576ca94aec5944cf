"""zoo on an accelerator against PyTorch, on a machine with JAX and PyTorch and no TensorFlow (issue 21).

Run from the repository root, on JAX (the script sets KERAS_BACKEND=jax and imports no
TensorFlow, so it runs where only JAX and PyTorch are installed):

    PYTHONPATH=. python3 benchmarks/accelerator.py --mnist DIR          # everything, ~7 min on one GPU
    PYTHONPATH=. python3 benchmarks/accelerator.py --parts peak,throughput
    PYTHONPATH=. .venv/bin/python benchmarks/accelerator.py --quick     # every part for a step or two, CPU

`benchmarks/accelerator_device.sh` is the one command for a lent GPU machine (it installs
the carried wheels first); benchmarks/README.md says how to prepare them.

Parts (`--parts`, in this order; each appends its own record as soon as it ends, so a run
cut short keeps what it finished):
  peak        float32 and bfloat16 `jnp.matmul` of two N x N matrices on the device
              (N = --matmul-size), and the same through PyTorch when it is installed:
              TFLOP/s, medians of --matmul-reps; the ceilings the models are reported against.
  throughput  training images/s of a GAN step (`zoo.models.GAN`, d_steps 1, the
              non-saturating loss): zoo on JAX (XLA, zoo's default there; float32,
              mixed_bfloat16, and zoo's "auto" precision where it differs) against the
              PyTorch reference in benchmarks/torch_gan.py (the same nets, step and Adam,
              eager and `torch.compile`, float32 and bf16 autocast). Configurations:
                dcgan64  the lecture's CelebA DCGAN (keras.io / Chollet): 64x64x3, latent
                         128, Adam(1e-4), batches 32 and 128 (`zoo.nets.keras_dcgan_*`);
                dcgan32  Radford et al.'s DCGAN on MNIST shapes: 32x32x1, latent 100, 64
                         base filters, batch norm, Adam(2e-4, 0.5), batch 128
                         (`zoo.nets.dcgan_*`).
              Synthetic uniform [-1, 1] images, --data-batches batches resident on the
              device (a Python generator of device arrays for `fit`, so no host copies);
              every variant is built and warmed up (compilation) first; then --rounds
              rounds time --steps steps of every (configuration, variant), the order
              turning by one each round. zoo: `fit` from the start of its training loop
              to its end, which waits for the device; PyTorch: `cuda.synchronize()` around
              the steps. Reported: medians, per-round values, ratios of medians against
              each PyTorch variant, analytic GFLOP per image (benchmarks/_flops.py) and the
              share of the measured bf16 ceiling.
  stylegan2   one StyleGAN2 G+D step (`zoo.models.StyleGAN`, config-F-like widths:
              8-layer 512-wide mapping, fmap_base 16384, fmap_max 512, residual D,
              style mixing 0.9) at --sg2-resolutions, batch --sg2-batch, float32 and
              mixed_bfloat16: --sg2-steps steps per round (a multiple of 16, so the lazy
              R1 every 16 D steps and path length every 4 G steps are amortised),
              milliseconds per step, medians over --sg2-rounds.
  quality     the MNIST cGAN and StyleGAN2-32 on the 8,000 / 2,000 MNIST split (IDX files
              from --mnist) trained for --cgan-minutes / --sg2-minutes of wall time
              (compilation included), scored as the CPU benchmarks score them: a domain
              classifier judge (mnist_cgan.py: trained on training digits 2,001-8,000;
              stylegan2_mnist.py: on all 8,000, digits padded to 32), its held-out accuracy
              on 2,000 samples with the held-out labels (cGAN), and the FID of its features
              against the held-out 2,000 over the floor (2,000 real training digits against
              the held-out 2,000). The nets and settings are the CPU benchmarks' own.
              Targets (issue 21): cGAN >= 97 % accuracy, FID <= 2x floor in <= 1 minute.

Output: records appended to benchmarks/results/accelerator.json (--quick:
accelerator_quick.json), each with the device, its driver, the library versions and
the command; sample grids of the quality part beside it.
"""

import argparse
import contextlib
import datetime
import importlib.metadata
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"
# JAX takes 75 % of a GPU's memory at start-up by default; PyTorch shares this one.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.data.mnist_idx import is_idx_folder  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _flops  # noqa: E402
import _shared  # noqa: E402

BENCHMARK = "accelerator"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PARTS = ("peak", "throughput", "stylegan2", "quality")
NUM_CLASSES = 10

# name -> nets, latent size, image shape, batch sizes, Adam (learning rate, beta_1, beta_2).
CONFIGS = {
    "dcgan64": {
        "nets": "keras_dcgan", "latent_dim": 128, "image_shape": (64, 64, 3), "batch_sizes": (32, 128),
        "adam": (1e-4, 0.9, 0.999),
        "about": "the lecture's CelebA DCGAN (keras.io 'DCGAN to generate face images')",
    },
    "dcgan32": {
        "nets": "dcgan", "latent_dim": 100, "image_shape": (32, 32, 1), "batch_sizes": (128,),
        "adam": (2e-4, 0.5, 0.999),
        "about": "Radford et al.'s DCGAN on MNIST shapes (32x32x1, batch norm)",
    },
}
ZOO_VARIANTS = {"zoo_f32": "float32", "zoo_bf16": "mixed_bfloat16", "zoo_auto": "auto"}
TORCH_VARIANTS = {  # name -> (torch.compile, bf16 autocast)
    "torch_eager_f32": (False, False),
    "torch_eager_bf16": (False, True),
    "torch_compile_f32": (True, False),
    "torch_compile_bf16": (True, True),
}
SG2_PRECISIONS = {"f32": "float32", "bf16": "mixed_bfloat16"}
TARGETS = {  # issue 21, on an H200-class GPU; recorded, never asserted
    "dcgan64_b128_zoo_bf16_over_torch_eager": 2.0,
    "dcgan64_b128_zoo_bf16_over_torch_compile": 1.0,
    "cgan_accuracy": 0.97,
    "cgan_fid_over_floor": 2.0,
    "cgan_minutes": 1.0,
}
QUICK = {
    "matmul_size": 256, "matmul_reps": 3, "rounds": 1, "steps": 2, "warmup_steps": 1, "data_batches": 2,
    "batch_scale": 16, "sg2_resolutions": "8,16", "sg2_batch": 4, "sg2_steps": 2, "sg2_rounds": 1,
    "cgan_minutes": 0.05, "sg2_minutes": 0.05, "classifier_epochs": 1, "num_samples": 200,
}


# -- devices and versions ---------------------------------------------------------------


def _torch():
    """PyTorch, or None when it is not installed (its parts are then skipped)."""
    try:
        import torch  # noqa: F401

        import torch_gan
    except ImportError:
        return None
    return torch_gan


def jax_device():
    return jax.devices()[0]


def nvidia_smi():
    """Driver version and GPU name from nvidia-smi, or None without one."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    name, driver, memory, clock = (field.strip() for field in out.splitlines()[0].split(","))
    return {"name": name, "driver": driver, "memory": memory, "max_sm_clock": clock}


def environment(torch_gan):
    device = jax_device()
    info = {
        "jax_device": str(device),
        "jax_platform": device.platform,
        "jax_device_kind": device.device_kind,
        "nvidia_smi": nvidia_smi(),
        "cpu": _shared.cpu_info()[0],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": importlib.metadata.version("jaxlib"),
        "keras": keras.__version__,
        "numpy": np.__version__,
        "jax_default_matmul_precision": jax.config.jax_default_matmul_precision,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "tensorflow_imported": "tensorflow" in sys.modules,
        "torch": torch_gan.info() if torch_gan else None,
    }
    return info


def torch_device(torch_gan):
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# -- part 1: peak rates ------------------------------------------------------------------


def _median_rate(run, flops, reps):
    run()  # warm-up: compilation, cuBLAS heuristics
    run()
    seconds = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    rates = [flops / s / 1e12 for s in seconds]
    return {"tflops_median": statistics.median(rates), "tflops_max": max(rates), "tflops": rates}


def peak_part(args, torch_gan):
    n = args.matmul_size
    flops = 2 * n**3
    rng = np.random.default_rng(0)
    host = [rng.uniform(-1, 1, (n, n)).astype("float32") for _ in range(2)]
    results = {}
    for name, dtype, precision in (
        ("jax_bf16", jnp.bfloat16, None),
        ("jax_f32_default", jnp.float32, None),
        ("jax_f32_highest", jnp.float32, "highest"),
    ):
        a, b = (jax.device_put(jnp.asarray(x, dtype)) for x in host)
        matmul = jax.jit(lambda a, b, p=precision: jnp.matmul(a, b, precision=p))
        results[name] = _median_rate(lambda: matmul(a, b).block_until_ready(), flops, args.matmul_reps)
    if torch_gan:
        import torch

        device = torch_device(torch_gan)
        for name, dtype in (("torch_bf16", torch.bfloat16), ("torch_f32_default", torch.float32)):
            a, b = (torch.from_numpy(x).to(device=device, dtype=dtype) for x in host)

            def run(a=a, b=b):
                torch.matmul(a, b)
                torch_gan.synchronize(device)

            results[name] = _median_rate(run, flops, args.matmul_reps)
    else:
        print("peak: PyTorch is not installed; its matrix products are skipped", flush=True)
    ceiling = max(v["tflops_median"] for k, v in results.items() if k.endswith("bf16"))
    summary = {"matrix_size": n, "reps": args.matmul_reps, "rates": results, "bf16_ceiling_tflops": ceiling}
    print_peak(summary)
    return summary


def print_peak(summary):
    n = summary["matrix_size"]
    for name, rate in summary["rates"].items():
        print(f"peak {name:18s} {rate['tflops_median']:9.2f} TFLOP/s  ({n}x{n}x{n}, median of {summary['reps']})")


# -- part 2: throughput, zoo against PyTorch ---------------------------------------------


class LoopClock(keras.callbacks.Callback):
    """The start and end of `fit`'s training loop; no batch hooks, so dispatch stays asynchronous.

    Keras turns the epoch's logs into Python floats before `on_train_end`, which waits
    for the device, so the end is read after the last step has run.
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.begin = self.end = None

    def on_train_begin(self, logs=None):
        self.begin = time.perf_counter()

    def on_train_end(self, logs=None):
        self.end = time.perf_counter()


@contextlib.contextmanager
def precision(name):
    """Builds under zoo's precision `name`; restores the policy. Yields the policy used."""
    previous = keras.mixed_precision.global_policy()
    try:
        yield zoo.device.set_precision(name)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def zoo_nets(config):
    shape, latent = config["image_shape"], config["latent_dim"]
    if config["nets"] == "keras_dcgan":
        return zoo.nets.keras_dcgan_generator(latent, shape), zoo.nets.keras_dcgan_discriminator(shape)
    return zoo.nets.dcgan_generator(latent, shape, 64), zoo.nets.dcgan_discriminator(shape, 64)


def device_batches(shape, batch_size, count, seed):
    """`count` batches of uniform [-1, 1] float32 images, as numpy (NHWC)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (batch_size, *shape)).astype("float32") for _ in range(count)]


def build_gan(config, policy_name, seed):
    """zoo's `GAN` with the configuration's nets and Adam, built under `policy_name`."""
    lr, beta_1, beta_2 = config["adam"]
    with precision(policy_name) as policy:
        generator, discriminator = zoo_nets(config)
        model = zoo.models.GAN(generator, discriminator, seed=seed)
        model.compile(
            d_optimizer=keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=beta_2),
            g_optimizer=keras.optimizers.Adam(lr, beta_1=beta_1, beta_2=beta_2),
        )
    return model, policy


class FitRunner:
    """A zoo model trained with `fit` from device-resident batches; `run(steps)` returns seconds."""

    def __init__(self, model, batches, policy):
        self.model, self.policy = model, policy
        self.batches = [jax.device_put(b) for b in batches]

    def _data(self):
        """The batches over and over; Keras passes device arrays from a generator through."""
        while True:
            for batch in self.batches:
                yield (batch,)

    def run(self, steps):
        clock = LoopClock()
        self.model.fit(self._data(), steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0, callbacks=[clock])
        return clock.end - clock.begin

    def describe(self):
        return {
            "dtype_policy": self.policy,
            "jit_compile": bool(self.model.jit_compile),
            "parameters": self.model.generator.count_params() + self.model.discriminator.count_params(),
            **_flops.gan_step_flops(self.model.generator, self.model.discriminator),
        }


class TorchRunner:
    """The PyTorch reference (torch_gan.GANStep) on device-resident NCHW batches."""

    def __init__(self, torch_gan, config, batches, variant, seed):
        import torch

        compiled, bf16 = TORCH_VARIANTS[variant]
        self.torch_gan, self.device = torch_gan, torch_device(torch_gan)
        if self.device == "cuda":
            torch.backends.cudnn.benchmark = True  # as pytorch/examples' DCGAN
        lr, beta_1, beta_2 = config["adam"]
        self.step = torch_gan.GANStep(
            config["nets"], config["latent_dim"], config["image_shape"], lr, beta_1, beta_2,
            device=self.device, bf16=bf16, compile=compiled, seed=seed,
        )
        self.batches = [torch.from_numpy(b.transpose(0, 3, 1, 2).copy()).to(self.device) for b in batches]
        self.compiled, self.bf16 = compiled, bf16

    def run(self, steps):
        self.torch_gan.synchronize(self.device)
        start = time.perf_counter()
        for i in range(steps):
            self.step(self.batches[i % len(self.batches)])
        self.torch_gan.synchronize(self.device)
        return time.perf_counter() - start

    def describe(self):
        return {"torch_compile": self.compiled, "bf16_autocast": self.bf16, "parameters": self.step.parameters(),
                "device": self.device}


def throughput_cases(args):
    """(configuration name, batch size) pairs to run."""
    cases = []
    for name in args.configs:
        for batch in CONFIGS[name]["batch_sizes"]:
            cases.append((name, max(2, batch // args.batch_scale)))
    return cases


def compile_wanted(case, args):
    """Whether the torch.compile variants run for `case` (compiling takes minutes on a GPU)."""
    return args.torch_compile_cases == ["all"] or case in args.torch_compile_cases


def zoo_variants(args):
    """zoo variants, with "auto" only where it picks a policy the others do not cover."""
    variants = [v for v in args.zoo_variants if v != "zoo_auto"]
    if "zoo_auto" in args.zoo_variants:
        auto = zoo.device.default_precision()
        if auto not in (ZOO_VARIANTS[v] for v in variants):
            variants.append("zoo_auto")
        else:
            print(f"throughput: zoo_auto is {auto} here, already measured; not repeated", flush=True)
    return variants


def throughput_part(args, torch_gan, ceiling):
    runners, described, compile_seconds, failures = {}, {}, {}, {}
    torch_variants = list(args.torch_variants) if torch_gan else []
    if not torch_gan:
        print("throughput: PyTorch is not installed; the reference is skipped", flush=True)
    for config_name, batch in throughput_cases(args):
        config = CONFIGS[config_name]
        batches = device_batches(config["image_shape"], batch, args.data_batches, args.seed)
        case = f"{config_name}_b{batch}"
        for variant in zoo_variants(args) + torch_variants:
            if TORCH_VARIANTS.get(variant, (False,))[0] and not compile_wanted(case, args):
                continue
            key = f"{case}:{variant}"
            start = time.perf_counter()
            try:
                if variant in ZOO_VARIANTS:
                    model, policy = build_gan(config, ZOO_VARIANTS[variant], args.seed)
                    runner = FitRunner(model, batches, policy)
                else:
                    runner = TorchRunner(torch_gan, config, batches, variant, args.seed)
                runner.run(args.warmup_steps)  # compilation, autotuning; untimed
            except Exception as error:  # one failing variant must not cost a lent GPU's whole run
                failures[key] = f"{type(error).__name__}: {error}"[:2000]
                print(f"throughput {key}: FAILED ({failures[key][:300]})", flush=True)
                continue
            compile_seconds[key] = time.perf_counter() - start
            runners[key], described[key] = runner, runner.describe()
            print(f"throughput {key}: built and warmed up in {compile_seconds[key]:.1f} s", flush=True)

    keys = list(runners)
    per_round = {key: [] for key in keys}
    for round_index in range(args.rounds):
        turn = round_index % len(keys)
        for key in keys[turn:] + keys[:turn]:
            seconds = runners[key].run(args.steps)
            batch = int(key.split(":")[0].rsplit("_b", 1)[1])
            per_round[key].append(args.steps * batch / seconds)
        print(f"throughput: round {round_index + 1}/{args.rounds} done", flush=True)

    cases = summarise(per_round, described, compile_seconds, ceiling)
    summary = {
        "protocol": {"rounds": args.rounds, "steps": args.steps, "warmup_steps": args.warmup_steps,
                     "data_batches_on_device": args.data_batches, "order": "turned by one each round"},
        "bf16_ceiling_tflops": ceiling,
        "cases": cases,
        "failures": failures,
        "targets": throughput_targets(cases, args),
    }
    print_throughput(summary)
    return summary


def summarise(per_round, described, warmup_seconds, ceiling):
    """Per case ("dcgan64_b128"): each variant's medians, TFLOP/s, share of the bf16 ceiling,
    and every zoo variant against every PyTorch variant (ratio of medians, median of the
    per-round ratios). Keys of the inputs are "case:variant"."""
    cases = {}
    for key, images in per_round.items():
        case, variant = key.split(":")
        info = described[key]
        entry = cases.setdefault(case, {"gflop_per_image": None, "variants": {}})
        if "train_step_gflop_per_image" in info:  # the zoo side counts the FLOPs; the nets are the same
            entry["gflop_per_image"] = info["train_step_gflop_per_image"]
        entry["variants"][variant] = {**info, "images_per_second_median": statistics.median(images),
                                      "images_per_second": list(images), "warmup_seconds": warmup_seconds[key]}
    for entry in cases.values():
        gflop, variants = entry["gflop_per_image"], entry["variants"]
        for v in variants.values():
            tflops = None if gflop is None else v["images_per_second_median"] * gflop / 1e3
            v["tflops"] = tflops
            v["share_of_bf16_ceiling"] = tflops / ceiling if tflops is not None and ceiling else None
        entry["ratios"] = {
            f"{z}/{t}": {
                "ratio_of_medians": variants[z]["images_per_second_median"] / variants[t]["images_per_second_median"],
                "median_of_round_ratios": statistics.median(
                    a / b for a, b in zip(variants[z]["images_per_second"], variants[t]["images_per_second"])
                ),
            }
            for z in variants if z in ZOO_VARIANTS
            for t in variants if t in TORCH_VARIANTS
        }
    return cases


def throughput_targets(cases, args):
    """Issue 21's DCGAN-64 batch-128 targets against the faster eager and compiled references."""
    case = cases.get(f"dcgan64_b{max(2, 128 // args.batch_scale)}")
    if not case or "zoo_bf16" not in case["variants"]:
        return None
    variants = case["variants"]
    zoo_rate = variants["zoo_bf16"]["images_per_second_median"]
    out = {}
    for kind, target_key in (("eager", "dcgan64_b128_zoo_bf16_over_torch_eager"),
                             ("compile", "dcgan64_b128_zoo_bf16_over_torch_compile")):
        rates = {v: d["images_per_second_median"] for v, d in variants.items() if v.startswith(f"torch_{kind}")}
        if rates:
            best = max(rates, key=rates.get)
            ratio = zoo_rate / rates[best]
            out[target_key] = {"against": best, "ratio": ratio, "target": TARGETS[target_key],
                               "met": ratio >= TARGETS[target_key]}
    return out


def print_throughput(summary):
    for case, entry in summary["cases"].items():
        gflop = entry["gflop_per_image"]
        print(f"\n{case}: {gflop:.3f} GFLOP per image and step (analytic)" if gflop else f"\n{case}")
        print(f"  {'variant':20s} {'img/s':>10s} {'TFLOP/s':>8s} {'% bf16 peak':>11s}  per round")
        for variant, v in entry["variants"].items():
            tflops = "" if v["tflops"] is None else f"{v['tflops']:8.2f}"
            share = "" if v["share_of_bf16_ceiling"] is None else f"{100 * v['share_of_bf16_ceiling']:10.1f}%"
            rounds = " ".join(f"{x:.0f}" for x in v["images_per_second"])
            print(f"  {variant:20s} {v['images_per_second_median']:10.1f} {tflops:>8s} {share:>11s}  {rounds}")
        for pair, ratio in entry["ratios"].items():
            print(f"  {pair:40s} {ratio['ratio_of_medians']:.2f}x")
    for name, target in (summary["targets"] or {}).items():
        print(f"target {name}: {target['ratio']:.2f}x against {target['against']} "
              f"(target {target['target']}x) {'met' if target['met'] else 'NOT met'}")


# -- part 3: StyleGAN2 step time ----------------------------------------------------------


def stylegan2_model(resolution, args, policy_name, seed, quick):
    nets = {"fmap_base": 64, "fmap_max": 16} if quick else {"fmap_base": 16384, "fmap_max": 512}
    width = 16 if quick else 512
    with precision(policy_name) as policy:
        mapping = zoo.nets.style_mapping(latent_dim=width, w_dim=width, num_layers=2 if quick else 8)
        synthesis = zoo.nets.stylegan2_synthesis(resolution, w_dim=width, **nets)
        discriminator = zoo.nets.stylegan2_discriminator(resolution, **nets)
        model = zoo.models.StyleGAN(mapping, synthesis, discriminator, seed=seed)
        model.compile()
    return model, policy


def stylegan2_part(args):
    runs = {}
    for resolution in args.sg2_resolutions:
        batches = device_batches((resolution, resolution, 3), args.sg2_batch, args.data_batches, args.seed)
        for name in args.sg2_precisions:
            policy_name = SG2_PRECISIONS[name]
            key = f"{resolution}px_{name}"
            start = time.perf_counter()
            try:
                model, policy = stylegan2_model(resolution, args, policy_name, args.seed, args.quick)
                runner = FitRunner(model, batches, policy)
                runner.run(args.sg2_steps)  # compiles the step and both lazy regularisers' branches
                warm = time.perf_counter() - start
                seconds = [runner.run(args.sg2_steps) for _ in range(args.sg2_rounds)]
            except Exception as error:  # e.g. out of memory at 256 px: keep the other runs
                runs[key] = {"error": f"{type(error).__name__}: {error}"[:2000]}
                print(f"stylegan2 {key}: FAILED ({runs[key]['error'][:300]})", flush=True)
                continue
            step_ms = [1e3 * s / args.sg2_steps for s in seconds]
            runs[key] = {
                "resolution": resolution, "dtype_policy": policy, "batch_size": args.sg2_batch,
                "parameters": sum(n.count_params() for n in (model.mapping, model.synthesis, model.discriminator)),
                "step_ms_median": statistics.median(step_ms), "step_ms": step_ms,
                "images_per_second_median": args.sg2_batch * 1e3 / statistics.median(step_ms),
                "build_and_first_run_seconds": warm,
            }
            print(f"stylegan2 {key}: {runs[key]['step_ms_median']:.1f} ms per G+D step "
                  f"(batch {args.sg2_batch}; warm-up {warm:.0f} s)", flush=True)
            del model, runner
    return {
        "config": "tiny nets (--quick)" if args.quick else
        "config-F-like: mapping 8 x 512, fmap_base 16384, fmap_max 512, resnet D, skip G",
        "steps_per_round": args.sg2_steps, "rounds": args.sg2_rounds,
        "lazy_regularisation": "R1 every 16 D steps, path length every 4 G steps (zoo's defaults)",
        "runs": runs,
    }


# -- part 4: quality per GPU-minute --------------------------------------------------------


def train_for(model, fit_inputs, seconds):
    limit = zoo.callbacks.TimeLimit(seconds)
    model.fit(**fit_inputs, epochs=1_000_000, callbacks=[limit], verbose=0)
    steps = int(model.g_optimizer.iterations)
    return {"train_seconds": round(limit.elapsed, 1), "steps": steps, "steps_per_second": steps / limit.elapsed}


def judge_for(train_images, train_labels, test_images, test_labels, hold_out_floor, epochs, seed):
    """The CPU benchmarks' judge: a domain classifier, its extractor, held-out accuracy and the FID floor."""
    start = time.perf_counter()
    floor_images = train_images[: len(test_images)]
    if hold_out_floor:  # mnist_cgan.py: the floor's digits are unseen by the judge
        judge_images, judge_labels = train_images[len(test_images):], train_labels[len(test_images):]
    else:  # stylegan2_mnist.py: the judge trains on all training digits
        judge_images, judge_labels = train_images, train_labels
    judge = zoo.metrics.train_domain_classifier(
        judge_images, judge_labels, num_classes=NUM_CLASSES, epochs=epochs, seed=seed, verbose=0
    )
    extractor = zoo.metrics.ClassifierExtractor(judge)
    accuracy = float(np.mean(extractor.probabilities(test_images).argmax(-1) == test_labels))
    floor = zoo.metrics.frechet_distance(extractor.features(floor_images), extractor.features(test_images))
    info = {"held_out_accuracy": accuracy, "fid_floor": floor, "seconds": round(time.perf_counter() - start, 1),
            "trained_on": f"{len(judge_images)} training digits"}
    return judge, extractor, info


def cgan_quality(args, data):
    train_images, train_labels, test_images, test_labels = data
    judge, extractor, judge_info = judge_for(
        train_images, train_labels, test_images, test_labels, True, args.classifier_epochs, args.seed
    )
    keras.utils.set_random_seed(args.seed)
    # mnist_cgan.py's zoo variant: conditional DCGAN-28, projection D, latent 64, base 64, batch 64.
    generator = zoo.nets.dcgan_generator(64, (28, 28, 1), 64, num_classes=NUM_CLASSES)
    discriminator = zoo.nets.dcgan_discriminator((28, 28, 1), 64, num_classes=NUM_CLASSES)
    model = zoo.models.ConditionalGAN(generator, discriminator, num_classes=NUM_CLASSES, seed=args.seed)
    model.compile()
    training = train_for(
        model, {"x": train_images, "y": train_labels, "batch_size": 64, "shuffle": True}, args.cgan_minutes * 60
    )
    rng = np.random.default_rng(args.seed)
    labels = test_labels[: args.num_samples]
    images = model.generate(rng.standard_normal((len(labels), 64)).astype("float32"), labels=labels)
    accuracy = zoo.metrics.conditional_accuracy(judge, images, labels)
    fid = zoo.metrics.frechet_distance(extractor.features(images), extractor.features(test_images))
    grid_labels = np.repeat(np.arange(NUM_CLASSES), 10).astype("int32")
    grid = model.generate(rng.standard_normal((100, 64)).astype("float32"), labels=grid_labels)
    scores = {
        "accuracy": accuracy["accuracy"], "worst_label_accuracy": accuracy["worst_label_accuracy"],
        "worst_label": accuracy["worst_label"], "fid": fid, "fid_over_floor": fid / judge_info["fid_floor"],
    }
    targets = {
        "accuracy": scores["accuracy"] >= TARGETS["cgan_accuracy"],
        "fid_over_floor": scores["fid_over_floor"] <= TARGETS["cgan_fid_over_floor"],
        "minutes": args.cgan_minutes <= TARGETS["cgan_minutes"],
    }
    print(f"quality cgan: {training['steps']} steps in {training['train_seconds']} s: accuracy "
          f"{scores['accuracy']:.4f}, worst label {scores['worst_label_accuracy']:.3f}, "
          f"FID {scores['fid']:.3f} = {scores['fid_over_floor']:.2f}x floor", flush=True)
    return {"minutes": args.cgan_minutes, "judge": judge_info, **training, **scores, "targets_met": targets}, grid


def stylegan2_quality(args, data32):
    train_images, train_labels, test_images, test_labels = data32
    judge, extractor, judge_info = judge_for(
        train_images, train_labels, test_images, test_labels, False, args.classifier_epochs, args.seed
    )
    keras.utils.set_random_seed(args.seed)
    # stylegan2_mnist.py's model: latent and w 64, 2-layer mapping, fmap_base 256, fmap_max 32,
    # R1 gamma 1, EMA half-life 2,000 images with ramp-up 0.05, batch 32.
    small = {"latent_dim": 16, "fmap_max": 8} if args.quick else {"latent_dim": 64, "fmap_max": 32}
    mapping = zoo.nets.style_mapping(latent_dim=small["latent_dim"], w_dim=small["latent_dim"], num_layers=2)
    nets = {"channels": 1, "fmap_base": 256, "fmap_max": small["fmap_max"]}
    synthesis = zoo.nets.stylegan2_synthesis(32, w_dim=small["latent_dim"], **nets)
    discriminator = zoo.nets.stylegan2_discriminator(32, mbstd_group_size=4, **nets)
    model = zoo.models.StyleGAN(mapping, synthesis, discriminator, r1_gamma=1.0, ema_half_life_images=2000.0,
                                ema_rampup=0.05, seed=args.seed)
    model.compile()
    batch = 8 if args.quick else 32
    training = train_for(model, {"x": train_images, "batch_size": batch, "shuffle": True}, args.sg2_minutes * 60)
    rng = np.random.default_rng(args.seed)
    z = rng.standard_normal((args.num_samples, model.latent_dim)).astype("float32")
    images = model.generate(z, batch_size=250)
    fid = zoo.metrics.frechet_distance(extractor.features(images), extractor.features(test_images))
    predicted = extractor.probabilities(images).argmax(-1)
    shares = np.bincount(predicted, minlength=NUM_CLASSES) / len(predicted)
    grid = model.generate(rng.standard_normal((100, model.latent_dim)).astype("float32"), batch_size=100)
    scores = {"fid": fid, "fid_over_floor": fid / judge_info["fid_floor"],
              "judged_digit_shares": [round(float(s), 4) for s in shares],
              "rarest_digit_share": float(shares.min())}
    print(f"quality stylegan2_32: {training['steps']} steps in {training['train_seconds']} s: "
          f"FID {fid:.3f} = {scores['fid_over_floor']:.2f}x floor; rarest digit {shares.min():.3f}", flush=True)
    return {"minutes": args.sg2_minutes, "judge": judge_info, **training, **scores}, grid


def quality_part(args):
    if not is_idx_folder(args.mnist):
        print(f"quality: no MNIST IDX folder at {args.mnist} (pass --mnist DIR); skipped", flush=True)
        return None
    train = _shared.mnist_arrays(args.mnist, "train")
    test = _shared.mnist_arrays(args.mnist, "test")
    train32 = _shared.mnist_arrays(args.mnist, "train", pad_to=32)
    test32 = _shared.mnist_arrays(args.mnist, "test", pad_to=32)
    if args.quick:
        train, test, train32, test32 = ((x[:600], y[:600]) if i % 2 == 0 else (x[:200], y[:200])
                                        for i, (x, y) in enumerate((train, test, train32, test32)))
    result = {"split": "MNIST test set: first 8,000 train, last 2,000 held out", "figures": {}}
    prefix = args.output.parent / args.output.stem
    for name, run, data, title in (
        ("cgan", cgan_quality, (*train, *test), "cGAN, row k: digit k"),
        ("stylegan2_32", stylegan2_quality, (*train32, *test32), "StyleGAN2-32 (EMA)"),
    ):
        try:
            result[name], grid = run(args, data)
        except Exception as error:  # keep the other model's result
            result[name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
            print(f"quality {name}: FAILED ({result[name]['error'][:300]})", flush=True)
            continue
        path = f"{prefix}_{name}.png"
        result["figures"][name] = str(zoo.plotting.save_grid(grid, path, num_rows=10, title=title))
    return result


# -- driver ----------------------------------------------------------------------------


def parse_list(text, known, what, parser):
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        parser.error(f"{what}: expected a comma-separated subset of {', '.join(known)}; got {text!r}")
    return names


def parse_args(argv):
    argv = list(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--mnist", default=None, help="MNIST IDX folder (default: $ZOO_SHARED_DATA/mnist or ../shared)")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="throughput configurations")
    parser.add_argument("--zoo-variants", default=",".join(ZOO_VARIANTS))
    parser.add_argument("--torch-variants", default=",".join(TORCH_VARIANTS))
    parser.add_argument("--torch-compile-cases", default="all",
                        help='cases ("dcgan64_b128", ...) that get the torch.compile variants; default all')
    parser.add_argument("--matmul-size", type=int, default=8192)
    parser.add_argument("--matmul-reps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50, help="timed steps per run")
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--data-batches", type=int, default=4, help="distinct batches resident on the device")
    parser.add_argument("--batch-scale", type=int, default=1, help="divide every batch size by this (smoke runs)")
    parser.add_argument("--sg2-resolutions", default="64,256")
    parser.add_argument("--sg2-precisions", default=",".join(SG2_PRECISIONS))
    parser.add_argument("--sg2-batch", type=int, default=32)
    parser.add_argument("--sg2-steps", type=int, default=16, help="a multiple of 16 amortises the lazy R1")
    parser.add_argument("--sg2-rounds", type=int, default=3)
    parser.add_argument("--cgan-minutes", type=float, default=1.0)
    parser.add_argument("--sg2-minutes", type=float, default=2.0)
    parser.add_argument("--classifier-epochs", type=int, default=12)
    parser.add_argument("--num-samples", type=int, default=2000, help="generated images scored")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="every part for a step or two with tiny sizes, on whatever device; own output file")
    parser.add_argument("--output", type=Path, default=None)
    if "--quick" in argv:  # tiny sizes, unless given on the command line
        parser.set_defaults(**QUICK)
    args = parser.parse_args(argv)
    args.parts = parse_list(args.parts, PARTS, "--parts", parser)
    args.configs = parse_list(args.configs, CONFIGS, "--configs", parser)
    args.zoo_variants = parse_list(args.zoo_variants, ZOO_VARIANTS, "--zoo-variants", parser)
    args.torch_variants = parse_list(args.torch_variants, TORCH_VARIANTS, "--torch-variants", parser)
    args.torch_compile_cases = [c for c in args.torch_compile_cases.split(",") if c]
    args.sg2_precisions = parse_list(args.sg2_precisions, SG2_PRECISIONS, "--sg2-precisions", parser)
    try:
        args.sg2_resolutions = [int(r) for r in str(args.sg2_resolutions).split(",") if r]
    except ValueError:
        parser.error(f"--sg2-resolutions: expected comma-separated powers of two, got {args.sg2_resolutions!r}")
    if args.mnist is None:
        args.mnist = _shared.mnist_dir()
    if args.output is None:
        args.output = RESULTS_DIR / (f"{BENCHMARK}_quick.json" if args.quick else f"{BENCHMARK}.json")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after a part has run
    torch_gan = _torch()
    env = environment(torch_gan)
    run_id = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(f"device: {env['jax_device']} ({env['jax_device_kind']}); torch: "
          f"{env['torch']['device'] if env['torch'] else 'not installed'}", flush=True)
    common = {
        "benchmark": BENCHMARK,
        "run": run_id,
        "command": "PYTHONPATH=. python3 benchmarks/accelerator.py " + shlex.join(argv),
        "quick": args.quick,
        "environment": env,
    }
    records, ceiling = {}, None
    for part in args.parts:
        start = time.perf_counter()
        if part == "peak":
            result = peak_part(args, torch_gan)
            ceiling = result["bf16_ceiling_tflops"]
        elif part == "throughput":
            result = throughput_part(args, torch_gan, ceiling)
        elif part == "stylegan2":
            result = stylegan2_part(args)
        else:
            result = quality_part(args)
        if result is None:
            continue
        record = {**common, "part": part, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"), "seconds": round(time.perf_counter() - start, 1), "result": result}
        record["environment"] = {**env, "tensorflow_imported": "tensorflow" in sys.modules}
        _shared.append_record(args.output, record, BENCHMARK)
        records[part] = record
        print(f"{part}: {record['seconds']:.0f} s, appended to {args.output}", flush=True)
    return records


if __name__ == "__main__":
    main()
