"""StyleGAN and StyleGAN2 training: style mixing, lazy R1, path length, w_avg, EMA nets."""

import contextlib

import keras
import numpy as np
from keras import ops

from zoo import checks, engine, losses, plotting
from zoo.models.base import MultiOptimizerModel, NoiseInput
from zoo.models.gan import GAN
from zoo.nets.style_gan import noise_layers

# Style layers by resolution, as in the StyleGAN paper's figure 3 (two ws per
# resolution from 4x4 on): coarse 4^2-8^2, middle 16^2-32^2, fine 64^2 and up.
STYLE_RANGES = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, None)}

# The StyleGAN paper's figure 8 (truncation trick): psi from 1 down to -1.
TRUNCATION_SWEEP_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)

NOISE_MODES = {"random": 0.0, "const": 1.0}


@contextlib.contextmanager
def using_noise_mode(net, mode):
    """Sets every noise layer of `net` to `mode` ("random", "const" or None: leave as is), then restores it."""
    if mode is None:
        yield
        return
    if mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be 'random', 'const' or None, got {mode!r}")
    layers = noise_layers(net)
    saved = [float(ops.convert_to_numpy(layer.noise_mode)) for layer in layers]
    try:
        for layer in layers:
            layer.noise_mode.assign(NOISE_MODES[mode])
        yield
    finally:
        for layer, value in zip(layers, saved):
            layer.noise_mode.assign(value)


def truncate(ws, w_avg, truncation_psi=1.0, truncation_cutoff=None):
    """The truncation trick `w_avg + psi * (w - w_avg)` on the first `truncation_cutoff` layers.

    Args:
        ws: float tensor `(batch, num_ws, w_dim)`.
        w_avg: float tensor `(w_dim,)`, the centre of mass of W.
        truncation_psi: float or scalar tensor; 1 leaves `ws` unchanged, 0
            gives `w_avg`. Default 1.
        truncation_cutoff: int or None, truncate layers `[0, cutoff)` only
            (None: all). Default None.

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019, sec. 3.3 (eq. in appendix B).
    """
    ws = ops.cast(ws, "float32")
    if _is_number(truncation_psi) and truncation_psi == 1:
        return ws  # exactly, not w_avg + (w - w_avg)
    w_avg = ops.cast(w_avg, "float32")
    psi = ops.cast(truncation_psi, "float32")
    truncated = w_avg + psi * (ws - w_avg)
    if truncation_cutoff is None:
        return truncated
    layer = ops.arange(ws.shape[1])[None, :, None]
    return ops.where(layer < truncation_cutoff, truncated, ws)


def _is_number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float))


