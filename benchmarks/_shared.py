"""Helpers shared by the benchmark scripts: machine description, atomic JSON results, the shared MNIST split.

Imports no TensorFlow (it is read only where a TensorFlow process already has it), so the
JAX-only accelerator benchmark uses these helpers too.
"""

import fcntl
import json
import os
import platform
import sys
from pathlib import Path

import keras
import numpy as np

from zoo.device import BF16_CPU_FLAGS, cpu_info  # one CPU probe: zoo's
from zoo.device import cpu_has_bf16 as has_native_bf16  # noqa: F401  (the scripts' name for it)


def machine_info():
    model_name, flags = cpu_info()
    info = {
        "cpu_model": model_name,
        "cpu_count": os.cpu_count(),
        "cpus_available": (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        ),
        "cpu_flags": sorted(flags & {"avx2", "fma", "avx512f", *BF16_CPU_FLAGS}),
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info.update(
            tf_intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
            tf_inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(),
            tf_enable_onednn_opts=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
        )
    info.update(
        platform=platform.platform(),
        python=platform.python_version(),
        tensorflow=_tf_version(),
        keras=keras.__version__,
        keras_backend=keras.backend.backend(),
        **({"jax": _jax_version()} if keras.backend.backend() == "jax" else {}),
        xla_flags=os.environ.get("XLA_FLAGS", ""),
        numpy=np.__version__,
    )
    return info


def _tf_version():
    """TensorFlow's version if this process imported it, else None (it is not imported here)."""
    tf = sys.modules.get("tensorflow")
    return getattr(tf, "__version__", None)


def _jax_version():
    import jax

    return jax.__version__


def read_results(path, benchmark):
    """The results file's contents, or a fresh one; raises on a file it cannot extend."""
    if not path.exists():
        return {"benchmark": benchmark, "records": []}
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--output {path}: not a readable JSON results file ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise ValueError(f'--output {path}: expected a JSON object with a "records" list')
    return data


def append_record(path, record, benchmark):
    """Appends `record` to the results file: write a temporary file, then `os.replace`.

    An exclusive lock on the results directory serialises the
    read-append-replace, so runs started in parallel with the same `--output`
    do not drop each other's records.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(directory, fcntl.LOCK_EX)
        _append_locked(path, record, benchmark)
    finally:
        os.close(directory)  # releases the lock


def limit_threads(threads):
    """Limits TensorFlow to `threads` intra- and inter-op threads (None or 0: its default).

    Must run before TensorFlow executes its first op.
    """
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def _append_locked(path, record, benchmark):
    from zoo import files

    data = read_results(path, benchmark)
    data["records"].append(record)
    files.write_text(path, json.dumps(data, indent=2) + "\n")


def mnist_dir():
    """The shared MNIST IDX folder: $ZOO_SHARED_DATA/mnist, else ../shared/data/mnist beside the checkout."""
    root = os.environ.get("ZOO_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    return os.path.join(root, "mnist")


def mnist_arrays(data_dir, split, pad_to=None):
    """All images and labels of an MNIST IDX split as numpy arrays, images in [-1, 1].

    The values of `zoo.data.mnist_idx` (`x / 127.5 - 1`), read without TensorFlow. With
    `pad_to`, the 28x28 digits are padded with background (-1) to `pad_to x pad_to`.
    """
    from zoo.data.mnist_idx import mnist_idx_arrays

    images, labels = mnist_idx_arrays(data_dir, split)
    images = (images.astype("float32") / np.float32(127.5) - np.float32(1.0)).astype("float32")
    if pad_to:
        pad = (pad_to - images.shape[1]) // 2
        images = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=-1.0).astype("float32")
    return images, labels.astype("int32")
