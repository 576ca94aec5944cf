#!/usr/bin/env python3
"""Set-up and the project's jobs, with nothing but Python 3.10+ on the machine.

    python3 dev.py demo    # venv + install, train DCGAN on embedded digits, sample grid, export
    python3 dev.py test    # venv + install, the test suite on TensorFlow, then tests/{steps,engine,jax} on JAX
                           # (slow tests: --slow; one backend: --backend jax|tensorflow)
    python3 dev.py bench   # venv + install, run the benchmarks (results in benchmarks/results/)
    python3 dev.py shipped # venv + install, remake and score the exports shipped in saved_models/

The virtualenv is `.venv/` beside this file; it is (re)installed when
setup.cfg or pyproject.toml change. Extra arguments after `test` go to pytest.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
BIN = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin")
PYTHON = os.path.join(BIN, "python")
STAMP = os.path.join(VENV, ".zoo-installed")
# What `pip install -e .[test]` puts in .venv (measured on Linux x86_64 at 8.4 GB, of which
# PyTorch's CUDA libraries are 4 GB), with room for pip's own temporary files.
INSTALL_GB = 9

DEMO = {
    "model": "dcgan",
    "dataset": "digits",
    "epochs": "25",
    "batch_size": "64",
    "base_filters": "32",
    "run_dir": os.path.join("runs", "demo"),
    "export": "digits_dcgan",
}


def run(command, **kwargs):
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)


def install_fingerprint():
    digest = hashlib.sha256()
    for name in ("setup.cfg", "pyproject.toml"):
        with open(os.path.join(ROOT, name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def ensure_installed():
    if sys.version_info < (3, 10):
        sys.exit(f"zoo needs Python >= 3.10; this is {sys.version.split()[0]}")
    fingerprint = install_fingerprint()
    if os.path.exists(PYTHON) and os.path.exists(STAMP) and open(STAMP).read() == fingerprint:
        return
    try:
        if not os.path.exists(PYTHON):
            print(f"creating virtualenv {VENV}", flush=True)
            venv.create(VENV, with_pip=True)
        run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[test]"])
    except (subprocess.CalledProcessError, OSError) as error:
        sys.exit(install_failure(error))
    with open(STAMP, "w") as f:
        f.write(fingerprint)


def install_failure(error):
    """The message for a failed install; names the disk when it is short of space for what is still to come."""
    if isinstance(error, subprocess.CalledProcessError):
        message = f"installing zoo into {VENV} failed (pip exited with {error.returncode}); pip's output is above"
    else:
        message = f"creating the virtualenv {VENV} failed ({error})"
    free_gb = shutil.disk_usage(VENV if os.path.isdir(VENV) else ROOT).free / 1e9
    still_needed_gb = INSTALL_GB - folder_size(VENV) / 1e9  # a reinstall finds most of it there already
    if free_gb < still_needed_gb:
        message += (
            f".\nThe disk that holds {VENV} has {free_gb:.1f} GB free, and the install with the test "
            f"extras (TensorFlow, PyTorch with its CUDA libraries, JAX) takes about {INSTALL_GB} GB in all: "
            "free some space (old clones and their .venv folders are the usual culprits) and run this again."
        )
    return message


def folder_size(path):
    """Bytes in the files under `path` (links not followed)."""
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}


def demo(args):
    start = time.time()
    zoo = os.path.join(BIN, "zoo")
    d = DEMO
    run(
        [zoo, "train", d["model"], "--dataset", d["dataset"], "--epochs", d["epochs"],
         "--batch-size", d["batch_size"], "--base-filters", d["base_filters"], "--run-dir", d["run_dir"], "--export", d["export"],
         "--precision", "auto", "--quiet", *args],
        env=env(),
    )
    grid = os.path.join(d["run_dir"], "samples", "latest.png")
    export_base = os.path.join("saved_models", d["export"])
    run([zoo, "sample", "--export", export_base, "--output", os.path.join(d["run_dir"], "export_samples.png")], env=env())
    versions = sorted((v for v in os.listdir(os.path.join(ROOT, export_base)) if v.isdigit()), key=int)
    run([os.path.join(BIN, "saved_model_cli"), "show", "--dir", os.path.join(export_base, versions[-1]), "--all"],
        env=env(), stdout=subprocess.DEVNULL)
    print(f"\ndemo done in {time.time() - start:.0f} s:\n  sample grid  {grid}\n"
          f"  export       {os.path.join(export_base, versions[-1])} (saved_model_cli reads it)\n"
          f"  from export  {os.path.join(d['run_dir'], 'export_samples.png')}")


# The tests that run on every backend (the training steps, the model harness, the
# engine) and those of the JAX backend itself (tests/jax, collected on JAX only); the
# rest of the suite runs on TensorFlow, and its tests/backends start JAX processes
# without TensorFlow.
BACKEND_TESTS = [os.path.join("tests", name) for name in ("steps", "engine", "jax")]


def test(args):
    pytest_args = list(args)
    backends = ["tensorflow", "jax"]
    if "--backend" in pytest_args:
        i = pytest_args.index("--backend")
        backends = [pytest_args[i + 1]]
        del pytest_args[i : i + 2]
    if "--slow" in pytest_args:
        pytest_args.remove("--slow")
        pytest_args += ["-m", "slow or not slow"]
    # Two worker processes: most test time is graph building in Python, which
    # one process cannot spread over two cores.
    workers = [] if any(a == "-n" or a.startswith("-n") for a in pytest_args) else ["-n", "2"]
    chosen = [a for a in pytest_args if not a.startswith("-") and os.path.exists(os.path.join(ROOT, a.split("::")[0]))]
    for backend in backends:
        paths = []
        if backend != "tensorflow" and not chosen:
            paths = BACKEND_TESTS  # the default run: the backend-agnostic part again on JAX
        print(f"== pytest on the {backend} backend", flush=True)
        run([PYTHON, "-m", "pytest", "-q", *workers, *pytest_args, *paths], env={**env(), "KERAS_BACKEND": backend})
        if chosen and "--backend" not in args:
            break  # explicit tests: TensorFlow only, unless a backend is named


def bench(args):
    bench_dir = os.path.join(ROOT, "benchmarks")
    scripts = sorted(f for f in os.listdir(bench_dir) if f.endswith(".py") and not f.startswith("_"))
    for script in scripts:
        run([PYTHON, os.path.join("benchmarks", script), *args], env={**env(), "PYTHONPATH": ROOT})


def shipped(args):
    # Trains each shipped export with the exact command in benchmarks/shipped_exports.py
    # (about 15 CPU-minutes), replaces saved_models/<name>/1 and scores every export.
    run([PYTHON, os.path.join("benchmarks", "shipped_exports.py"), "--make", "--force", *args],
        env={**env(), "PYTHONPATH": ROOT})


JOBS = {"demo": demo, "test": test, "bench": bench, "shipped": shipped}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in JOBS:
        print(__doc__)
        sys.exit(f"usage: python3 dev.py {{{','.join(JOBS)}}} [args...]")
    ensure_installed()
    try:
        JOBS[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode or 1)


if __name__ == "__main__":
    main()
