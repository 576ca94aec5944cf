"""Unpaired image-to-image translation: CycleGAN, with its history pool of generated images."""

import functools

import keras
import numpy as np
from keras import ops

from zoo import checks, engine, losses
from zoo.models.base import MultiOptimizerModel, dcgan_adam, unpaired_batch
from zoo.models.gan import _has_spectral_norm


def _split_seed(seed):
    """Two independent stateless seeds from the stateless seed `seed` (shape `(2,)`)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # TensorFlow's own split: the pool's draws as they always were on TF

        return tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    # keras.random takes a JAX key as its seed: two child keys drawn from it.
    children = keras.random.randint((2, 2), 0, 2**31 - 1, dtype="int32", seed=ops.cast(seed, "uint32"))
    return ops.cast(children[0], "uint32"), ops.cast(children[1], "uint32")


def _uniform(shape, seed, minval=0.0, maxval=1.0, dtype="float32"):
    """Uniform numbers in `[minval, maxval)` for the stateless seed `seed` (ints when `dtype` is one)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.random.stateless_uniform(shape, seed=seed, minval=minval, maxval=maxval, dtype=dtype)
    if "int" in dtype:
        return keras.random.randint(shape, minval, maxval, dtype=dtype, seed=seed)
    return keras.random.uniform(shape, minval, maxval, dtype=dtype, seed=seed)


@keras.saving.register_keras_serializable(package="zoo")
class ImagePool(keras.layers.Layer):
    """A history of generated images that the discriminator is shown instead of the newest ones.

    Called on a batch of new fakes, it returns as many images: while fewer
    than `pool_size` are stored, each new image is stored and returned; once
    the pool is full, each new image is, with probability 1/2, swapped for a
    random stored image (which is returned and replaced by the new one), else
    returned itself. Showing the discriminator older fakes keeps it from
    forgetting them, which damps oscillation.

    The batch is handled at once (no loop over images): images swapped out are
    read from the pool as it was after this batch's fill writes, and when two
    images of a batch draw the same slot the later one is stored, so a batch
    is not exactly the reference's image-by-image loop, but every returned
    image is one the generator made. The pool lives in non-trainable
    variables, saved with the model; under `tf.distribute` every replica keeps
    its own pool (`synchronization="on_read"`), and the saved pool is the
    first replica's.

    Args:
        pool_size: int >= 1, images kept.
        image_shape: `(height, width, channels)` of one image.

    Call args:
        images: `(batch, height, width, channels)` new fakes.
        seed: int tensor of shape `(2,)`, a stateless seed (e.g.
            `model.draw_seed()`), so the draws change every step in a compiled
            `train_step`. On JAX, a key's data (`uint32`; other ints are cast).

    Reference: Shrivastava et al., "Learning from Simulated and Unsupervised
    Images through Adversarial Training", CVPR 2017, section 2.3; Zhu et al.
    2017, section 4 (a pool of 50).
    """

    def __init__(self, pool_size, image_shape, **kwargs):
        kwargs.setdefault("dtype", "float32")  # a store, not a computation: no mixed precision
        super().__init__(**kwargs)
        self.pool_size = checks.positive_int(pool_size, "pool_size")
        self.image_shape = image_shape = checks.image_shape(image_shape)
        # One spare last row receives the writes that must not land anywhere
        # (scattering there is cheaper than masking whole images).
        # `add_weight` takes no `synchronization`; "on_read" gives each replica its own pool.
        with keras.name_scope(self.name, caller=self):
            self.images = keras.Variable(
                "zeros", shape=(pool_size + 1, *image_shape), dtype="float32", trainable=False,
                synchronization="on_read", aggregation="only_first_replica", name="images",
            )
            self.count = keras.Variable(
                0, dtype="int32", trainable=False, synchronization="on_read",
                aggregation="only_first_replica", name="count",
            )
        self.built = True

    def call(self, images, seed):
        images = ops.cast(images, "float32")
        batch = ops.shape(images)[0]
        count = ops.convert_to_tensor(self.count)
        slots = count + ops.arange(batch, dtype="int32")
        filling = slots < self.pool_size
        spare = self.pool_size
        pool = ops.scatter_update(
            ops.convert_to_tensor(self.images), ops.expand_dims(ops.where(filling, slots, spare), -1), images
        )
        swap_seed, slot_seed = _split_seed(seed)
        swap = ops.logical_and(ops.logical_not(filling), _uniform((batch,), swap_seed) < 0.5)
        picks = _uniform((batch,), slot_seed, minval=0, maxval=self.pool_size, dtype="int32")
        returned = ops.where(ops.reshape(swap, (-1, 1, 1, 1)), ops.take(pool, picks, axis=0), images)
        # Of several swaps into one slot only the last is stored (deterministic scatter).
        same_slot = ops.equal(ops.expand_dims(picks, 1), ops.expand_dims(picks, 0))
        later = ops.expand_dims(ops.arange(batch), 1) < ops.expand_dims(ops.arange(batch), 0)
        overwritten = ops.any(
            ops.logical_and(ops.logical_and(same_slot, later), ops.expand_dims(swap, 0)), axis=1
        )
        stored = ops.logical_and(swap, ops.logical_not(overwritten))
        pool = ops.scatter_update(pool, ops.expand_dims(ops.where(stored, picks, spare), -1), images)
        self.images.assign(pool)
        self.count.assign(ops.minimum(count + batch, self.pool_size))
        return returned

    def compute_output_shape(self, images_shape, seed_shape=None):
        return images_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "image_shape": self.image_shape}


