"""Per-device defaults: precision policy and XLA."""

import keras

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


def cpu_has_bf16():
    """True if the CPU has native bfloat16 arithmetic (AVX-512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


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


def set_precision(name="auto"):
    """Sets the global Keras dtype policy; returns the policy name used."""
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {name!r}")
    policy = default_precision() if name == "auto" else name
    keras.mixed_precision.set_global_policy(policy)
    return policy
