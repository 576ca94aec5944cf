"""CPU times of the docs' examples: the numbers behind the time comments of docs/models.md and docs/cli.md.

Each time comment is named here (`CPU_TIME_*`, the placeholders the docs held before record 1) and
found by the code on its line (`ANCHORS`), so the script reruns on the docs as they are now.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/docs_examples.py --note "what else ran"   # about 30 minutes
    PYTHONPATH=. .venv/bin/python benchmarks/docs_examples.py --quick                  # smoke check

Protocol:
    blocks    every ```python block of docs/models.md whose code holds a `CPU_TIME_*` placeholder, read
              by `tests/test_docs_examples.py`'s `read_blocks`, and the one bash line of docs/cli.md
              with `CPU_TIME_DCGAN`. ZOO_SMOKE is unset: the code runs at its written scale.
    isolation one fresh Python process per block (this script with `--child`), in a scratch folder that
              holds a copy of the checkout's `saved_models/` (and `recipes/`, `dev.py` linked), the
              block's code executed as written; `<!-- example: tfds -->` blocks under
              `tfds.testing.mock_data(num_examples=--mock-examples)`.
    phase 1   (estimate) `zoo.models.base.MultiOptimizerModel.fit` is patched: it runs the requested
              fit with epochs=1 and steps_per_epoch=min(steps in an epoch, --steps), timing each batch
              with a callback (on_train_batch_begin -> on_train_batch_end). It records the steps an
              epoch really has (steps_per_epoch if given, else the dataset's cardinality or len, else
              ceil(N / batch_size) for arrays; for the WGAN-GP block the real Fashion-MNIST's
              60000 // (5 * 64) = 187, not the mock's count), the requested epochs, the first (tracing)
              step, and the median of the steps after the first 2. The estimate is
                  first + median x (steps_per_epoch x epochs - 1)                    ("brief formula")
              and, as quoted, that plus the measured per-epoch overhead (epoch begin -> first batch,
              last batch -> on_epoch_end of the last callback, where e.g. GANDiagnostics works) x
              epochs plus the one-off setup and teardown of the fit call ("with overheads").
    timed     functions that are expensive in their own right are wrapped with timers and run at full
              scale in both phases: `zoo.projection.project`, `zoo.metrics.perceptual_path_length`,
              `zoo.metrics.train_domain_classifier`, `zoo.models.VAE.log_likelihood`,
              `zoo.export.export_style_generator`, `zoo.export.export_translator`.
    phase 2   (measured) blocks whose fit estimate is under --full-under seconds (3 minutes) run again
              unpatched in their timing, at full scale (all epochs), the fit timed wall-clock; skipped,
              keeping the estimate, when --budget-minutes would be overrun. tfds blocks never run at
              full scale (the mock is not Fashion-MNIST).
    cli       the docs/cli.md line, for real, as a subprocess of `.venv/bin/zoo` in a scratch folder
              with a copy of `saved_models/`, timed wall-clock from start to exit.
    load      `uptime` and the busiest processes (`ps`) at the start and end, the load average around
              every child; other runs on the machine (tests, benchmarks) are recorded, not stopped.
Results are appended to benchmarks/results/docs_examples.json (one record a run): per placeholder the
docs line, measured or estimated, the seconds, and how.
"""

import argparse
import datetime
import inspect
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARK = "docs_examples"
ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
MODELS_DOC = ROOT / "docs" / "models.md"
CLI_DOC = ROOT / "docs" / "cli.md"
# Each timed comment of the docs, by a piece of the code on its line.
ANCHORS = {
    "CPU_TIME_CGAN": "cgan.fit(", "CPU_TIME_WGAN": "wgan.fit(", "CPU_TIME_VAE": "vae.fit(",
    "CPU_TIME_VAE_LL": "vae.log_likelihood(", "CPU_TIME_PIX2PIX": "model.fit(pairs, epochs=5)",
    "CPU_TIME_CYCLE": "cycle.fit(", "CPU_TIME_COLOUR": "colouriser.fit(", "CPU_TIME_STYLEGAN": "stylegan.fit(",
    "CPU_TIME_PROJECT": "zoo.projection.project(", "CPU_TIME_PPL": "num_samples=2_000)",
    "CPU_TIME_DCGAN": "zoo train dcgan --dataset digits --epochs 25 --batch-size 64",
}


class _Anchors:
    """`findall(text)`: the names of the timed comments whose code is in `text` (the regex it replaced)."""

    @staticmethod
    def findall(text):
        return [name for name, anchor in ANCHORS.items() if anchor in text]


