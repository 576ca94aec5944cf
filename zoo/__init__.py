"""zoo: a Keras 3 / TensorFlow zoo of generative models trained with `model.fit`."""

__version__ = "0.1.0"

from zoo import losses, models, nets  # noqa: E402

__all__ = ["losses", "models", "nets", "__version__"]
