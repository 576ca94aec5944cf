"""zoo: a Keras 3 zoo of generative models trained with `model.fit`, on TensorFlow or JAX.

Submodules load on first use (`zoo.nets`, `zoo.models`, ...), so that the
`zoo` command answers `--help` without importing TensorFlow.
"""

import importlib

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "checkpoint",
    "data",
    "device",
    "distributed",
    "export",
    "latent",
    "layers",
    "losses",
    "metrics",
    "models",
    "nets",
    "plotting",
    "presets",
    "pretrained",
    "projection",
    "training",
]


def from_preset(handle, compile=True):
    """A trained, compiled zoo model from a pretrained preset: a name (`zoo list`), a folder, a
    `.keras` file or a URL. See `zoo.pretrained`."""
    from zoo import pretrained

    return pretrained.load(handle, compile=compile)


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