PLACEHOLDER = _Anchors()
# Steps an epoch has on the real data where the block runs on a stand-in (tfds' mock).
REAL_STEPS = {"CPU_TIME_WGAN": (60000 // (5 * 64), "the real Fashion-MNIST train split: 60000 // (5 * 64) = 187 "
                                                   "steps an epoch (the mock's count is not used)")}
# Placeholders that time a function rather than the block's fit.
TIMED_PLACEHOLDERS = {"CPU_TIME_VAE_LL": "VAE.log_likelihood", "CPU_TIME_PROJECT": "project",
                      "CPU_TIME_PPL": "perceptual_path_length"}
TIMED = [("zoo.projection", "project"), ("zoo.metrics", "perceptual_path_length"),
         ("zoo.metrics", "train_domain_classifier"), ("zoo.models", "VAE.log_likelihood"),
         ("zoo.export", "export_style_generator"), ("zoo.export", "export_translator")]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12, help="K: steps of the patched fit (estimate phase)")
    parser.add_argument("--full-under", type=float, default=180.0,
                        help="run a block at full scale when its fit estimate is under this many seconds")
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="no full-scale run that would overrun this")
    parser.add_argument("--mock-examples", type=int, default=4000, help="tfds.testing.mock_data's num_examples")
    parser.add_argument("--only", default="", help="comma-separated placeholders (e.g. CPU_TIME_CGAN); default all")
    parser.add_argument("--no-full", action="store_true", help="estimates only, no phase 2")
    parser.add_argument("--no-cli", action="store_true", help="skip the docs/cli.md line")
    parser.add_argument("--note", default="", help="what else ran on the machine, recorded as given")
    parser.add_argument("--quick", action="store_true", help="seconds: the cGAN block, 3 steps, no full runs, no CLI")
    parser.add_argument("--output", type=Path, default=None)
    # internal: one block in this process
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("estimate", "full"), default="estimate", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.only, args.no_full, args.no_cli = 3, args.only or "CPU_TIME_CGAN", True, True
    if args.steps < 3:
        raise ValueError(f"--steps must be at least 3 (the median skips the first 2), got {args.steps}")
    if args.output is None:
        args.output = RESULTS_DIR / f"{BENCHMARK}{'_quick' if args.quick else ''}.json"
    return args


def docs_blocks():
    sys.path.insert(0, str(ROOT / "tests"))
    import test_docs_examples

    return test_docs_examples


# -- the child: one block in this process ------------------------------------------------------


class StepTimer:
    """A Keras callback (built lazily: keras is imported in the child only) that timestamps every batch."""

    @staticmethod
    def make():
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.steps, self.epoch_begin, self.epoch_end, self.first_batch, self.last_batch = [], [], [], [], []
                self.epoch_last_batch = []  # the end of each epoch's last batch
                self._begin = None

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch_begin.append(time.perf_counter())
                self.first_batch.append(None)

            def on_train_batch_begin(self, batch, logs=None):
                self._begin = time.perf_counter()
                if self.first_batch and self.first_batch[-1] is None:
                    self.first_batch[-1] = self._begin

            def on_train_batch_end(self, batch, logs=None):
                end = time.perf_counter()
                self.steps.append(end - self._begin)
                self.last_batch.append(end)

            def on_epoch_end(self, epoch, logs=None):
                self.epoch_end.append(time.perf_counter())
                self.epoch_last_batch.append(self.last_batch[-1] if self.last_batch else None)

        return _Timer()


def count_steps(x, batch_size, steps_per_epoch):
    """Steps one epoch of `fit(x, batch_size=..., steps_per_epoch=...)` really has, and how that was read."""
    if steps_per_epoch:
        return int(steps_per_epoch), "steps_per_epoch as given"
    import numpy as np

    try:
        import tensorflow as tf

        if isinstance(x, tf.data.Dataset):
            cardinality = int(x.cardinality())
            if cardinality > 0:
                return cardinality, "tf.data cardinality"
            return sum(1 for _ in x), "counted by iterating the dataset once (unknown cardinality)"
    except ImportError:
        pass
    if hasattr(x, "__len__") and not isinstance(x, (np.ndarray, list, tuple, dict)):
        return len(x), "len of the dataset"
    first = x[0] if isinstance(x, (list, tuple)) else next(iter(x.values())) if isinstance(x, dict) else x
    size = batch_size or 32
    return math.ceil(len(first) / size), f"ceil({len(first)} / batch_size {size}) for arrays"


def median_after(steps, skip=2):
    rest = steps[skip:]
    return statistics.median(rest) if rest else None


