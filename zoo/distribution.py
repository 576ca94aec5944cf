"""`zoo train --strategy` on JAX: data parallelism through `keras.distribution`.

On TensorFlow, `--strategy` makes a `tf.distribute` strategy (`zoo.distributed`).
On JAX, Keras shards every batch over the devices itself once a
`keras.distribution.DataParallel` is set before the model is built; the
optimizers' and models' variables are replicated and the gradients averaged
inside the jitted step. `--batch-size` stays the global batch.

Multi-host JAX (`--strategy multi_worker`) is not wired yet: it needs
`keras.distribution.initialize()` on every host and each host feeding its
own share of the global batch; `data_parallel` says so instead of training
on one host by mistake.
"""

import os
import re

import keras

STRATEGIES = ("default", "mirrored", "multi_worker")


def data_parallel(name="default", cpu_replicas=None):
    """Sets the Keras distribution for `--strategy name` on JAX; returns the replica count.

    Args:
        name: "default" (one device, nothing set), "mirrored" (every local
            device: `keras.distribution.DataParallel`) or "multi_worker".
        cpu_replicas: None or int >= 1, with "mirrored": split the CPU into this
            many XLA host devices (for testing), through
            `--xla_force_host_platform_device_count`, which must reach XLA
            before JAX starts its CPU backend.

    Returns:
        int, the number of replicas a global batch is split over.

    Raises:
        ValueError: for an unknown name, `cpu_replicas` without "mirrored", a
            CPU device count that JAX already fixed, or "multi_worker".
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if cpu_replicas and name != "mirrored":
        raise ValueError(f"--cpu-replicas needs --strategy mirrored, got --strategy {name}")
    if name == "default":
        return 1
    if name == "multi_worker":
        raise ValueError(
            "--strategy multi_worker is tf.distribute's (TF_CONFIG) and runs on the TensorFlow backend; "
            "multi-host JAX training is not wired into zoo train yet (see docs/backends.md). On one host, "
            "--strategy mirrored uses every local device on JAX"
        )
    if cpu_replicas:
        _force_cpu_devices(cpu_replicas)
    import jax

    devices = jax.devices("cpu") if cpu_replicas else jax.devices()
    if cpu_replicas and len(devices) != cpu_replicas:
        raise ValueError(
            f"--cpu-replicas {cpu_replicas}: JAX already started with {len(devices)} CPU device(s); set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={cpu_replicas} before starting Python"
        )
    names = [f"{device.platform}:{device.id}" for device in devices]
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=names))
    return len(names)


def is_chief():
    """True on the process that writes checkpoints, samples and exports (JAX process 0)."""
    import jax

    return jax.process_index() == 0


def _force_cpu_devices(count):
    flags = os.environ.get("XLA_FLAGS", "")
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+", "", flags).strip()
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
