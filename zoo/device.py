"""Per-device defaults: precision policy and XLA."""

import keras

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_info(path="/proc/cpuinfo"):
    """`(model name, set of flags)` of the first CPU in `path`; ("unknown", empty set) without one."""
    model_name, flags = "unknown", set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model_name == "unknown":
                    model_name = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model_name, flags


def cpu_has_bf16(path="/proc/cpuinfo"):
    """True if the CPU has native bfloat16 arithmetic (AVX-512-BF16 or AMX)."""
    return any(flag in cpu_info(path)[1] for flag in BF16_CPU_FLAGS)


def has_gpu():
    """True if the Keras backend sees a GPU (TensorFlow or JAX devices)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return any(device.platform == "gpu" for device in jax.devices())
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def default_precision():
    """`mixed_float16` on GPUs, `mixed_bfloat16` on CPUs with bf16 units, else float32.

    float16 is never chosen on a CPU: its convolution gradients are far slower
    there; bfloat16 without hardware support is emulated and slower than float32.
    """
    if has_gpu():
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_has_bf16() else "float32"


def prepare(precision="auto", seed=None):
    """A run's set-up in one call: the dtype policy (`set_precision`) and, for an int `seed`,
    every random generator (`keras.utils.set_random_seed`). Returns the policy name."""
    policy = set_precision(precision)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return policy


def set_precision(name="auto"):
    """Sets the global Keras dtype policy; returns the policy name used."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {name!r}")
    policy = default_precision() if name == "auto" else name
    keras.mixed_precision.set_global_policy(policy)
    return policy