def child(args):
    """Runs the block named `args.child` (file:line) with fit patched (estimate) or timed (full); writes a JSON report."""
    import importlib

    import keras

    from zoo.models import base

    t = docs_blocks()
    path_text, _, line = args.child.rpartition(":")
    (block,) = [b for b in t.read_blocks(ROOT / path_text) if b.line == int(line)]
    placeholders = PLACEHOLDER.findall(block.code)
    override = next((REAL_STEPS[p] for p in placeholders if p in REAL_STEPS), None)
    fits, calls = [], []
    original_fit = base.MultiOptimizerModel.fit

    def timed_fit(self, *fit_args, **fit_kwargs):
        bound = inspect.signature(keras.Model.fit).bind(self, *fit_args, **fit_kwargs).arguments
        del bound["self"]
        bound.update(bound.pop("kwargs", {}))
        epochs = bound.get("epochs", 1)
        steps, how = count_steps(bound.get("x"), bound.get("batch_size"), bound.get("steps_per_epoch"))
        counted = {"steps_in_epoch_of_data_run": steps, "how": how}
        if override is not None:
            steps, how = override
        timer = StepTimer.make()
        bound["callbacks"] = [*(bound.get("callbacks") or []), timer]
        if args.mode == "estimate":
            bound["epochs"], bound["steps_per_epoch"] = 1, min(steps, args.steps)
        start = time.perf_counter()
        history = original_fit(self, **bound)
        end = time.perf_counter()
        first, median = timer.steps[0], median_after(timer.steps)
        total_steps = steps * epochs
        per_epoch = statistics.median(
            (b - a) + (c - d) for a, b, c, d in zip(timer.epoch_begin, timer.first_batch, timer.epoch_end,
                                                    timer.epoch_last_batch) if b is not None and d is not None)
        one_off = (timer.epoch_begin[0] - start) + (end - timer.epoch_end[-1])
        gaps = [b - a for a, b in zip(timer.epoch_end, timer.epoch_begin[1:])]  # metric resets etc.; none in 1 epoch
        entry = {
            "model": type(self).__name__, "mode": args.mode, "requested_epochs": epochs,
            "steps_in_an_epoch": steps, "steps_counted_how": how, **({"data_run": counted} if override else {}),
            "total_steps": total_steps, "steps_run": len(timer.steps), "epochs_run": len(timer.epoch_end),
            "first_step_s": round(first, 3),
            "median_step_after_2_s": None if median is None else round(median, 5),
            "mean_step_after_2_s": round(statistics.fmean(timer.steps[2:]), 5) if timer.steps[2:] else None,
            "steps_after_2": len(timer.steps[2:]),
            "first_60_steps_s": [round(step, 4) for step in timer.steps[:60]],
            "per_epoch_overhead_s": round(per_epoch, 3),
            "between_epochs_median_s": round(statistics.median(gaps), 3) if gaps else None, "one_off_setup_teardown_s": round(one_off, 3),
            "fit_wall_s": round(end - start, 2),
        }
        if median is not None:
            brief = first + median * (total_steps - 1)
            entry["estimate_brief_formula_s"] = round(brief, 1)
            entry["estimate_with_overheads_s"] = round(brief + per_epoch * epochs + one_off, 1)
            entry["estimate_with_overheads_mean_step_s"] = round(
                first + entry["mean_step_after_2_s"] * (total_steps - 1) + per_epoch * epochs + one_off, 1)
        print(f"[docs_examples] fit { {k: v for k, v in entry.items() if k != 'first_60_steps_s'} }", flush=True)
        fits.append(entry)
        return history

    base.MultiOptimizerModel.fit = timed_fit

    def wrap(owner, attribute, label):
        function = getattr(owner, attribute)

        def timed(*a, **k):
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                seconds = time.perf_counter() - start
                calls.append({"function": label, "seconds": round(seconds, 2),
                              "kwargs": {key: value for key, value in k.items()
                                         if isinstance(value, (int, float, str, bool))}})
                print(f"[docs_examples] {label}: {seconds:.1f} s", flush=True)

        setattr(owner, attribute, timed)

    for module_name, dotted in TIMED:
        owner = importlib.import_module(module_name)
        *outer, attribute = dotted.split(".")
        for name in outer:
            owner = getattr(owner, name)
        wrap(owner, attribute, dotted)

    started = time.perf_counter()
    code = compile(block.code, block.name, "exec")
    if block.kind == "tfds":
        import tensorflow_datasets as tfds

        with tfds.testing.mock_data(num_examples=args.mock_examples):
            exec(code, {"__name__": "__main__"})
    else:
        exec(code, {"__name__": "__main__"})
    report = {"block": block.name, "kind": block.kind, "placeholders": placeholders, "mode": args.mode, "code": block.code,
              "exec_wall_s": round(time.perf_counter() - started, 1), "fits": fits, "timed_calls": calls}
    args.report.write_text(json.dumps(report, indent=2))


