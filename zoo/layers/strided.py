"""Strided convolutions that XLA:CPU differentiates fast: by output phase, and by patches.

`Conv2DTranspose` and `Conv2D` are Keras' layers (same weights, configs and
outputs) that on JAX's CPU backend compute strided convolutions in a form whose
gradients, of any order, XLA:CPU handles well. Elsewhere they are Keras' layers.

A stride-`s` transposed convolution inserts `s - 1` zeros between input pixels
and convolves. JAX expresses it that way (an input-dilated convolution), and on
the CPU XLA differentiates an input-dilated convolution very slowly: the weight
and input gradients of a 14x14 -> 28x28, 128 -> 128 layer at batch 64 took 18 s,
against 0.1 s for the forward pass (jax-ml/jax#31662 reports the same). The zeros are
also wasted work: of the `k x k` taps that meet an output pixel, only about
`(k / s)^2` meet a real input pixel.

So the output is split by phase instead. Output pixel `s*q + r` (per axis) only
ever meets the kernel taps `j0(r), j0(r) + s, ...`; those taps form a small
dense kernel, and the phase is an ordinary stride-1 convolution of the input
with it. The `s*s` phases are then interleaved (depth-to-space). The result is
the same number as the zero-inserting convolution, up to float summation order,
with only the multiply-adds that touch real pixels, and its gradients are
stride-1 convolutions, which XLA handles well. This is the sub-pixel
decomposition of Shi et al. (2016) run backwards.

Strided convolutions (`Conv2D`) hit the same slow path in their input
gradient, and XLA:CPU also runs some forward passes slowly (small feature maps,
large kernels); `conv_by_patches` computes them as one matrix product.
"""

import keras
from keras import layers, ops


def conv_transpose_by_phases(inputs, kernel, strides, padding="valid", output_padding=None):
    """The 2-D transposed convolution Keras computes, as `s*s` stride-1 convolutions.

    Same arguments and result as `keras.ops.conv_transpose` for channels-last
    inputs and a dilation rate of 1 (Keras', and TensorFlow's, output sizes and
    padding), with the cost of the real multiply-adds only.

    Args:
        inputs: `(batch, height, width, in_channels)`; the batch and the spatial
            sizes may be symbolic (a polymorphic export).
        kernel: `(kernel_h, kernel_w, filters, in_channels)`, the layout of
            `keras.layers.Conv2DTranspose`'s kernel.
        strides: int or pair.
        padding: `"valid"` or `"same"`.
        output_padding: None, int or pair, as in `keras.layers.Conv2DTranspose`.

    Returns:
        `(batch, out_height, out_width, filters)`.
    """
    strides = _pair(strides, "strides")
    output_padding = (None, None) if output_padding is None else _pair(output_padding, "output_padding")
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    pads = [
        _keras_padding(k, s, padding, p) for k, s, p in zip(kernel.shape[:2], strides, output_padding)
    ]
    return dilated_convolution_by_phases(inputs, kernel, strides, pads)


def dilated_convolution_by_phases(inputs, kernel, strides, pads):
    """Convolution of `inputs` dilated by `strides` and zero-padded by `pads`, by phase.

    The general form behind `conv_transpose_by_phases`: insert `s - 1` zeros
    between pixels, pad `pads[axis] = (lo, hi)` zeros (negative crops), and
    convolve at stride 1 with the flipped kernel; computed without the zeros.

    Args:
        inputs: `(batch, height, width, in_channels)`.
        kernel: `(kernel_h, kernel_w, filters, in_channels)`, Keras' transposed layout.
        strides: pair of ints.
        pads: `((lo_h, hi_h), (lo_w, hi_w))`.
    """
    plans = [_axis_plan(k, s, lo, hi) for k, s, (lo, hi) in zip(kernel.shape[:2], strides, pads)]
    # (kh, kw, in, filters), flipped: the zero-inserting convolution's kernel.
    flipped = ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2))
    rows = [
        [_phase(inputs, flipped, phase_h, phase_w, plans) for phase_w in plans[1]["phases"]]
        for phase_h in plans[0]["phases"]
    ]
    # A phase that meets no tap (a stride above the kernel size) is zeros.
    reference = next(x for row in rows for x in row if x is not None)
    rows = [[ops.zeros_like(reference) if x is None else x for x in row] for row in rows]
    # (batch, Qh, Qw, sw, c) per row; (batch, Qh, sh, Qw, sw, c) in all: row q*s + r.
    stacked = ops.stack([ops.stack(row, axis=3) for row in rows], axis=2)
    shape = ops.shape(stacked)
    outputs = ops.reshape(stacked, (-1, shape[1] * strides[0], shape[3] * strides[1], shape[5]))
    slack_h, slack_w = plans[0]["slack"], plans[1]["slack"]
    return outputs[:, : (-slack_h or None), : (-slack_w or None), :]


