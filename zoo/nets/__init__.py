"""Architectures: builder functions returning named functional `keras.Model`s."""

from zoo.nets.autoencoder import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder
from zoo.nets.classifier import domain_classifier
from zoo.nets.co_gan import cogan_discriminators, cogan_generators
from zoo.nets.dcgan import (
    dcgan_discriminator,
    dcgan_generator,
    keras_dcgan_discriminator,
    keras_dcgan_generator,
)
from zoo.nets.fid_inception import fid_inception_v3, load_fid_inception_state_dict
from zoo.nets.image_to_image import (
    colourisation_net,
    inception_resnet_fusion,
    net_stride,
    patch_discriminator,
    resnet_generator,
    unet_depth,
    unet_generator,
)
from zoo.nets.mlp import mlp_discriminator, mlp_generator
from zoo.nets.paper_inference import paper_inference_net
from zoo.nets.progressive_gan import get_lod, progan_discriminator, progan_generator, set_lod
from zoo.nets.semi_supervised_gan import sgan_discriminator, sgan_generator
from zoo.nets.style_gan import (
    noise_layers,
    style_mapping,
    stylegan2_discriminator,
    stylegan2_synthesis,
    stylegan_synthesis,
)
from zoo.nets.torch_state_dict import read_state_dict
from zoo.nets.toy import toy_discriminator, toy_generator
from zoo.nets.vgg16 import load_lpips_vgg16_state_dict, lpips_vgg16

__all__ = [
    "fid_inception_v3",
    "load_fid_inception_state_dict",
    "read_state_dict",
    "lpips_vgg16",
    "load_lpips_vgg16_state_dict",
    "colourisation_net",
    "inception_resnet_fusion",
    "cogan_discriminators",
    "cogan_generators",
    "net_stride",
    "unet_depth",
    "patch_discriminator",
    "resnet_generator",
    "unet_generator",
    "paper_inference_net",
    "conv_decoder",
    "conv_encoder",
    "mlp_decoder",
    "mlp_encoder",
    "dcgan_discriminator",
    "dcgan_generator",
    "domain_classifier",
    "keras_dcgan_discriminator",
    "keras_dcgan_generator",
    "mlp_discriminator",
    "mlp_generator",
    "get_lod",
    "progan_discriminator",
    "progan_generator",
    "set_lod",
    "sgan_discriminator",
    "sgan_generator",
    "noise_layers",
    "style_mapping",
    "stylegan2_discriminator",
    "stylegan2_synthesis",
    "stylegan_synthesis",
    "toy_discriminator",
    "toy_generator",
]
