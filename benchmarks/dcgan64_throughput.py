"""Training throughput of the lecture's CelebA DCGAN-64: zoo's `GAN` against plain Keras.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/dcgan64_throughput.py
    PYTHONPATH=. .venv/bin/python benchmarks/dcgan64_throughput.py --runs 5 --steps 5 \
        --batch-size 32 --variants zoo,plain
    PYTHONPATH=. .venv/bin/python benchmarks/dcgan64_throughput.py --quick   # smoke check

Variants (all: latent 128, 64x64x3 images, Adam(1e-4) for both players, `fit`):
    plain     a keras.io-style GAN ("DCGAN to generate face images"): a `keras.Model`
              subclass with a `tf.GradientTape` `train_step` that scores real and fake
              images in one concatenated discriminator batch with noisy labels, float32.
    zoo       `zoo.models.GAN(keras_dcgan_generator(), keras_dcgan_discriminator())`, float32.
    zoo_bf16  the same built under the "mixed_bfloat16" policy. Only in the default list
              on CPUs with native bf16 (`avx512_bf16` or `amx_bf16` in /proc/cpuinfo).

Protocol:
    1. Every variant is built and compiled, then warmed up by a first `fit` call
       (`--warmup-steps` steps) that traces its train function; the time from the
       start of that call to the end of its first step is its "time to first step".
    2. Only then the timed runs start, interleaved: round 1 runs plain, zoo, ...; round 2
       runs them again in the same order, and so on, so that slow phases of a shared
       machine hit every variant alike. A run is one `fit` call of `--steps` steps on the
       same cached synthetic batches; images/s = steps * batch_size / time from the start
       of training to the end of the last step (the call's wall time is recorded too).
    3. Each round ends with a few timed 2048x2048 float32 `tf.linalg.matmul`s: this
       machine's practical fp32 ceiling, measured under the same load as the runs.
    4. Reported: per-run images/s, the median per variant, the ratio of medians against
       the plain baseline (and the median of the per-round ratios), and the share of the
       median matmul ceiling that a DCGAN-64 training step reaches.

FLOPs are counted analytically (`_flops.gan_step_flops`), not profiled.
Results are appended to a JSON file (`--output`), written atomically.
"""

import argparse
import contextlib
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import zoo  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _flops  # noqa: E402
import _shared  # noqa: E402
from _shared import has_native_bf16, machine_info  # noqa: E402
from _timing import StepClock, timed_fit  # noqa: E402

BENCHMARK = "dcgan64_throughput"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_OUTPUT = RESULTS_DIR / f"{BENCHMARK}.json"
# Smoke runs go to their own file so they never mix with real measurements.
QUICK_OUTPUT = RESULTS_DIR / f"{BENCHMARK}_quick.json"
LATENT_DIM = 128
LEARNING_RATE = 1e-4
BASELINE = "plain"


# -- the plain baseline -----------------------------------------------------------


