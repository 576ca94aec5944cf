"""Fixtures of the metric tests: the PyTorch references, run in a process of their own."""

import os
import subprocess
import sys

import numpy as np
import pytest

REFERENCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_references.py")


def run_references(task, folder, **arrays):
    """Runs `torch_references.py TASK` on `arrays`; its outputs as a dict (skips without torch)."""
    source, target = os.path.join(folder, f"{task}_in.npz"), os.path.join(folder, f"{task}_out.npz")
    np.savez(source, **arrays)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, REFERENCES, task, source, target], capture_output=True, text=True, env=env)
    if done.returncode == 3:
        pytest.skip(done.stdout.strip())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    with np.load(target) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture
def torch_references(tmp_path):
    """`references(task, **arrays)`: `run_references` in this test's temporary folder."""
    return lambda task, **arrays: run_references(task, str(tmp_path), **arrays)


@pytest.fixture(scope="session")
def run_torch_references():
    """`run_references` itself, for fixtures of a wider scope that pass their own folder."""
    return run_references
