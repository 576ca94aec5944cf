"""Training algorithms: `keras.Model` subclasses overriding `train_step`."""

from zoo.models.autoencoder import Autoencoder
from zoo.models.base import MultiOptimizerModel
from zoo.models.co_gan import CoGAN
from zoo.models.conditional_gan import ConditionalGAN, conditional_classes
from zoo.models.cycle_gan import CycleGAN
from zoo.models.gan import GAN
from zoo.models.pix2pix import Pix2Pix
from zoo.models.progressive_gan import ProgressiveGAN
from zoo.models.semi_supervised_gan import SemiSupervisedGAN
from zoo.models.style_gan import StyleGAN
from zoo.models.vae import VAE
from zoo.models.vae_gan import VAEGAN
from zoo.models.wgan import WGAN
from zoo.models.wgan_gp import WGANGP

__all__ = [
    "VAE",
    "VAEGAN",
    "Autoencoder",
    "GAN",
    "WGAN",
    "WGANGP",
    "ConditionalGAN",
    "CycleGAN",
    "CoGAN",
    "MultiOptimizerModel",
    "Pix2Pix",
    "ProgressiveGAN",
    "SemiSupervisedGAN",
    "StyleGAN",
    "conditional_classes",
]