def plain_discriminator(image_shape):
    return keras.Sequential(
        [
            keras.Input(image_shape),
            layers.Conv2D(64, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="plain_discriminator",
    )


def plain_generator(latent_dim, image_shape):
    side = image_shape[0] // 8
    return keras.Sequential(
        [
            keras.Input((latent_dim,)),
            layers.Dense(side * side * 128),
            layers.Reshape((side, side, 128)),
            layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(256, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(512, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(image_shape[-1], 5, padding="same", activation="sigmoid"),
        ],
        name="plain_generator",
    )


class PlainGAN(keras.Model):
    """The GAN a Keras user writes first, after the keras.io DCGAN face example.

    The discriminator scores fakes (label 1) and reals (label 0) in one concatenated
    batch, with a little uniform noise on the labels; the generator is trained to make
    the discriminator say 0. Benchmark-only: the zoo library never imports this.
    """

    def __init__(self, discriminator, generator, latent_dim, seed=None):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        # training=True everywhere (keras.io leaves it implicit) so that dropout runs
        # in both variants and the comparison is like for like.
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fake_images = self.generator(z, training=True)
        images = ops.concatenate([fake_images, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels = labels + 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(images, training=True))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading_labels = ops.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            scores = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.loss_fn(misleading_labels, scores)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


# -- variants -----------------------------------------------------------------------


@contextlib.contextmanager
def dtype_policy(name):
    """Builds layers under `name`; layers keep the policy they were built with."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def build_plain(image_shape, seed):
    generator = plain_generator(LATENT_DIM, image_shape)
    discriminator = plain_discriminator(image_shape)
    model = PlainGAN(discriminator, generator, LATENT_DIM, seed=seed)
    model.compile(
        d_optimizer=keras.optimizers.Adam(LEARNING_RATE),
        g_optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss_fn=keras.losses.BinaryCrossentropy(),
    )
    return model


def build_zoo(image_shape, seed):
    model = zoo.models.GAN(
        zoo.nets.keras_dcgan_generator(LATENT_DIM, image_shape),
        zoo.nets.keras_dcgan_discriminator(image_shape),
        seed=seed,
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(LEARNING_RATE),
        g_optimizer=keras.optimizers.Adam(LEARNING_RATE),
    )
    return model


# name -> (builder, dtype policy it is built under)
VARIANTS = {
    "plain": (build_plain, "float32"),
    "zoo": (build_zoo, "float32"),
    "zoo_bf16": (build_zoo, "mixed_bfloat16"),
}


def build_variant(name, image_shape, seed):
    builder, policy = VARIANTS[name]
    # Seeded alike, so zoo and zoo_bf16 start from the same weights.
    keras.utils.set_random_seed(seed)
    with dtype_policy(policy):
        return builder(image_shape, seed)


def matmul_gflops(a, b):
    """GFLOP/s of one `a @ b` (eager CPU ops return when the result is ready)."""
    start = time.perf_counter()
    c = tf.linalg.matmul(a, b)
    float(c[0, 0])
    seconds = time.perf_counter() - start
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / seconds / 1e9


# -- timing -------------------------------------------------------------------------


def synthetic_dataset(image_size, batch_size, num_batches, seed):
    """Uniform [-1, 1] images, batched, cached in memory and repeated."""
    images = tf.random.stateless_uniform(
        (num_batches * batch_size, image_size, image_size, 3),
        seed=(seed, 0),
        minval=-1.0,
        maxval=1.0,
    )
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(batch_size, drop_remainder=True)
    dataset = dataset.cache()
    # One full pass fills the cache, so every later `fit` reads the same cached batches.
    for _ in dataset:
        pass
    # Batches come from memory, so neither prefetch nor tf.data autotuning helps; with
    # autotuning on, tearing down the iterator at the end of every `fit` call waited for
    # the autotuning thread, 0.3 to 2.5 s here.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.repeat().with_options(options)


# -- machine and results ------------------------------------------------------------


def read_results(path):
    return _shared.read_results(path, BENCHMARK)


def append_record(path, record):
    _shared.append_record(path, record, BENCHMARK)


def warm_up(name, image_shape, dataset, warmup_steps, seed):
    """Builds, compiles and traces one variant; returns it and its first figures."""
    start = time.perf_counter()
    model = build_variant(name, image_shape, seed)
    build_seconds = time.perf_counter() - start
    timings = timed_fit(model, dataset, warmup_steps)
    figures = {
        "dtype_policy": VARIANTS[name][1],
        "jit_compile": bool(model.jit_compile),
        "parameters": model.generator.count_params() + model.discriminator.count_params(),
        "build_seconds": build_seconds,
        "time_to_first_step_seconds": timings["first_step_end_seconds"],
        "warmup_step_seconds": timings["step_seconds"],
        **_flops.gan_step_flops(model.generator, model.discriminator),
        "runs": [],
    }
    return model, figures


def summarise(results, ceiling, baseline):
    """Adds medians, ratios against `baseline` (or None) and ceiling shares in place."""
    base = [r["images_per_second"] for r in results[baseline]["runs"]] if baseline else None
    for v in results.values():
        per_run = [r["images_per_second"] for r in v["runs"]]
        v["median_images_per_second"] = statistics.median(per_run)
        v["achieved_gflop_per_second"] = (
            v["median_images_per_second"] * v["train_step_gflop_per_image"]
        )
        v["share_of_matmul_ceiling"] = v["achieved_gflop_per_second"] / ceiling
        v["ratio_of_medians"] = (
            v["median_images_per_second"] / statistics.median(base) if base else None
        )
        # Runs of one round share the machine's state, so their ratio is less noisy.
        v["median_of_round_ratios"] = (
            statistics.median([x / y for x, y in zip(per_run, base)]) if base else None
        )


def print_table(record):
    baseline = record["baseline"]
    matmul = record["matmul"]
    header = (
        f"{'variant':<10} {'img/s (median)':>14} {f'vs {baseline}' if baseline else 'ratio':>9} "
        f"{'1st step s':>10} {'GFLOP/s':>8} {'% matmul':>8}  img/s per run"
    )
    print(header)
    print("-" * len(header))
    for name, v in record["variants"].items():
        runs = " ".join(f"{r['images_per_second']:.2f}" for r in v["runs"])
        vs = "-" if v["ratio_of_medians"] is None else f"{v['ratio_of_medians']:.3f}"
        print(
            f"{name:<10} {v['median_images_per_second']:>14.2f} {vs:>9} "
            f"{v['time_to_first_step_seconds']:>10.1f} {v['achieved_gflop_per_second']:>8.1f} "
            f"{100 * v['share_of_matmul_ceiling']:>7.1f}%  {runs}"
        )
    gflop = next(iter(record["variants"].values()))["train_step_gflop_per_image"]
    print(
        f"fp32 matmul {matmul['size']}x{matmul['size']}: {matmul['median_gflop_per_second']:.1f} "
        f"GFLOP/s (median of {len(matmul['gflop_per_second'])}); "
        f"train step: {gflop:.2f} GFLOP/image (analytic)"
    )


# -- main ---------------------------------------------------------------------------


def parse_variants(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if not names or unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"expected distinct names from {', '.join(VARIANTS)}, got {text!r}"
        )
    return names


def parse_args(argv):
    default_variants = ["plain", "zoo"] + (["zoo_bf16"] if has_native_bf16() else [])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per variant (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="training steps per run (default 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    parser.add_argument(
        "--variants",
        type=parse_variants,
        default=default_variants,
        help=f"comma-separated, from {', '.join(VARIANTS)} (default {','.join(default_variants)})",
    )
    parser.add_argument(
        "--warmup-steps", type=int, default=1, help="untimed steps per variant (default 1)"
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=64,
        help="image side, divisible by 8 (default 64; smaller only for tests)",
    )
    parser.add_argument("--matmul-size", type=int, default=2048, help="matmul side (default 2048)")
    parser.add_argument(
        "--matmul-reps", type=int, default=3, help="timed matmuls per round (default 3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of data and weights (default 0)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"results JSON (default {DEFAULT_OUTPUT.relative_to(RESULTS_DIR.parent.parent)}; "
        f"with --quick {QUICK_OUTPUT.name})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 1 run of 1 step at batch size 4"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.steps, args.batch_size = 1, 1, 4
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT
    for name in ("runs", "steps", "batch_size", "warmup_steps", "matmul_size", "matmul_reps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    if args.image_size < 8 or args.image_size % 8:
        parser.error(f"--image-size must be a positive multiple of 8, got {args.image_size}")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    read_results(args.output)  # fail now rather than after the runs
    if "zoo_bf16" in args.variants and not has_native_bf16():
        print("note: no avx512_bf16/amx_bf16 on this CPU; zoo_bf16 runs on emulated bf16")
    image_shape = (args.image_size, args.image_size, 3)
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_before = os.getloadavg()
    keras.utils.set_random_seed(args.seed)
    dataset = synthetic_dataset(args.image_size, args.batch_size, 4, args.seed)

    # Every variant is built and traced before any timed run.
    models, results = {}, {}
    for name in args.variants:
        models[name], results[name] = warm_up(
            name, image_shape, dataset, args.warmup_steps, args.seed
        )
        print(
            f"{name}: built in {results[name]['build_seconds']:.1f} s, "
            f"first step after {results[name]['time_to_first_step_seconds']:.1f} s",
            flush=True,
        )
    shape = (args.matmul_size, args.matmul_size)
    lhs = tf.random.stateless_uniform(shape, seed=(args.seed, 1))
    rhs = tf.random.stateless_uniform(shape, seed=(args.seed, 2))
    matmul_gflops(lhs, rhs)  # warm-up
    matmul_runs = []

    for round_index in range(args.runs):
        for name in args.variants:
            timings = timed_fit(models[name], dataset, args.steps)
            run = {
                "round": round_index,
                "images_per_second": args.steps * args.batch_size / timings["loop_seconds"],
                "loop_seconds": timings["loop_seconds"],
                "fit_seconds": timings["fit_seconds"],
                "step_seconds": timings["step_seconds"],
            }
            results[name]["runs"].append(run)
            print(
                f"round {round_index + 1}/{args.runs} {name}: "
                f"{run['images_per_second']:.2f} images/s ({timings['loop_seconds']:.1f} s)",
                flush=True,
            )
        matmul_runs.extend(matmul_gflops(lhs, rhs) for _ in range(args.matmul_reps))

    baseline = BASELINE if BASELINE in results else None
    ceiling = statistics.median(matmul_runs)
    summarise(results, ceiling, baseline)
    record = {
        "benchmark": BENCHMARK,
        "date": date,
        "machine": machine_info(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "settings": {
            "runs": args.runs,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "warmup_steps": args.warmup_steps,
            "image_shape": list(image_shape),
            "latent_dim": LATENT_DIM,
            "learning_rate": LEARNING_RATE,
            "seed": args.seed,
            "quick": args.quick,
            "command": " ".join([Path(__file__).name, *argv]),
        },
        "protocol": (
            "variants built and warmed up first; timed runs interleaved round by round in "
            "the order of 'order'; images/s = steps * batch_size / loop_seconds of one fit call "
            "(start of training to end of its last step); "
            "medians over runs; matmul ceiling measured after every round"
        ),
        "flops_method": (
            "analytic: conv/dense MACs per image x 2 FLOPs per forward pass; forward+backward "
            "= 3 forward passes; per image and step: G 1+3 passes, D 2*3+2 passes"
        ),
        "order": list(args.variants),
        "baseline": baseline,
        "matmul": {
            "size": args.matmul_size,
            "dtype": "float32",
            "gflop_per_second": matmul_runs,
            "median_gflop_per_second": ceiling,
        },
        "variants": results,
    }
    append_record(args.output, record)
    print()
    print_table(record)
    print(f"results appended to {args.output}")
    return record


if __name__ == "__main__":
    main()
