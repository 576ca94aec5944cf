"""Test set-up shared by every test: quiet TensorFlow, two logical CPUs, seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Two logical CPU devices let MirroredStrategy tests run two replicas; this
# must happen before TensorFlow initialises its devices.
_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
except RuntimeError:
    pass


_TESTS_SINCE_GC = [0]
GC_EVERY = 50  # tests between full garbage collections


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from the same seeds and the float32 policy.

    Keras' global state is cleared after each test, but Python's full garbage
    collection (what `clear_session()` adds by default) runs only every
    `GC_EVERY` tests: with TensorFlow's object graph in the heap it costs 0.3 to 2 s
    a time, which was a third of the suite's time when it ran after every test.
    """
    keras.utils.set_random_seed(1234)
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")
    _TESTS_SINCE_GC[0] += 1
    collect = _TESTS_SINCE_GC[0] >= GC_EVERY
    if collect:
        _TESTS_SINCE_GC[0] = 0
    keras.backend.clear_session(free_memory=collect)


# tests/jax/ holds tests of the JAX backend itself, run in-process by the JAX pass of
# `python3 dev.py test` (KERAS_BACKEND=jax); on TensorFlow there is nothing to collect.
collect_ignore_glob = [] if keras.backend.backend() == "jax" else ["jax/*"]

_STRATEGY = []


@pytest.fixture
def two_replicas():
    """One MirroredStrategy over two logical CPUs for the whole session.

    Several MirroredStrategy objects in one process reuse collective instance
    keys and abort each other's all-reduces, so every test shares this one.
    """
    devices = tf.config.list_logical_devices("CPU")
    if len(devices) < 2:
        pytest.skip("needs two logical CPU devices")
    if not _STRATEGY:
        _STRATEGY.append(tf.distribute.MirroredStrategy([d.name for d in devices[:2]]))
    return _STRATEGY[0]


@pytest.fixture
def run_without_zoo(tmp_path):
    """Runs a script in a fresh interpreter in which importing zoo is impossible.

    `run(script_text, *args)` writes the script to `tmp_path`, runs it there
    with `args`, and returns the JSON object its last output line holds.
    """
    import json
    import subprocess
    import sys

    def run(script_text, *args):
        script = tmp_path / "fresh_process.py"
        script.write_text('import sys\nsys.modules["zoo"] = None\n' + script_text)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        result = subprocess.run(
            [sys.executable, str(script), *map(str, args)],
            capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    return run


def _shared_mnist_dir():
    from pathlib import Path

    root = os.environ.get("ZOO_SHARED_DATA")
    shared = Path(root) if root else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return shared / "mnist"


def _write_mnist_idx(folder, count=10_000):
    """An MNIST IDX folder (uncompressed) of `count` patterned 28x28 digits with labels 0-9 in turn."""
    import struct

    import numpy as np

    images = ((np.arange(count)[:, None, None] * 7 + np.arange(28)[:, None] * 3 + np.arange(28)) % 256).astype(np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
        (folder / name).write_bytes(header + array.tobytes())
    return folder


@pytest.fixture
def write_mnist_idx():
    """`write(folder, count=10_000) -> folder`: writes MNIST-shaped IDX files that no one needs to download."""
    return _write_mnist_idx


@pytest.fixture
def mnist_idx_or_stand_in(tmp_path_factory):
    """The real MNIST test split's IDX folder where `shared_mnist` finds it; elsewhere (CI, a user's
    clone) a folder of MNIST-shaped stand-ins from `write_mnist_idx`, so what reads IDX files still runs."""
    directory = _shared_mnist_dir()
    if (directory / "t10k-images-idx3-ubyte.gz").is_file():
        return directory
    return _write_mnist_idx(tmp_path_factory.mktemp("mnist_idx"))


@pytest.fixture(scope="session")
def shared_mnist():
    """The real MNIST test split as IDX files (../shared/data/mnist or
    $ZOO_SHARED_DATA/mnist); tests using it skip where it is absent."""
    directory = _shared_mnist_dir()
    if not (directory / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST IDX files not found in {directory} (set ZOO_SHARED_DATA)")
    return directory
