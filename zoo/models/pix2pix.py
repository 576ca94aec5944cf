"""Paired image-to-image translation: pix2pix, and colourisation as pix2pix on L -> ab."""

import copy
import types

import keras
import numpy as np
from keras import ops

from zoo import checks, engine, losses
from zoo.models.base import MultiOptimizerModel, batch_parts, dcgan_adam

RECONSTRUCTIONS = ("l1", "l2")
INFERENCE = ("paper", "deterministic")


@keras.saving.register_keras_serializable(package="zoo")
class Pix2Pix(MultiOptimizerModel):
    """A conditional GAN that translates a source image into a target image.

    The generator maps a source image to its translation; the discriminator
    judges `[source, image]` pairs, so it learns what a *matching* target looks
    like, and a reconstruction loss (L1, weight 100 in the paper) ties the
    output to the paired ground truth. The discriminator's loss is halved, as in
    the paper, to slow it relative to the generator.

    With `adversarial_weight=0` (and no discriminator) the model is plain
    regression on the pairs: the L1 pre-training of a GAN colouriser (DeOldify's
    "NoGAN" first phase) or, with `reconstruction="l2"`, the L2 regression
    baseline. Sharing one generator between such a model and a full `Pix2Pix`
    gives the two-phase training.

    Inference runs as the paper's test mode by default (`inference="paper"`,
    section 3.3): dropout stays on, the model's only noise, so one source
    gives varied translations, and batch norm normalises each image with its
    own statistics (the reference's `test.py`, batch size 1, no `--eval`)
    rather than the moving averages. That net is a weight-sharing twin of the
    generator (`zoo.nets.paper_inference_net`): it never updates the moving
    averages, and an image's output does not depend on the rest of its batch.
    With instance norm only dropout changes; a net with neither (the Deep
    Koalarization colouriser) gives the same output in both modes.
    `inference="deterministic"` is Keras' inference, `generator(x,
    training=False)`: no dropout, moving averages. `translate`, `predict` and
    `call(training=False)` follow `inference` (`translate(x,
    inference=...)` overrides it per call); `evaluate` scores the
    deterministic output, a noise-free validation loss; an export
    (`zoo.export.export_translator`) serves the model's mode by default and
    has a signature for each mode.

    Args:
        generator: `keras.Model`, source `(batch, h, w, cs)` -> target
            `(batch, h, w, ct)` in [-1, 1] (e.g. `zoo.nets.unet_generator`).
        discriminator: `keras.Model` taking `[source, image]` and returning
            logits of any shape (e.g. the PatchGAN
            `zoo.nets.patch_discriminator(source_channels=cs)`), or None when
            `adversarial_weight` is 0.
        loss: str, adversarial loss: "non_saturating" (default, the paper),
            "least_squares", "hinge", ... (see `zoo.losses`).
        reconstruction: "l1" (default, the paper) or "l2".
        reconstruction_weight: float >= 0, lambda of the paper. Default 100.
        adversarial_weight: float >= 0, weight of the generator's adversarial
            loss. Default 1; 0 trains the generator by regression alone.
        inference: "paper" (default) or "deterministic", how the generator
            runs at inference (above). A config saved before this option
            existed loads with the default, "paper".
        seed: int or None; also seeds the paper mode's dropout noise (a
            reloaded model draws the same noise sequence again).

    Example:
    ```python
    generator = zoo.nets.unet_generator(num_downsamples=8)
    discriminator = zoo.nets.patch_discriminator(source_channels=3)
    model = zoo.models.Pix2Pix(generator, discriminator)
    model.compile()  # Adam(2e-4, beta_1=0.5) for both, as in the paper
    model.fit(zoo.data.paired_folder("facades/train", batch_size=1), epochs=200)
    translated = model.translate(sources)  # the paper's test mode: dropout noise, per-image statistics
    same_every_time = model.translate(sources, inference="deterministic")
    ```

    Reference: Isola, Zhu, Zhou & Efros, "Image-to-Image Translation with
    Conditional Adversarial Networks", CVPR 2017.
    """

    OPTIMIZERS = ("d_optimizer", "g_optimizer")
    NETS = ("generator", "discriminator")
    EXPORT = "translator"

    def __init__(
        self,
        generator,
        discriminator=None,
        loss="non_saturating",
        reconstruction="l1",
        reconstruction_weight=100.0,
        adversarial_weight=1.0,
        inference="paper",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.reconstruction = checks.choice(reconstruction, "reconstruction", RECONSTRUCTIONS)
        self.inference = checks.choice(inference, "inference", INFERENCE)
        self.reconstruction_weight = checks.number(reconstruction_weight, "reconstruction_weight", at_least=0)
        self.adversarial_weight = checks.number(adversarial_weight, "adversarial_weight", at_least=0)
        if not isinstance(generator, keras.Model) or len(generator.inputs) != 1:
            raise ValueError(f"generator must be a single-input keras.Model, got {generator!r}")
        if adversarial_weight and discriminator is None:
            raise ValueError("a discriminator is needed unless adversarial_weight is 0")
        if discriminator is not None:
            self._check_discriminator(generator, discriminator)
        self.generator = generator
        self.discriminator = discriminator
        self.loss_name = loss
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        self.track("g_loss", "recon_loss", *(("d_loss", "d_real", "d_fake") if discriminator is not None else ()))
        # The paper twin, built on first use, in a namespace that Keras neither tracks nor saves: the twin
        # shares the generator's weights and owns only its dropout seeds, no part of the model's state.
        self._paper = types.SimpleNamespace(generator=None, net=None)
        self.built = True

    @staticmethod
    def _check_discriminator(generator, discriminator):
        inputs = discriminator.inputs or []
        if len(inputs) != 2:
            raise ValueError(
                "the discriminator must take [source, image] (two inputs, e.g. "
                f"zoo.nets.patch_discriminator(source_channels=...)), got {len(inputs)} input(s)"
            )
        expected = (generator.inputs[0].shape[-1], generator.outputs[0].shape[-1])
        got = (inputs[0].shape[-1], inputs[1].shape[-1])
        if expected != got:
            raise ValueError(
                f"the discriminator takes [source, image] with {got[0]} and {got[1]} channels, "
                f"but the generator maps {expected[0]} channels to {expected[1]}"
            )

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": None
            if self.discriminator is None
            else keras.saving.serialize_keras_object(self.discriminator),
            "loss": self.loss_name,
            "reconstruction": self.reconstruction,
            "reconstruction_weight": self.reconstruction_weight,
            "adversarial_weight": self.adversarial_weight,
            "inference": self.inference,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # Keras edits nested net configs in place
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        if config.get("discriminator") is not None:
            config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    def default_optimizers(self):
        # Isola et al. 2017: Adam, lr 2e-4, beta_1 0.5.
        return dict.fromkeys(self.OPTIMIZERS, dcgan_adam)

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training: one optimizer per player (default Adam(2e-4, beta_1=0.5))."""
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)

    def optimizer_variables(self):
        return {
            "d_optimizer": [] if self.discriminator is None else self.discriminator.trainable_variables,
            "g_optimizer": self.generator.trainable_variables,
        }

    def inference_net(self, inference=None):
        """The net that runs inference in mode `inference` (None: the model's `inference`).

        "deterministic" is the generator itself (called with `training=False`);
        "paper" is its weight-sharing twin `zoo.nets.paper_inference_net`, made
        once and rebuilt if the generator is replaced.
        """
        inference = self.inference if inference is None else checks.choice(inference, "inference", INFERENCE)
        if inference == "deterministic":
            return self.generator
        if self._paper.generator is not self.generator:
            from zoo.nets import paper_inference_net

            self._paper.net = paper_inference_net(self.generator, seed=self.seed)
            self._paper.generator = self.generator
        return self._paper.net

    def call(self, source, training=False):
        if training:
            return self.generator(source, training=True)
        return self.inference_net()(source, training=False)

    def predict(self, x, *args, **kwargs):
        """`keras.Model.predict` through `inference_net()`.

        The paper twin's dropout seeds are its own variables, not this model's:
        run by the twin's own `predict`, they advance on every backend (a JAX
        step compiled for this model would read them as constants).
        """
        return self.inference_net().predict(x, *args, **kwargs)

    def translate(self, sources, *, batch_size=16, inference=None):
        """Translates source images (numpy or tensor, [-1, 1]) into a numpy array.

        Args:
            sources: images `(batch, height, width, channels)`, height and width
                divisible by the generator's stride.
            batch_size: int, images per call. Default 16 (in either mode an image's
                output does not depend on the others in its call).
            inference: None (the model's `inference`), "paper" or "deterministic".

        Raises:
            ValueError: the images' rank, channels or size do not fit the generator.
        """
        from zoo.nets import net_stride

        sources = np.asarray(sources, dtype="float32")
        channels = self.generator.inputs[0].shape[-1]
        if sources.ndim != 4 or sources.shape[-1] != channels:
            raise ValueError(
                f"sources must be images (batch, height, width, {channels}), got shape {sources.shape}"
            )
        stride = net_stride(self.generator)
        if sources.shape[1] % stride or sources.shape[2] % stride:
            raise ValueError(
                f"the generator needs a height and width divisible by {stride}, got {sources.shape[1:3]}"
            )
        return self.inference_net(inference).predict(sources, batch_size=batch_size, verbose=0)

    @staticmethod
    def _pair(data):
        data = batch_parts(data)
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("Pix2Pix trains on (source, target) pairs of image batches")
        return data

    def _d_score(self, logits):
        logits = ops.cast(logits, "float32")
        if self.loss_name in ("minimax", "non_saturating"):
            logits = ops.sigmoid(logits)
        return ops.mean(logits)

    def _d_loss(self, real_logits, fake_logits):
        d_loss = self.d_loss_fn(real_logits, fake_logits)
        if self.loss_name == "least_squares":
            return d_loss  # zoo's LSGAN loss already carries the factor 1/2
        return 0.5 * d_loss  # the paper halves D's objective

    def discriminator_step(self, source, target, fake):
        def loss():
            real_logits = self.discriminator([source, target], training=True)
            fake_logits = self.discriminator([source, fake], training=True)
            return self._d_loss(real_logits, fake_logits), real_logits, fake_logits

        return engine.update(self.d_optimizer, self.discriminator.trainable_variables, loss)

    def generator_step(self, source, target):
        def loss():
            fake = self.generator(source, training=True)
            recon_loss = losses.reconstruction_loss(self.reconstruction, target, fake)
            total = self.reconstruction_weight * recon_loss
            g_loss = ops.zeros((), "float32")
            if self.adversarial_weight:
                g_loss = self.g_loss_fn(self.discriminator([source, fake], training=True))
                total = total + self.adversarial_weight * g_loss
            return total, fake, g_loss, recon_loss

        _, fake, g_loss, recon_loss = engine.update(self.g_optimizer, self.generator.trainable_variables, loss)
        return fake, g_loss, recon_loss

    def train_step(self, data):
        source, target = self._pair(data)
        # The generator first: its output (dropout noise included) is the fake the
        # discriminator then judges, so one generator pass serves both updates.
        fake, g_loss, recon_loss = self.generator_step(source, target)
        if self.discriminator is not None and self.adversarial_weight:
            d_loss, real_logits, fake_logits = self.discriminator_step(source, target, ops.stop_gradient(fake))
            self._track_discriminator(d_loss, real_logits, fake_logits)
        return self.log(g_loss=g_loss, recon_loss=recon_loss)

    def test_step(self, data):
        source, target = self._pair(data)
        fake = self.generator(source, training=False)
        if self.discriminator is not None:
            real_logits = self.discriminator([source, target], training=False)
            fake_logits = self.discriminator([source, fake], training=False)
            self.log(g_loss=self.g_loss_fn(fake_logits))
            self._track_discriminator(self._d_loss(real_logits, fake_logits), real_logits, fake_logits)
        return self.log(recon_loss=losses.reconstruction_loss(self.reconstruction, target, fake))

    def _track_discriminator(self, d_loss, real_logits, fake_logits):
        self.log(d_loss=d_loss, d_real=self._d_score(real_logits), d_fake=self._d_score(fake_logits))
