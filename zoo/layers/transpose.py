"""Transposed convolution computed as stride-1 convolutions, one per output phase.

A stride-`s` transposed convolution inserts `s - 1` zeros between input pixels
and convolves. JAX expresses it that way (an input-dilated convolution), and on
the CPU XLA differentiates an input-dilated convolution very slowly: the weight
gradient of a 14x14 -> 28x28, 128 -> 128 layer at batch 64 took 18 s, against
0.05 s for the forward pass (jax-ml/jax#31662 reports the same). The zeros are
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
    kernel_size = tuple(kernel.shape[:2])
    plans = [
        _axis_plan(k, s, padding, p) for k, s, p in zip(kernel_size, strides, output_padding)
    ]
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


def _axis_plan(k, s, padding, output_padding):
    """One axis: which kernel taps and input offsets each output phase uses.

    Keras' transposed convolution is, per axis, a convolution of the input with
    `s - 1` zeros inserted between pixels and `lo`/`hi` zeros at the ends (the
    values below are Keras' and TensorFlow's). Output `o` sums the dilated input
    at `o + j` times flipped tap `j`; for `o = s*q + r` only taps
    `j = j0 + s*m` land on real pixels, namely input `q + d + m`.
    """
    if padding == "valid":
        extra = max(k, s) - k if output_padding is None else output_padding
        lo, hi = k - 1, k - 1 + extra
    else:
        total = s + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
        lo = min(total // 2 + total % 2, k - 1)
        hi = total - lo
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
    """`keras.layers.Conv2DTranspose` that trains fast on JAX.

    The same layer, weights, config and outputs; on the JAX backend its call is
    `conv_transpose_by_phases`, whose gradients XLA computes 10-30x faster on the
    CPU than those of the input-dilated convolution Keras uses there (see
    `benchmarks/README.md`). Other backends, channels-first data and dilated
    kernels use Keras' own call. Weights and checkpoints are interchangeable with
    `keras.layers.Conv2DTranspose`'s.
    """

    def call(self, inputs):
        if (
            keras.backend.backend() != "jax"
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