@keras.saving.register_keras_serializable(package="zoo")
class StyleGAN(NoiseInput, MultiOptimizerModel):
    """StyleGAN / StyleGAN2 training of a mapping and a synthesis net against a discriminator.

    The nets are built outside and injected: `mapping` takes `z (batch,
    latent_dim)` to `w (batch, w_dim)`, `synthesis` takes styles `ws (batch,
    num_ws, w_dim)` (one w per layer) to images, `discriminator` takes images
    to logits `(batch, 1)` (see `zoo.nets.style_mapping`,
    `zoo.nets.stylegan2_synthesis`, `zoo.nets.stylegan_synthesis`,
    `zoo.nets.stylegan2_discriminator`). Each `train_step`:

    1. updates the discriminator with the non-saturating logistic loss on
       real images and on fakes; every `r1_interval`-th update adds the R1
       penalty on real images weighted `r1_gamma / 2 * r1_interval` (lazy
       regularisation);
    2. updates the generator (mapping and synthesis) with the non-saturating
       loss; the fakes of both updates use style mixing: with probability
       `style_mixing` per sample, the w of a second z takes over from a random
       crossover layer in `[1, num_ws)` onward;
    3. every `path_length_interval`-th generator update adds the path length
       penalty (`zoo.losses.path_length_penalty`) on a batch
       `path_length_batch_shrink` times smaller, weighted
       `path_length_weight * path_length_interval`; the running mean `a` of
       the path lengths is `pl_mean`, saved with the model;
    4. moves `w_avg` toward the batch mean of the mapped w
       (`w_avg <- mean(w) + w_avg_decay * (w_avg - mean(w))`) and the EMA
       copies `ema_mapping`, `ema_synthesis` toward the trained nets with
       momentum `0.5 ** (global batch / ema_half_life_images)`. The EMA nets
       are what `generate`, `map`, `synthesize`, sample grids and
       `zoo.export.export_style_generator` use.

    Lazy terms are added to the loss of every k-th update (one optimizer
    update per player and minibatch, as in `zoo.models.GAN`; an optimizer
    step inside a condition cannot run under `tf.distribute.MirroredStrategy`).
    The reference code takes them as an extra optimizer step instead, k + 1
    steps per k minibatches, and so multiplies Adam's learning rate by
    `c = k / (k + 1)` and raises its betas to the power c (StyleGAN2,
    appendix B) to move as k steps would. Here there are k steps, so `c = 1`
    and the default optimizers are the paper's Adam(0.002, beta_1=0,
    beta_2=0.99, epsilon=1e-8) unchanged. To reproduce the corrected values
    anyway, pass e.g. `d_optimizer=keras.optimizers.Adam(0.002 * 16 / 17,
    beta_1=0.0, beta_2=0.99 ** (16 / 17), epsilon=1e-8)` to `compile`.

    Configurations (the papers' values, FFHQ):

    - StyleGAN2 (config F): the defaults. Modulated/demodulated synthesis,
      residual discriminator, style mixing 0.9, R1 gamma 10 every 16 D steps,
      path length weight 2 every 4 G steps (decay 0.01, half batch), w_avg
      decay 0.995, EMA half-life 10k images, Adam 0.002 (0, 0.99), batch 32.
    - StyleGAN: the AdaIN synthesis (`zoo.nets.stylegan_synthesis`),
      `path_length_weight=0`, `r1_interval=1` (R1 gamma 10 every step),
      style mixing 0.9, w_avg decay 0.995, EMA half-life 10k images, Adam
      betas (0, 0.99) and lr 0.001 (the paper raises it with resolution
      during progressive growing, which this class does not do); figures use
      `truncation_psi=0.7, truncation_cutoff=8`.

    Args:
        mapping: `keras.Model`, `z (batch, latent_dim)` -> `w (batch, w_dim)`.
        synthesis: `keras.Model` with one input `ws (batch, num_ws, w_dim)` ->
            images `(batch, H, W, C)`; may hold `zoo.layers.NoiseInjection` layers.
        discriminator: `keras.Model`, images -> logits `(batch, 1)`.
        style_mixing: float in [0, 1], probability that a fake mixes two ws.
            Default 0.9.
        r1_gamma: float >= 0, R1 weight gamma (0: no R1). Default 10.
        r1_interval: int >= 1, R1 every this many discriminator updates. Default 16.
        path_length_weight: float >= 0, path length weight (0: none, as in
            StyleGAN). Default 2.
        path_length_interval: int >= 1, path length every this many generator
            updates. Default 4.
        path_length_decay: float in [0, 1], update rate of the lengths' running
            mean. Default 0.01.
        path_length_batch_shrink: int >= 1, the path length batch is the
            minibatch divided by this (at least 1). Default 2.
        w_avg_decay: float in [0, 1], decay of the running mean `w_avg` of the
            mapped w. Default 0.995.
        ema_half_life_images: float > 0, half-life of the EMA nets' weights in
            training images (the reference's `ema_kimg` times 1000). Default 10000.
        ema_rampup: float > 0 or None, cap the half-life at this fraction of
            the images seen so far (stylegan2-ada's `ema_rampup`, 0.05 there
            for small datasets), so early weights fade fast. Default None.
        loss: str, adversarial loss name from `zoo.losses.get_adversarial_loss`.
            Default "non_saturating" (the papers' logistic loss).
        seed: int or None, seed of the latent and mixing noise.

    Example:
    ```python
    mapping = zoo.nets.style_mapping(latent_dim=512, w_dim=512)
    synthesis = zoo.nets.stylegan2_synthesis(256, w_dim=512, channels=3)
    discriminator = zoo.nets.stylegan2_discriminator(256, channels=3)
    model = zoo.models.StyleGAN(mapping, synthesis, discriminator, seed=0)
    model.compile()
    model.fit(zoo.data.load("lfw_faces", image_size=256, batch_size=32), epochs=100)
    images = model.generate(16, truncation_psi=0.7)
    ```

    Reference: Karras et al., "A Style-Based Generator Architecture for
    Generative Adversarial Networks", CVPR 2019; Karras et al., "Analyzing and
    Improving the Image Quality of StyleGAN", CVPR 2020.
    """

    OPTIMIZERS = ("d_optimizer", "g_optimizer")
    NETS = ("mapping", "synthesis", "discriminator")

    def __init__(
        self,
        mapping,
        synthesis,
        discriminator,
        style_mixing=0.9,
        r1_gamma=10.0,
        r1_interval=16,
        path_length_weight=2.0,
        path_length_interval=4,
        path_length_decay=0.01,
        path_length_batch_shrink=2,
        w_avg_decay=0.995,
        ema_half_life_images=10_000,
        ema_rampup=None,
        loss="non_saturating",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self._check_nets(mapping, synthesis, discriminator)
        self.style_mixing = checks.number(style_mixing, "style_mixing", at_least=0, at_most=1)
        self.r1_gamma = checks.number(r1_gamma, "r1_gamma", at_least=0)
        self.r1_interval = checks.positive_int(r1_interval, "r1_interval")
        self.path_length_weight = checks.number(path_length_weight, "path_length_weight", at_least=0)
        self.path_length_interval = checks.positive_int(path_length_interval, "path_length_interval")
        self.path_length_decay = checks.number(path_length_decay, "path_length_decay", at_least=0, at_most=1)
        self.path_length_batch_shrink = checks.positive_int(path_length_batch_shrink, "path_length_batch_shrink")
        self.w_avg_decay = checks.number(w_avg_decay, "w_avg_decay", at_least=0, at_most=1)
        self.ema_half_life_images = checks.number(ema_half_life_images, "ema_half_life_images", above=0)
        self.ema_rampup = checks.number(ema_rampup, "ema_rampup", above=0, none=True)
        self.loss_name = loss
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        if loss == "wasserstein" and not self.r1_gamma:
            raise ValueError("loss='wasserstein' needs r1_gamma > 0 to keep the critic's scores bounded")

        self.mapping = mapping
        self.synthesis = synthesis
        self.discriminator = discriminator
        self.latent_dim = int(mapping.inputs[0].shape[-1])
        self.num_ws = int(synthesis.inputs[0].shape[1])
        self.w_dim = int(synthesis.inputs[0].shape[2])
        self.image_shape = tuple(int(s) for s in synthesis.outputs[0].shape[1:])
        if self.style_mixing and self.num_ws < 2:
            raise ValueError(f"style_mixing needs a synthesis with num_ws >= 2, got num_ws={self.num_ws}")

        # The copies that ship: saved with the model, never trained by an optimizer.
        self.ema_mapping = self._copy(mapping)
        self.ema_synthesis = self._copy(synthesis)
        # "mean": under tf.distribute the replicas' updates average to the global batch's.
        self.w_avg = self.add_weight(
            shape=(self.w_dim,), initializer="zeros", trainable=False, dtype="float32",
            autocast=False, aggregation="mean", name="w_avg",
        )
        self.pl_mean = self.add_weight(
            shape=(), initializer="zeros", trainable=False, dtype="float32",
            autocast=False, aggregation="mean", name="pl_mean",
        )

        self.track("d_loss", "g_loss", "d_real", "d_fake")
        self.track(*(name for name, on in (("r1_penalty", self.r1_gamma), ("pl_penalty", self.path_length_weight)) if on))
        self.built = True

    @staticmethod
    def _check_nets(mapping, synthesis, discriminator):
        for name, net in (("mapping", mapping), ("synthesis", synthesis), ("discriminator", discriminator)):
            if not isinstance(net, keras.Model) or len(net.inputs or []) != 1:
                raise ValueError(f"{name} must be a functional keras.Model with one input, got {net!r}")
        if len(mapping.inputs[0].shape) != 2 or len(mapping.outputs[0].shape) != 2:
            raise ValueError(
                f"mapping must take z (batch, latent_dim) to w (batch, w_dim), got "
                f"{mapping.inputs[0].shape} -> {mapping.outputs[0].shape}"
            )
        ws_shape = tuple(synthesis.inputs[0].shape)
        if len(ws_shape) != 3 or None in ws_shape[1:]:
            raise ValueError(f"synthesis must take ws (batch, num_ws, w_dim), got an input of shape {ws_shape}")
        if ws_shape[2] != mapping.outputs[0].shape[-1]:
            raise ValueError(
                f"the mapping makes w of size {mapping.outputs[0].shape[-1]} but the synthesis takes "
                f"ws of shape {ws_shape}: expected w_dim {ws_shape[2]}"
            )
        image_shape = tuple(synthesis.outputs[0].shape[1:])
        if len(image_shape) != 3 or None in image_shape:
            raise ValueError(f"synthesis must make images (batch, H, W, C) of known size, got {image_shape}")
        judged = tuple(discriminator.inputs[0].shape[1:])
        if None not in judged and judged != image_shape:
            raise ValueError(
                f"the discriminator takes inputs of shape {judged}, but the synthesis makes {image_shape}"
            )

    @staticmethod
    def _copy(net):
        copy = keras.models.clone_model(net)
        copy.set_weights(net.get_weights())
        copy.trainable = False
        return copy

    def default_optimizers(self):
        # StyleGAN2 (Karras 2020), both players; see the class docstring on lazy regularisation.
        return {
            "d_optimizer": lambda: keras.optimizers.Adam(0.002, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
            "g_optimizer": lambda: keras.optimizers.Adam(0.002, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
        }

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training with one optimizer per player.

        Args:
            d_optimizer: discriminator optimizer (instance, name or config).
                Default Adam(0.002, beta_1=0, beta_2=0.99, epsilon=1e-8) (Karras 2020).
            g_optimizer: optimizer of the mapping and the synthesis. Same default.
            **kwargs: `jit_compile` (None: XLA on GPUs only), `steps_per_execution`,
                `run_eagerly`, ... as for `keras.Model.compile`.
        """
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    @property
    def generator_variables(self):
        """The variables the generator optimizer trains: mapping's, then synthesis's."""
        return self.mapping.trainable_variables + self.synthesis.trainable_variables

    def optimizer_variables(self):
        return {
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": self.generator_variables,
        }

    def call(self, z, training=False):
        return self.ema_synthesis(self.map(z), training=training)

    # -- styles ----------------------------------------------------------------

    def _mapped(self, mapping, z, training):
        return ops.cast(mapping(z, training=training), "float32")

    def broadcast(self, w):
        """`(batch, w_dim)` -> `(batch, num_ws, w_dim)`: the same w for every layer."""
        w = ops.cast(w, "float32")
        return ops.repeat(ops.expand_dims(w, 1), self.num_ws, axis=1)

    def mix_styles(self, w, w2, crossover):
        """Styles with `w` on layers `[0, crossover)` and `w2` from `crossover` on, per sample.

        Args:
            w, w2: `(batch, w_dim)`.
            crossover: int `(batch,)`; `num_ws` keeps `w` everywhere.
        """
        layer = ops.arange(self.num_ws, dtype="int32")[None, :, None]
        crossover = ops.cast(crossover, "int32")[:, None, None]
        w, w2 = ops.cast(w, "float32")[:, None, :], ops.cast(w2, "float32")[:, None, :]
        return ops.where(layer < crossover, w, w2)

    def sample_ws(self, batch_size, training=True):
        """Training styles `(batch, num_ws, w_dim)` for fresh z, style-mixed, and the unmixed w.

        With probability `style_mixing` per sample a second z's w takes over
        from a crossover layer drawn uniformly in `[1, num_ws)`.
        """
        w = self._mapped(self.mapping, self.normal((batch_size, self.latent_dim)), training)
        if not self.style_mixing:
            return self.broadcast(w), w
        w2 = self._mapped(self.mapping, self.normal((batch_size, self.latent_dim)), training)
        crossover = self._randint((batch_size,), minval=1, maxval=self.num_ws)
        mixed = self.uniform((batch_size,)) < self.style_mixing
        crossover = ops.where(mixed, crossover, self.num_ws)
        return self.mix_styles(w, w2, crossover), w

    def _randint(self, shape, minval, maxval):
        """Integers uniform in `[minval, maxval)` from the model's seed generator.

        On TensorFlow the same stateless draw as `self.uniform` with an int
        dtype; `keras.random.uniform` takes float dtypes only, so other
        backends draw with `keras.random.randint`.
        """
        if keras.backend.backend() == "tensorflow":
            return self.uniform(shape, minval=minval, maxval=maxval, dtype="int32")
        return keras.random.randint(shape, minval, maxval, dtype="int32", seed=self.seed_generator)

    def update_w_avg(self, w):
        """`w_avg <- mean(w) + w_avg_decay * (w_avg - mean(w))` for a batch `w (batch, w_dim)`."""
        mean = ops.mean(ops.cast(w, "float32"), axis=0)
        self.w_avg.assign(mean + self.w_avg_decay * (self.w_avg - mean))

    # -- sampling ------------------------------------------------------------

    def _check_truncation(self, truncation_psi, truncation_cutoff):
        if not _is_number(truncation_psi):
            raise ValueError(f"truncation_psi must be a float, got {truncation_psi!r}")
        if truncation_cutoff is not None and (
            isinstance(truncation_cutoff, bool)
            or not isinstance(truncation_cutoff, int)
            or not 0 <= truncation_cutoff <= self.num_ws
        ):
            raise ValueError(
                f"truncation_cutoff must be None or an int in [0, {self.num_ws}], got {truncation_cutoff!r}"
            )

    def map(self, z, truncation_psi=1.0, truncation_cutoff=None, use_ema=True):
        """Styles `ws (n, num_ws, w_dim)` float32 for latents `z (n, latent_dim)`.

        Args:
            z: array `(n, latent_dim)`.
            truncation_psi: float, `w_avg + psi * (w - w_avg)`; 1 (default) is
                no truncation, 0 gives `w_avg` for every z.
            truncation_cutoff: int or None, truncate only layers `[0, cutoff)`.
                Default None: all layers.
            use_ema: bool, map with `ema_mapping` (default) or the trained `mapping`.
        """
        self._check_truncation(truncation_psi, truncation_cutoff)
        z = self.noise_for(z)
        w = self._mapped(self.ema_mapping if use_ema else self.mapping, z, False)
        return truncate(self.broadcast(w), self.w_avg, truncation_psi, truncation_cutoff)

    def _ws(self, ws):
        ws = ops.convert_to_tensor(ws, dtype="float32")
        if len(ws.shape) == 2 and ws.shape[-1] == self.w_dim:
            return self.broadcast(ws)
        if tuple(ws.shape[1:]) != (self.num_ws, self.w_dim):
            raise ValueError(
                f"ws must have shape (n, {self.num_ws}, {self.w_dim}) or (n, {self.w_dim}), got {tuple(ws.shape)}"
            )
        return ws

    def synthesize(self, ws, use_ema=True, noise_mode=None, batch_size=256):
        """Images float32 `(n, H, W, C)` (a tensor) for styles `ws (n, num_ws, w_dim)` or `w (n, w_dim)`.

        Args:
            ws: styles, one w per layer, or one w for all layers.
            use_ema: bool, `ema_synthesis` (default) or the trained `synthesis`.
            noise_mode: "random", "const" or None (default: the noise layers'
                current `noise_mode`, e.g. as set by projection).
            batch_size: int, styles per net call. Default 256.
        """
        ws = self._ws(ws)
        checks.positive_int(batch_size, "batch_size")
        net = self.ema_synthesis if use_ema else self.synthesis
        synthesize = self._synthesis_fn(net)
        with using_noise_mode(net, noise_mode):
            chunks = [
                ops.cast(synthesize(ws[start : start + batch_size]), "float32")
                for start in range(0, int(ws.shape[0]), batch_size)
            ]
        return ops.concatenate(chunks, axis=0)

    def _synthesis_fn(self, net):
        """`net(ws, training=False)`: eager on TensorFlow, compiled once per net on JAX.

        Eager JAX runs op by op and rounds differently from the compiled training
        step and from an export. Early in training the first instance norm of
        `stylegan_synthesis` normalises a nearly constant map (the learned
        constant, initialised to ones, varies by ~1e-4 over its pixels), which
        turns that rounding into pixel differences of 2e-3 (a smoke-trained
        net); compiled, `generate` matches the export to 6e-6. Compiling is
        also faster than eager JAX.
        """
        if keras.backend.backend() != "jax":
            return lambda ws: net(ws, training=False)
        compiled = self.__dict__.setdefault("_compiled_synthesis", {})  # untracked: plain functions
        if id(net) not in compiled:
            compiled[id(net)] = engine.function(lambda ws: net(ws, training=False), net.variables)
        return compiled[id(net)]

    def generate(self, num_or_z, truncation_psi=1.0, truncation_cutoff=None, noise_mode="random", batch_size=256):
        """Generates images (about [-1, 1], not clipped) with the EMA nets, as a numpy array.

        Args:
            num_or_z: int (number of images, z drawn from the model's seed
                generator) or an array `(n, latent_dim)`.
            truncation_psi: float, truncation `w_avg + psi * (w - w_avg)`. Default 1.
            truncation_cutoff: int or None, truncate layers `[0, cutoff)` only.
                Default None: all.
            noise_mode: "random" (default, fresh per-pixel noise) or "const"
                (the noise layers' fixed `noise_const`: deterministic).
            batch_size: int, images per net call. Default 256.
        """
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be 'random' or 'const', got {noise_mode!r}")
        checks.positive_int(batch_size, "batch_size")
        z = self.noise_for(num_or_z)
        images = [
            self.synthesize(
                self.map(z[start : start + batch_size], truncation_psi, truncation_cutoff),
                noise_mode=noise_mode,
                batch_size=batch_size,
            )
            for start in range(0, int(z.shape[0]), batch_size)
        ]
        return ops.convert_to_numpy(ops.concatenate(images, axis=0))

    def style_range(self, styles):
        """`(start, stop)` layer indices for "coarse", "middle", "fine" or a `(start, stop)` pair."""
        if isinstance(styles, str) and styles in STYLE_RANGES:
            start, stop = STYLE_RANGES[styles]
            stop = self.num_ws if stop is None else min(stop, self.num_ws)
        elif (
            isinstance(styles, (tuple, list))
            and len(styles) == 2
            and all(isinstance(i, int) and not isinstance(i, bool) for i in styles)
        ):
            start, stop = styles
        else:
            raise ValueError(
                f"styles must be 'coarse', 'middle', 'fine' or a (start, stop) pair of ints, got {styles!r}"
            )
        if not 0 <= start < stop <= self.num_ws:
            raise ValueError(
                f"styles {styles!r} selects layers [{start}, {stop}), which is empty or outside "
                f"[0, {self.num_ws}) for this synthesis (num_ws={self.num_ws})"
            )
        return start, stop

    def style_mix(
        self, source_a, source_b, styles="coarse", truncation_psi=1.0, truncation_cutoff=None,
        noise_mode="const", grid=True,
    ):
        """The style-mixing figure: source A across the top, source B down the side.

        Cell `(i, j)` is image `A_j` with the styles of layers `styles` copied
        from `B_i`, as in the StyleGAN paper's figure 3 (coarse styles from B
        bring B's pose and face shape, fine ones only its colours). The top
        row holds the A images, the left column the B images, the corner is
        blank (white).

        Args:
            source_a: int (count, z drawn here) or array `(n_a, latent_dim)`: the columns.
            source_b: int or array `(n_b, latent_dim)`: the rows, whose styles are copied.
            styles: "coarse" (layers 0-3: 4^2-8^2), "middle" (4-7: 16^2-32^2),
                "fine" (8 and up: 64^2 and up) or a `(start, stop)` pair. Default "coarse".
            truncation_psi, truncation_cutoff: as for `generate`. Default 1, None.
            noise_mode: "random" or "const" (default: the same noise in every cell).
            grid: bool, return one uint8 image grid (default) or the float
                array `(n_b + 1, n_a + 1, H, W, C)`.
        """
        start, stop = self.style_range(styles)
        ws_a = self.map(self.noise_for(source_a), truncation_psi, truncation_cutoff)
        ws_b = self.map(self.noise_for(source_b), truncation_psi, truncation_cutoff)
        n_a, n_b = int(ws_a.shape[0]), int(ws_b.shape[0])
        layer = ops.arange(self.num_ws)[None, None, :, None]
        copied = ops.logical_and(layer >= start, layer < stop)
        mixed = ops.where(copied, ws_b[:, None], ws_a[None, :])  # (n_b, n_a, num_ws, w_dim)
        ws = ops.concatenate([ws_a, ws_b, ops.reshape(mixed, (-1, self.num_ws, self.w_dim))], axis=0)
        images = ops.convert_to_numpy(self.synthesize(ws, noise_mode=noise_mode))
        table = np.ones((n_b + 1, n_a + 1, *self.image_shape), "float32")
        table[0, 1:] = images[:n_a]
        table[1:, 0] = images[n_a : n_a + n_b]
        table[1:, 1:] = images[n_a + n_b :].reshape(n_b, n_a, *self.image_shape)
        return self._table(table, grid)

    def truncation_sweep(self, z, psis=TRUNCATION_SWEEP_PSIS, truncation_cutoff=None, noise_mode="const", grid=True):
        """The truncation figure: one row per z, one column per psi.

        Args:
            z: int (count, drawn here) or array `(n, latent_dim)`.
            psis: sequence of floats. Default (1, 0.7, 0.5, 0, -0.5, -1), the
                StyleGAN paper's figure 8.
            truncation_cutoff: int or None, as for `generate`.
            noise_mode: "random" or "const" (default).
            grid: bool, a uint8 grid (default) or the float array `(n, len(psis), H, W, C)`.
        """
        if not isinstance(psis, (tuple, list)) or not psis or not all(_is_number(p) for p in psis):
            raise ValueError(f"psis must be a non-empty sequence of floats, got {psis!r}")
        z = self.noise_for(z)
        ws = ops.stack([self.map(z, float(psi), truncation_cutoff) for psi in psis], axis=1)
        images = self.synthesize(ops.reshape(ws, (-1, self.num_ws, self.w_dim)), noise_mode=noise_mode)
        table = ops.convert_to_numpy(images).reshape(int(z.shape[0]), len(psis), *self.image_shape)
        return self._table(table, grid)

    @staticmethod
    def _table(table, grid):
        if not grid:
            return table
        rows, cols = table.shape[:2]
        return plotting.make_grid(table.reshape(rows * cols, *table.shape[2:]), num_rows=rows)

    # -- training ------------------------------------------------------------

    # The GAN's: the mean of D's outputs (probabilities for the cross-entropy
    # losses); this class holds the same trackers and `loss_name`.
    _d_scores = GAN._d_scores

    @staticmethod
    def _due(optimizer, interval):
        return ops.equal(ops.mod(optimizer.iterations, interval), 0)

    def discriminator_step(self, real_images):
        """One discriminator update; returns `(d_loss, real_logits, fake_logits, r1 or None, r1 due)`."""
        batch_size = ops.shape(real_images)[0]
        ws, _ = self.sample_ws(batch_size, training=True)
        fake_images = self.synthesis(ws, training=True)

        def loss():
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
            total = d_loss
            r1 = due = None
            if self.r1_gamma:
                loss_scale = getattr(self.d_optimizer, "dynamic_scale", None)

                def penalty():
                    critic = lambda x: self.discriminator(x, training=True)  # noqa: E731
                    return losses.r1_penalty(critic, real_images, loss_scale=loss_scale)

                due = self._due(self.d_optimizer, self.r1_interval)
                r1 = penalty() if self.r1_interval == 1 else engine.cond(due, penalty, lambda: ops.zeros((), "float32"))
                total = total + 0.5 * self.r1_gamma * self.r1_interval * r1
            return total, d_loss, real_logits, fake_logits, r1, due

        _, d_loss, real_logits, fake_logits, r1, due = engine.update(
            self.d_optimizer, self.discriminator.trainable_variables, loss
        )
        return d_loss, real_logits, fake_logits, r1, due

    def _path_length(self, batch_size):
        """The path length penalty on a fresh, shrunk, style-mixed batch, and the new mean."""
        loss_scale = getattr(self.g_optimizer, "dynamic_scale", None)
        shrunk = batch_size // self.path_length_batch_shrink
        # A static batch (always on JAX, where shapes must be concrete) stays a Python int.
        pl_batch = max(shrunk, 1) if isinstance(shrunk, int) else ops.maximum(shrunk, 1)
        ws, _ = self.sample_ws(pl_batch, training=True)
        noise = self.normal((pl_batch, *self.image_shape))
        return losses.path_length_penalty(
            lambda x: self.synthesis(x, training=True),
            ws,
            noise,
            self.pl_mean,
            decay=self.path_length_decay,
            loss_scale=loss_scale,
        )

    def generator_step(self, batch_size):
        """One generator update (mapping and synthesis); moves `w_avg` and `pl_mean`.

        Returns `(g_loss, path length penalty or None, due)`.
        """

        def loss():
            ws, w = self.sample_ws(batch_size, training=True)
            fake_logits = self.discriminator(self.synthesis(ws, training=True), training=True)
            g_loss = self.g_loss_fn(fake_logits)
            total = g_loss
            pl = due = new_mean = None
            if self.path_length_weight:
                due = self._due(self.g_optimizer, self.path_length_interval)
                if self.path_length_interval == 1:
                    pl, new_mean = self._path_length(batch_size)
                else:
                    pl, new_mean = engine.cond(
                        due,
                        lambda: self._path_length(batch_size),
                        lambda: (ops.zeros((), "float32"), ops.convert_to_tensor(self.pl_mean)),
                    )
                total = total + self.path_length_weight * self.path_length_interval * pl
            # The new mean and w leave through the return value (on JAX nothing
            # computed inside the loss may escape otherwise).
            return total, g_loss, pl, due, new_mean, w

        _, g_loss, pl, due, new_mean, w = engine.update(self.g_optimizer, self.generator_variables, loss)
        if self.path_length_weight:
            # Outside the condition: a synchronised variable cannot be assigned in a branch.
            self.pl_mean.assign(new_mean)
        self.update_w_avg(w)
        return g_loss, pl, due

    @staticmethod
    def _replicas():
        """Replicas whose batches make the global batch: `tf.distribute`'s count on TensorFlow.

        On JAX the step sees the global batch (`keras.distribution` shards it
        inside one program), so 1.
        """
        if keras.backend.backend() != "tensorflow":
            return 1
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync

    def ema_momentum(self, batch_size):
        """`0.5 ** (global batch / half-life)`, the half-life ramped up by `ema_rampup` if set."""
        images = ops.cast(batch_size * self._replicas(), "float32")
        half_life = ops.convert_to_tensor(self.ema_half_life_images, "float32")
        if self.ema_rampup is not None:
            # Images seen before this step's generator update.
            seen = ops.cast(self.g_optimizer.iterations - 1, "float32") * images
            half_life = ops.minimum(half_life, seen * self.ema_rampup)
        return ops.power(0.5, images / ops.maximum(half_life, 1e-8))

    def update_ema(self, batch_size):
        """Moves `ema_mapping` and `ema_synthesis` toward the trained nets."""
        momentum = self.ema_momentum(batch_size)
        pairs = list(zip(self.ema_mapping.weights, self.mapping.weights)) + list(
            zip(self.ema_synthesis.weights, self.synthesis.weights)
        )
        modes = {id(layer.noise_mode) for layer in noise_layers(self.ema_synthesis)}
        for average, weight in pairs:
            if weight.trainable:
                value = ops.cast(weight, average.dtype)
                average.assign(value + momentum * (average - value))
            elif id(average) not in modes and "float" in str(average.dtype):
                # Buffers (noise_const, batch statistics) are copied, as in the reference
                # code; noise_mode stays the EMA net's own setting, seed states their own.
                average.assign(weight)

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = ops.shape(real_images)[0]
        d_loss, real_logits, fake_logits, r1, r1_due = self.discriminator_step(real_images)
        g_loss, pl, pl_due = self.generator_step(batch_size)
        self.update_ema(batch_size)
        penalties = {}
        if r1 is not None:
            penalties["r1_penalty"] = (r1, r1_due if self.r1_interval > 1 else None)
        if pl is not None:
            penalties["pl_penalty"] = (pl, pl_due if self.path_length_interval > 1 else None)
        return self._track(d_loss, g_loss, real_logits, fake_logits, penalties)

    def test_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        ws, _ = self.sample_ws(ops.shape(real_images)[0], training=False)
        fake_logits = self.discriminator(self.synthesis(ws, training=False), training=False)
        real_logits = self.discriminator(real_images, training=False)
        return self._track(self.d_loss_fn(real_logits, fake_logits), self.g_loss_fn(fake_logits), real_logits, fake_logits)

    def _track(self, d_loss, g_loss, real_logits, fake_logits, penalties=None):
        # The GAN's trackers and logs (a lazy penalty averaged over the steps that
        # computed it), and the path lengths' running mean.
        logs = GAN._track(self, d_loss, g_loss, real_logits, fake_logits, penalties)
        if self.path_length_weight:
            logs["pl_mean"] = ops.convert_to_tensor(self.pl_mean)
        return logs

    # -- serialisation ---------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mapping": keras.saving.serialize_keras_object(self.mapping),
                "synthesis": keras.saving.serialize_keras_object(self.synthesis),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "style_mixing": self.style_mixing,
                "r1_gamma": self.r1_gamma,
                "r1_interval": self.r1_interval,
                "path_length_weight": self.path_length_weight,
                "path_length_interval": self.path_length_interval,
                "path_length_decay": self.path_length_decay,
                "path_length_batch_shrink": self.path_length_batch_shrink,
                "w_avg_decay": self.w_avg_decay,
                "ema_half_life_images": self.ema_half_life_images,
                "ema_rampup": self.ema_rampup,
                "loss": self.loss_name,
                "seed": self.seed,
            }
        )
        return config