def _pair(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, int) or v < 0 for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints >= 0, got {value!r}")
    return pair


def _keras_padding(k, s, padding, output_padding):
    """Zeros Keras (and TensorFlow) put around the dilated input of a transposed convolution."""
    if padding == "valid":
        extra = max(k, s) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    total = s + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    lo = min(total // 2 + total % 2, k - 1)
    return lo, total - lo


def _axis_plan(k, s, lo, hi):
    """One axis: which kernel taps and input offsets each output phase uses.

    The convolution reads the input with `s - 1` zeros inserted between pixels
    and `lo`/`hi` zeros at the ends. Output `o` sums the dilated input at
    `o + j` times flipped tap `j`; for `o = s*q + r` only taps `j = j0 + s*m`
    land on real pixels, namely input `q + d + m`.
    """
    grow = lo + hi - k + 2  # out = (in - 1) * s + grow
    per_phase = -(-grow // s) - 1  # Q = in + per_phase outputs per phase
    phases = []
    for r in range(s):
        j0 = (lo - r) % s
        taps = len(range(j0, k, s))
        phases.append({"first_tap": j0, "offset": (r + j0 - lo) // s, "taps": taps, "per_phase": per_phase})
    return {"phases": phases, "slack": (per_phase + 1) * s - grow}


def _phase(inputs, flipped, phase_h, phase_w, plans):
    """Stride-1 convolution for one output phase, or None when no tap meets it."""
    if not phase_h["taps"] or not phase_w["taps"]:
        return None
    s_h = len(plans[0]["phases"])
    s_w = len(plans[1]["phases"])
    sub = flipped[phase_h["first_tap"]::s_h, phase_w["first_tap"]::s_w]
    x = inputs
    for axis, phase in ((1, phase_h), (2, phase_w)):
        # Output q reads inputs q + offset .. q + offset + taps - 1, q < in + per_phase.
        lo = -phase["offset"]
        hi = phase["per_phase"] + phase["offset"] + phase["taps"] - 1
        x = _pad_or_crop(x, axis, lo, hi)
    return ops.conv(x, sub, strides=1, padding="valid")


def _pad_or_crop(x, axis, lo, hi):
    index = [slice(None)] * 4
    index[axis] = slice(max(-lo, 0), (min(hi, 0) or None))
    if lo < 0 or hi < 0:
        x = x[tuple(index)]
    if lo > 0 or hi > 0:
        widths = [(0, 0)] * 4
        widths[axis] = (max(lo, 0), max(hi, 0))
        x = ops.pad(x, widths)
    return x


@keras.saving.register_keras_serializable(package="zoo")
class Conv2DTranspose(layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` that trains fast on JAX's CPU backend.

    The same layer, weights, config and outputs; on JAX's CPU backend its call
    is `conv_transpose_by_phases`, whose gradients XLA:CPU computes 19-34x faster
    than those of the input-dilated convolution Keras uses there. Other
    backends, accelerators (where XLA hands convolutions to cuDNN and the like),
    channels-first data and dilated kernels use Keras' own call. Weights and
    checkpoints are interchangeable with `keras.layers.Conv2DTranspose`'s.
    """

    def call(self, inputs):
        if (
            not _on_xla_cpu()
            or self.data_format != "channels_last"
            or tuple(self.dilation_rate) != (1, 1)
        ):
            return super().call(inputs)
        outputs = conv_transpose_by_phases(
            inputs, self.kernel, self.strides, self.padding, self.output_padding
        )
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package="zoo")
class Conv2D(layers.Conv2D):
    """`keras.layers.Conv2D` whose strided form trains fast on JAX's CPU backend.

    The same layer, weights, config and outputs. XLA:CPU computes some strided
    convolutions and many of their gradients through a slow generic loop: for
    the keras.io WGAN-GP critic's 5x5 stride-2 layers at batch 64, the forward
    pass of the 4x4 -> 2x2, 256 -> 512 layer took 1.8-2.0 s, the input gradient of
    the 8x8 one 0.7-0.8 s (an input-dilated convolution again), and a gradient
    penalty's weight gradient, which differentiates that input gradient,
    1-5 s per layer. On JAX's CPU backend a strided, channels-last, undilated,
    ungrouped convolution is therefore `conv_by_patches`: the kernel's taps
    as strided slices of the padded input, joined and multiplied with the
    kernel in one matrix product. Slices, pads and matrix products, and their
    gradients of any order, are what XLA:CPU does well (that penalty: 0.11-0.20
    s per layer). Other backends, accelerators and every other convolution use
    Keras' call.
    """

    def convolution_op(self, inputs, kernel):
        if (
            not _on_xla_cpu()
            or self.data_format != "channels_last"
            or tuple(self.strides) == (1, 1)
            or tuple(self.dilation_rate) != (1, 1)
            or self.groups != 1
            or not all(isinstance(size, int) for size in inputs.shape[1:3])  # a polymorphic export
        ):
            return super().convolution_op(inputs, kernel)
        return conv_by_patches(inputs, kernel, self.strides, self.padding)


def conv_by_patches(inputs, kernel, strides, padding="valid"):
    """The strided 2-D convolution `keras.ops.conv` computes, as one matrix product.

    Args:
        inputs: `(batch, height, width, in_channels)` with static height and width.
        kernel: `(kernel_h, kernel_w, in_channels, filters)`.
        strides: int or pair.
        padding: `"valid"` or `"same"` (TensorFlow's and Keras' "same").

    Returns:
        `(batch, out_height, out_width, filters)`. Memory: the patches hold
        `kernel_h * kernel_w` values per input value read.
    """
    strides = _pair(strides, "strides")
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    kh, kw, channels, filters = kernel.shape
    pads = [_conv_padding(size, k, s, padding) for size, k, s in zip(inputs.shape[1:3], (kh, kw), strides)]
    outs = [(size + lo + hi - k) // s + 1 for size, k, s, (lo, hi) in zip(inputs.shape[1:3], (kh, kw), strides, pads)]
    x = ops.pad(inputs, ((0, 0), *pads, (0, 0))) if any(any(p) for p in pads) else inputs
    (sh, sw), (oh, ow) = strides, outs
    taps = [
        x[:, i : i + (oh - 1) * sh + 1 : sh, j : j + (ow - 1) * sw + 1 : sw, :]
        for i in range(kh)
        for j in range(kw)
    ]
    patches = ops.concatenate(taps, axis=-1) if len(taps) > 1 else taps[0]  # (tap, channel) order
    return ops.matmul(patches, ops.reshape(kernel, (kh * kw * channels, filters)))


def _conv_padding(size, k, s, padding):
    """(lo, hi) zeros a "same" or "valid" convolution pads an axis of `size` with."""
    if padding == "valid":
        return 0, 0
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _on_xla_cpu():
    """Whether layers run through JAX on its CPU backend (where XLA:CPU's limits apply)."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "cpu"