# -- the parent ----------------------------------------------------------------------------------


def scratch_folder():
    folder = Path(tempfile.mkdtemp(prefix="docs_examples_"))
    shutil.copytree(ROOT / "saved_models", folder / "saved_models")
    for name in ("recipes", "dev.py"):
        if (ROOT / name).exists():
            (folder / name).symlink_to(ROOT / name)
    return folder


def child_environment():
    env = {key: value for key, value in os.environ.items() if key != "ZOO_SMOKE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_child(block, mode, args, log_dir):
    folder = scratch_folder()
    report = folder / "report.json"
    name = f"{block.path.relative_to(ROOT)}:{block.line}"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--mode", mode, "--report", str(report),
               "--steps", str(args.steps), "--mock-examples", str(args.mock_examples)]
    load_before = list(os.getloadavg())
    start = time.perf_counter()
    print(f"== {name} ({mode}) {datetime.datetime.now():%H:%M:%S}", flush=True)
    log_path = log_dir / f"{name.replace('/', '_').replace(':', '_')}_{mode}.log"
    with open(log_path, "w") as log:
        result = subprocess.run(command, cwd=folder, env=child_environment(), stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    out = {"mode": mode, "process_wall_s": round(wall, 1), "returncode": result.returncode,
           "load_average_before": load_before, "load_average_after": list(os.getloadavg())}
    if result.returncode == 0 and report.exists():
        out.update(json.loads(report.read_text()))
    else:
        out["log_tail"] = log_path.read_text()[-3000:]
    shutil.rmtree(folder, ignore_errors=True)
    print(f"   {wall:.1f} s, rc {result.returncode}", flush=True)
    return out


def run_cli(args, log_dir):
    (line, argv), = [(line, argv) for block in docs_blocks().read_blocks(CLI_DOC) if block.language == "bash"
                     for line, argv in docs_blocks().shell_commands(block)
                     if PLACEHOLDER.findall(CLI_DOC.read_text().splitlines()[line - 1]) == ["CPU_TIME_DCGAN"]]
    folder = scratch_folder()
    command = [str(Path(sys.executable).parent / "zoo"), *argv[1:]]
    load_before = list(os.getloadavg())
    print(f"== {CLI_DOC.relative_to(ROOT)}:{line} {shlex.join(argv)} {datetime.datetime.now():%H:%M:%S}", flush=True)
    start = time.perf_counter()
    with open(log_dir / "cli_dcgan.log", "w") as log:
        result = subprocess.run(command, cwd=folder, env=child_environment(), stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    shutil.rmtree(folder, ignore_errors=True)
    print(f"   {wall:.1f} s, rc {result.returncode}", flush=True)
    return {"docs_line": f"{CLI_DOC.relative_to(ROOT)}:{line}", "command": shlex.join(argv), "returncode": result.returncode,
            "wall_s": round(wall, 1), "load_average_before": load_before, "load_average_after": list(os.getloadavg()),
            **({} if result.returncode == 0 else {"log_tail": (log_dir / "cli_dcgan.log").read_text()[-3000:]})}


def machine_load():
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    ps = subprocess.run(["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True).stdout
    busy = [row[:200] for row in ps.splitlines()[1:] if row.split(None, 2)[1] != "0.0"][:8]
    return {"uptime": uptime, "busiest_processes": busy}


def placeholder_results(block, estimate, full):
    """One entry per placeholder of the block: the measured or estimated seconds, and how."""
    lines = block.code.splitlines()
    entries = []
    for offset, text in enumerate(lines):
        for placeholder in PLACEHOLDER.findall(text):
            entry = {"placeholder": placeholder, "docs_line": f"{block.path.relative_to(ROOT)}:{block.line + 1 + offset}"}
            if placeholder in TIMED_PLACEHOLDERS:
                label = TIMED_PLACEHOLDERS[placeholder]
                source = full if full and full.get("returncode") == 0 else estimate
                seconds = [c["seconds"] for c in source.get("timed_calls", []) if c["function"] == label]
                entry.update(how=f"measured: `{label}` at full scale, timed wall-clock ({source['mode']} run)",
                             kind="measured", seconds=seconds[0] if seconds else None)
            elif full and full.get("returncode") == 0 and full.get("fits"):
                fit = full["fits"][0]
                entry.update(kind="measured", seconds=fit["fit_wall_s"],
                             how=f"measured: the full fit ({fit['requested_epochs']} epochs x {fit['steps_in_an_epoch']} "
                                 "steps) timed wall-clock",
                             median_step_s=fit["median_step_after_2_s"], first_step_s=fit["first_step_s"],
                             phase1_estimate_s=estimate["fits"][0].get("estimate_with_overheads_s")
                             if estimate.get("fits") else None)
            elif estimate.get("fits"):
                fit = estimate["fits"][0]
                entry.update(kind="estimated", seconds=fit.get("estimate_with_overheads_s"),
                             seconds_brief_formula=fit.get("estimate_brief_formula_s"),
                             how=f"estimated from {fit['steps_run']} steps: first step {fit['first_step_s']} s + median "
                                 f"{fit['median_step_after_2_s']} s x ({fit['steps_in_an_epoch']} steps x "
                                 f"{fit['requested_epochs']} epochs - 1) + per-epoch overhead "
                                 f"{fit['per_epoch_overhead_s']} s x {fit['requested_epochs']} + setup "
                                 f"{fit['one_off_setup_teardown_s']} s"
                                 + (f"; {REAL_STEPS[placeholder][1]}" if placeholder in REAL_STEPS else ""))
            else:
                entry.update(kind="failed", seconds=None, how="the block did not run; see the log tail")
            entries.append(entry)
    return entries


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    if args.child:
        child(args)
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _shared

    _shared.read_results(args.output, BENCHMARK)
    started = time.perf_counter()
    load_at_start = machine_load()
    log_dir = Path(tempfile.mkdtemp(prefix="docs_examples_logs_"))
    print(f"logs in {log_dir}", flush=True)
    only = {p for p in args.only.split(",") if p}
    blocks = [block for block in docs_blocks().read_blocks(MODELS_DOC)
              if block.language == "python" and block.kind != "skip" and PLACEHOLDER.findall(block.code)
              and (not only or only & set(PLACEHOLDER.findall(block.code)))]
    estimates = {block.line: run_child(block, "estimate", args, log_dir) for block in blocks}

    cli = None
    if not args.no_cli and (not only or "CPU_TIME_DCGAN" in only):
        cli = run_cli(args, log_dir)

    fulls, skipped = {}, {}
    for block in blocks:
        estimate = estimates[block.line]
        fit = (estimate.get("fits") or [{}])[0]
        guess = fit.get("estimate_with_overheads_s")
        if args.no_full or guess is None:
            continue
        if block.kind == "tfds":
            skipped[block.line] = "tfds block: the mock is not the real dataset"
            continue
        if guess >= args.full_under:
            skipped[block.line] = f"fit estimate {guess:.0f} s >= {args.full_under:.0f} s"
            continue
        block_guess = estimate["process_wall_s"] - fit["fit_wall_s"] + guess
        elapsed = time.perf_counter() - started
        if elapsed + 1.2 * block_guess > args.budget_minutes * 60:
            skipped[block.line] = f"budget: {elapsed:.0f} s spent, the full block needs about {block_guess:.0f} s"
            continue
        fulls[block.line] = run_child(block, "full", args, log_dir)

    placeholders = [entry for block in blocks
                    for entry in placeholder_results(block, estimates[block.line], fulls.get(block.line))]
    if cli is not None:
        placeholders.append({"placeholder": "CPU_TIME_DCGAN", "docs_line": cli["docs_line"], "kind": "measured",
                             "seconds": cli["wall_s"] if cli["returncode"] == 0 else None,
                             "how": "measured: the command run for real (subprocess of .venv/bin/zoo in a scratch "
                                    "folder with a copy of saved_models/), wall-clock from start to exit"})
    for entry in placeholders:
        print(f"{entry['placeholder']:>20}  {entry['docs_line']:<20} {entry['kind']:<9} {entry['seconds']} s", flush=True)
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONPATH=. .venv/bin/python benchmarks/docs_examples.py " + shlex.join(argv),
        "machine": _shared.machine_info(),
        "lscpu_model_name": next((row.split(":", 1)[1].strip() for row in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if row.startswith("Model name")), None),
        "load": {"start": load_at_start, "end": machine_load()},
        "note": args.note,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                     if k not in ("child", "mode", "report")},
        "placeholders": placeholders,
        "blocks": [{"block": f"{b.path.relative_to(ROOT)}:{b.line}", "estimate_run": estimates[b.line],
                    **({"full_run": fulls[b.line]} if b.line in fulls else {}),
                    **({"full_run_skipped": skipped[b.line]} if b.line in skipped else {})} for b in blocks],
        "cli": cli,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    _shared.append_record(args.output, record, BENCHMARK)
    return record


if __name__ == "__main__":
    main()
