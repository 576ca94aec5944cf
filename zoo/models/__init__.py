"""Training algorithms: `keras.Model` subclasses overriding `train_step`."""

from zoo.models.base import MultiOptimizerModel
from zoo.models.gan import GAN

__all__ = ["GAN", "MultiOptimizerModel"]
