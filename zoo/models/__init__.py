"""Training algorithms: `keras.Model` subclasses overriding `train_step`."""

from zoo.models.base import MultiOptimizerModel
from zoo.models.conditional_gan import ConditionalGAN, conditional_classes
from zoo.models.gan import GAN
from zoo.models.semi_supervised_gan import SemiSupervisedGAN

__all__ = ["ConditionalGAN", "GAN", "MultiOptimizerModel", "SemiSupervisedGAN", "conditional_classes"]