@keras.saving.register_keras_serializable(package="zoo")
class CycleGAN(MultiOptimizerModel):
    """Two generators translating between unpaired domains A and B, kept consistent by cycles.

    `generator_ab` maps A to B and `generator_ba` maps B to A;
    `discriminator_a` judges images of domain A (real ones against
    `generator_ba`'s), `discriminator_b` those of domain B. The generators
    minimise their adversarial losses plus `cycle_weight` times the cycle
    losses `|G_ba(G_ab(a)) - a|_1 + |G_ab(G_ba(b)) - b|_1` and, when
    `identity_weight > 0`, `identity_weight * cycle_weight` times the identity
    losses `|G_ab(b) - b|_1 + |G_ba(a) - a|_1`, which keep colours from
    drifting. Each discriminator is then trained on real images and on fakes
    from a history pool (`ImagePool`), its loss halved as in the paper.

    Every net has its own optimizer, so each can be given its own rate; the
    paper's one Adam(2e-4, beta_1=0.5) for both generators and one for both
    discriminators train exactly as four equal ones (Adam's state is per
    variable, and all four step together). The paper keeps the rate for 100 epochs and decays
    it linearly to 0 over 100 more: `zoo.callbacks.LinearDecay`.

    The adversarial terms follow the paper's (least-squares: the generator
    minimises `E[(D(G(x)) - 1)^2]` and each discriminator
    `(E[(D(y) - 1)^2] + E[D(G(x))^2]) / 2`; zoo's `least_squares_*` losses
    carry a factor 1/2 that is undone or used accordingly), so `cycle_weight=10`
    weighs as in the paper.

    Args:
        generator_ab: `keras.Model`, images of A `(batch, h, w, ca)` -> images
            of B `(batch, h, w, cb)` in [-1, 1] (e.g. `zoo.nets.resnet_generator`).
        generator_ba: `keras.Model`, B -> A.
        discriminator_a: `keras.Model`, images of A -> logits of any shape
            (e.g. the PatchGAN `zoo.nets.patch_discriminator(norm="instance")`).
        discriminator_b: `keras.Model`, images of B -> logits.
        loss: str, adversarial loss: "least_squares" (default, the paper),
            "non_saturating", "hinge", ... (see `zoo.losses`).
        cycle_weight: float >= 0, lambda of the paper. Default 10.
        identity_weight: float >= 0, weight of the identity loss *relative to*
            `cycle_weight`, as in the paper and its code (0.5 there: an
            absolute weight of 5). It needs both domains to have the same
            number of channels; 0 turns it off (and skips its two generator
            passes). Default 0.5.
        pool_size: int >= 0, fakes kept per domain in the history pool;
            0 shows the discriminators only the newest fakes. Default 50.
        image_shape: None, `(height, width)` or `(height, width, channels)`:
            the training images' size, which the pool needs when the nets
            accept any size (the channels, if given, must be both domains').
            Default None: read from the nets' input shapes.
        seed: int or None, seed of the pool's draws.

    Example:
    ```python
    g_ab, g_ba = zoo.nets.resnet_generator(num_blocks=9), zoo.nets.resnet_generator(num_blocks=9)
    d_a = zoo.nets.patch_discriminator(norm="instance")
    d_b = zoo.nets.patch_discriminator(norm="instance")
    model = zoo.models.CycleGAN(g_ab, g_ba, d_a, d_b, image_shape=(256, 256))
    model.compile()  # Adam(2e-4, beta_1=0.5) for each net, as in the paper
    data = zoo.data.cycle_gan("horse2zebra")  # (horses, zebras) batches of 1
    model.fit(data, epochs=200, callbacks=[zoo.callbacks.LinearDecay()])  # 100 constant + 100 decaying
    zebras = model.translate_ab(horses)
    ```

    Reference: Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation
    using Cycle-Consistent Adversarial Networks", ICCV 2017.
    """

    OPTIMIZERS = ("g_ab_optimizer", "g_ba_optimizer", "d_a_optimizer", "d_b_optimizer")
    NETS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    EXPORT = "translator_pair"

    def __init__(
        self,
        generator_ab,
        generator_ba,
        discriminator_a,
        discriminator_b,
        loss="least_squares",
        cycle_weight=10.0,
        identity_weight=0.5,
        pool_size=50,
        image_shape=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        for name, net in zip(self.NETS, (generator_ab, generator_ba, discriminator_a, discriminator_b)):
            if not isinstance(net, keras.Model) or len(net.inputs or []) != 1:
                raise ValueError(f"{name} must be a single-input keras.Model, got {net!r}")
        cycle_weight = checks.number(cycle_weight, "cycle_weight", at_least=0)
        identity_weight = checks.number(identity_weight, "identity_weight", at_least=0)
        pool_size = checks.integer(pool_size, "pool_size", at_least=0)
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        if loss == "wasserstein" and not (
            _has_spectral_norm(discriminator_a) and _has_spectral_norm(discriminator_b)
        ):
            raise ValueError(
                "loss='wasserstein' needs spectrally normalised discriminators (CycleGAN has no "
                "gradient penalty or clipping); without a Lipschitz constraint the scores diverge"
            )
        channels_a, channels_b = self._check_channels(generator_ab, generator_ba, discriminator_a, discriminator_b)
        if identity_weight and channels_a != channels_b:
            raise ValueError(
                f"identity_weight must be 0 when the domains' channels differ (A has {channels_a}, "
                f"B has {channels_b}): the identity loss compares G_ab(b) with b"
            )
        size = self._image_size(image_shape, (channels_a, channels_b), generator_ab, generator_ba,
                                discriminator_a, discriminator_b)
        if pool_size and size is None:
            raise ValueError(
                "the history pool needs a fixed image size, and the nets accept any: pass "
                "image_shape=(height, width), or pool_size=0"
            )
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.loss_name = loss
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        self.pool_size = pool_size
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.pool_a = ImagePool(pool_size, (*size, channels_a), name="pool_a") if pool_size else None
        self.pool_b = ImagePool(pool_size, (*size, channels_b), name="pool_b") if pool_size else None
        self.track("g_ab_loss", "g_ba_loss", "cycle_loss", "identity_loss", "d_a_loss", "d_b_loss")
        self.built = True

    @staticmethod
    def _check_channels(generator_ab, generator_ba, discriminator_a, discriminator_b):
        """The channels of domains A and B, checked across the four nets."""
        channels_a = generator_ab.inputs[0].shape[-1]
        channels_b = generator_ab.outputs[0].shape[-1]
        for name, got, expected in (
            ("generator_ba's input", generator_ba.inputs[0].shape[-1], channels_b),
            ("generator_ba's output", generator_ba.outputs[0].shape[-1], channels_a),
            ("discriminator_a's input", discriminator_a.inputs[0].shape[-1], channels_a),
            ("discriminator_b's input", discriminator_b.inputs[0].shape[-1], channels_b),
        ):
            if got != expected:
                raise ValueError(
                    f"generator_ab maps {channels_a} channels (domain A) to {channels_b} (domain B), "
                    f"but {name} has {got} channels; expected {expected}"
                )
        return channels_a, channels_b

    @staticmethod
    def _image_size(image_shape, channels, *nets):
        """`(height, width)` from `image_shape` or the nets' inputs (None if open); checks they agree."""
        sizes = {tuple(net.inputs[0].shape[1:3]) for net in nets}
        sizes.discard((None, None))
        if image_shape is not None:
            shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
            if (
                shape is None
                or len(shape) not in (2, 3)
                or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
            ):
                raise ValueError(
                    f"image_shape must be None, (height, width) or (height, width, channels), got {image_shape!r}"
                )
            if len(shape) == 3 and any(shape[2] != c for c in channels):
                raise ValueError(
                    f"image_shape has {shape[2]} channels, but domain A has {channels[0]} and "
                    f"B {channels[1]}; pass (height, width)"
                )
            sizes.add(shape[:2])
        if len(sizes) > 1 or any(None in size for size in sizes):
            raise ValueError(
                f"the nets and image_shape disagree on the image size: {sorted(map(str, sizes))}"
            )
        return next(iter(sizes)) if sizes else None

    def get_config(self):
        return {
            **super().get_config(),
            **{name: keras.saving.serialize_keras_object(getattr(self, name)) for name in self.NETS},
            "loss": self.loss_name,
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_size,
            "image_shape": self.image_shape,
            "seed": self.seed,
        }

    def default_optimizers(self):
        # Zhu et al. 2017, section 4: Adam, lr 2e-4, beta_1 0.5.
        return dict.fromkeys(self.OPTIMIZERS, dcgan_adam)

    def compile(self, g_ab_optimizer=None, g_ba_optimizer=None, d_a_optimizer=None, d_b_optimizer=None, **kwargs):
        """Configures training with one optimizer per net.

        Args:
            g_ab_optimizer, g_ba_optimizer, d_a_optimizer, d_b_optimizer:
                optimizers (instances, names or configs) of `generator_ab`,
                `generator_ba`, `discriminator_a` and `discriminator_b`. Default
                Adam(2e-4, beta_1=0.5) each (the paper).
            **kwargs: `jit_compile` (None: XLA on GPUs only), `steps_per_execution`,
                `run_eagerly`, ... as for `keras.Model.compile`.
        """
        super().compile(
            g_ab_optimizer=g_ab_optimizer, g_ba_optimizer=g_ba_optimizer,
            d_a_optimizer=d_a_optimizer, d_b_optimizer=d_b_optimizer, **kwargs,
        )

    def optimizer_variables(self):
        return {
            "g_ab_optimizer": self.generator_ab.trainable_variables,
            "g_ba_optimizer": self.generator_ba.trainable_variables,
            "d_a_optimizer": self.discriminator_a.trainable_variables,
            "d_b_optimizer": self.discriminator_b.trainable_variables,
        }

    # -- translation -----------------------------------------------------------

    def call(self, images, training=False):
        return self.generator_ab(images, training=training)

    def translate_ab(self, images, *, batch_size=16):
        """Translates images of domain A (numpy or tensor, [-1, 1]) into B, as a numpy array."""
        return self._translate(self.generator_ab, images, batch_size, "A")

    def translate_ba(self, images, *, batch_size=16):
        """Translates images of domain B (numpy or tensor, [-1, 1]) into A, as a numpy array."""
        return self._translate(self.generator_ba, images, batch_size, "B")

    @staticmethod
    def _translate(generator, images, batch_size, domain):
        from zoo.nets import net_stride

        images = np.asarray(images, dtype="float32")
        channels = generator.inputs[0].shape[-1]
        if images.ndim != 4 or images.shape[-1] != channels:
            raise ValueError(
                f"images of domain {domain} must have shape (batch, height, width, {channels}), "
                f"got {images.shape}"
            )
        stride = net_stride(generator)
        if images.shape[1] % stride or images.shape[2] % stride:
            raise ValueError(
                f"the generator needs a height and width divisible by {stride}, got {images.shape[1:3]}"
            )
        return generator.predict(images, batch_size=batch_size, verbose=0)

    # -- training --------------------------------------------------------------

    def adversarial_g_loss(self, fake_logits):
        """A generator's adversarial loss, the paper's criterion on fakes labelled real."""
        loss = self.g_loss_fn(fake_logits)
        return 2.0 * loss if self.loss_name == "least_squares" else loss  # undo zoo's 1/2

    def adversarial_d_loss(self, real_logits, fake_logits):
        """A discriminator's loss, halved as in the paper."""
        loss = self.d_loss_fn(real_logits, fake_logits)
        return loss if self.loss_name == "least_squares" else 0.5 * loss  # zoo's carries the 1/2

    def generator_losses(self, real_a, real_b, training=True):
        """Both generators' objective and its parts, with the fakes.

        Returns:
            dict with `total` (the generators' shared objective), `g_ab_loss`,
            `g_ba_loss` (adversarial), `cycle_loss`, `identity_loss` (unweighted
            L1 sums over both directions; 0 when `identity_weight` is 0),
            `fake_a` and `fake_b`.
        """
        fake_b = self.generator_ab(real_a, training=training)
        fake_a = self.generator_ba(real_b, training=training)
        g_ab_loss = self.adversarial_g_loss(self.discriminator_b(fake_b, training=training))
        g_ba_loss = self.adversarial_g_loss(self.discriminator_a(fake_a, training=training))
        cycle_loss = losses.l1_loss(real_a, self.generator_ba(fake_b, training=training)) + losses.l1_loss(
            real_b, self.generator_ab(fake_a, training=training)
        )
        total = g_ab_loss + g_ba_loss + self.cycle_weight * cycle_loss
        identity_loss = ops.zeros((), "float32")
        if self.identity_weight:
            identity_loss = losses.l1_loss(real_b, self.generator_ab(real_b, training=training)) + losses.l1_loss(
                real_a, self.generator_ba(real_a, training=training)
            )
            total = total + self.identity_weight * self.cycle_weight * identity_loss
        return {
            "total": total,
            "g_ab_loss": g_ab_loss,
            "g_ba_loss": g_ba_loss,
            "cycle_loss": cycle_loss,
            "identity_loss": identity_loss,
            "fake_a": fake_a,
            "fake_b": fake_b,
        }

    def generator_step(self, real_a, real_b):
        """Updates both generators on their shared objective; returns `generator_losses`' dict."""

        def loss():
            out = self.generator_losses(real_a, real_b, training=True)
            return [out["total"], out["total"]], out  # one objective, differentiated by each player

        _, out = engine.update_players(
            [
                (self.g_ab_optimizer, self.generator_ab.trainable_variables),
                (self.g_ba_optimizer, self.generator_ba.trainable_variables),
            ],
            loss,
        )
        return out

    def pooled(self, pool, fakes):
        """What a discriminator is shown of `fakes`: drawn from `pool` (None: the fakes)."""
        fakes = ops.stop_gradient(fakes)
        return fakes if pool is None else pool(fakes, self.draw_seed())

    def discriminator_loss(self, discriminator, real, fake):
        """A discriminator's halved loss on real images and (pooled) fakes, in training mode."""
        return self.adversarial_d_loss(discriminator(real, training=True), discriminator(fake, training=True))

    def discriminator_step(self, real_a, real_b, fake_a, fake_b):
        """Updates each discriminator on real images and pooled fakes; returns `(d_a_loss, d_b_loss)`."""
        d_losses = []
        for discriminator, optimizer, pool, real, fake in (
            (self.discriminator_a, self.d_a_optimizer, self.pool_a, real_a, fake_a),
            (self.discriminator_b, self.d_b_optimizer, self.pool_b, real_b, fake_b),
        ):
            fake = self.pooled(pool, fake)
            loss = functools.partial(self.discriminator_loss, discriminator, real, fake)
            d_losses.append(engine.update(optimizer, discriminator.trainable_variables, loss))
        return tuple(d_losses)

    def train_step(self, data):
        real_a, real_b = unpaired_batch(data, "CycleGAN")
        # Generators first, as in the paper's code; the discriminators then see
        # the fakes of this step (through the pool), made before the update.
        out = self.generator_step(real_a, real_b)
        d_a_loss, d_b_loss = self.discriminator_step(real_a, real_b, out["fake_a"], out["fake_b"])
        return self._track(out, d_a_loss, d_b_loss)

    def test_step(self, data):
        real_a, real_b = unpaired_batch(data, "CycleGAN")
        out = self.generator_losses(real_a, real_b, training=False)
        d_a_loss = self.adversarial_d_loss(
            self.discriminator_a(real_a, training=False), self.discriminator_a(out["fake_a"], training=False)
        )
        d_b_loss = self.adversarial_d_loss(
            self.discriminator_b(real_b, training=False), self.discriminator_b(out["fake_b"], training=False)
        )
        return self._track(out, d_a_loss, d_b_loss)

    def _track(self, out, d_a_loss, d_b_loss):
        generator_losses = {name: out[name] for name in ("g_ab_loss", "g_ba_loss", "cycle_loss", "identity_loss")}
        return self.log(**generator_losses, d_a_loss=d_a_loss, d_b_loss=d_b_loss)
