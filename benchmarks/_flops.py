"""Analytic FLOPs of a GAN training step; imports no TensorFlow, so JAX-only machines can use it.

A forward pass is 2 FLOPs per multiply-accumulate (MAC); a backward pass (input and
weight gradients) costs about twice the forward, so forward + backward = 3 forwards.
"""

import keras
import numpy as np
from keras import layers

# One image of the batch in a GAN step (d_steps=1), counted in forward passes of each net:
#   discriminator update: G forward (1) + D forward and backward on a real and a fake
#   image (2 x 3); generator update: G forward and backward (3) + D forward and input
#   gradients (2; D's weight gradients are not requested).
GAN_PASSES = (1 + 3, 2 * 3 + 2)


def forward_macs(model):
    """Multiply-accumulates of one forward pass for one image (conv and dense layers only).

    Activations, biases, normalisation, dropout and the optimizer update are left out:
    together they are well under 1% of the convolutions in the nets benchmarked here.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_macs(layer)
        elif isinstance(layer, layers.Conv2DTranspose):
            # Every input pixel scatters a kh x kw x c_out patch per input channel.
            kh, kw, c_out, c_in = layer.kernel.shape
            h, w = layer.input.shape[1:3]
            total += h * w * kh * kw * c_in * c_out
        elif isinstance(layer, layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            total += h * w * kh * kw * c_in * c_out
        elif isinstance(layer, layers.Dense):
            total += int(np.prod(layer.input.shape[1:])) * layer.units
    return int(total)


def gan_step_flops(generator, discriminator, passes=GAN_PASSES):
    """Forward MACs of both nets and the training step's GFLOP per image."""
    g_macs, d_macs = forward_macs(generator), forward_macs(discriminator)
    g_passes, d_passes = passes
    return {
        "generator_forward_macs": g_macs,
        "discriminator_forward_macs": d_macs,
        "generator_passes": g_passes,
        "discriminator_passes": d_passes,
        "train_step_gflop_per_image": 2 * (g_passes * g_macs + d_passes * d_macs) / 1e9,
    }
