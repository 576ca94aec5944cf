"""Class-conditional GANs: label input (concat or projection) and AC-GAN."""

import numpy as np
import keras
from keras import ops

from zoo import checks, engine, losses
from zoo.models.gan import GAN


def conditional_classes(model):
    """K if `model` generates by class label (its `conditional` is true), else None.

    A `num_classes` attribute alone does not make a model conditional: a
    semi-supervised GAN has classes but generates without labels.
    """
    if not getattr(model, "conditional", False):
        return None
    value = getattr(model, "num_classes", None)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{type(model).__name__} is conditional but has no positive int num_classes")
    return int(value)


@keras.saving.register_keras_serializable(package="zoo")
class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both see the class label.

    The data are `(images, labels)` batches with int labels `(batch,)` (one-hot
    `(batch, num_classes)` is accepted too). Each fake image is drawn for the
    label of a real image of the same batch, so both players see the data's
    label frequencies.

    How the discriminator uses the label is decided by its net, and the model
    reads it from the net's signature (see `zoo.nets.conditioning`):

    - two inputs `[images, labels]`, one logit: the label is an input, by
      one-hot maps ("concat", Mirza & Osindero 2014) or by an inner product
      with the features ("projection", Miyato & Koyama 2018);
    - one input, `1 + num_classes` logits: AC-GAN (Odena et al. 2017). The
      first logit is real/fake; the rest classify. The discriminator also
      minimises the class cross-entropy on real and fake images, the generator
      on its fakes, each weighted by `auxiliary_weight`.

    Args:
        generator: `keras.Model` mapping `[noise (batch, latent_dim), labels
            (batch,)]` to images, e.g. `zoo.nets.dcgan_generator(num_classes=10)`.
        discriminator: `keras.Model`, `[images, labels] -> (batch, 1)` or
            `images -> (batch, 1 + num_classes)`, e.g.
            `zoo.nets.dcgan_discriminator(num_classes=10, conditioning="projection")`.
        num_classes: int >= 2, number of classes.
        latent_dim: int or None (read from the generator's noise input).
        loss: str, adversarial loss (see `zoo.models.GAN`). Default
            "non_saturating".
        auxiliary_weight: float >= 0, weight of AC-GAN's class losses.
            Default 1.0. Ignored for label-input discriminators.
        d_steps, fresh_real_batches, label_smoothing, instance_noise,
            instance_noise_decay_steps, seed: as for `zoo.models.GAN` (each
            critic update takes its own real images and their labels).

    Logged: `d_loss`, `g_loss`, `d_real`, `d_fake`, and for AC-GAN also
    `aux_loss` (class cross-entropy on real images) and `aux_accuracy`.

    Example:
    ```python
    generator = zoo.nets.dcgan_generator(64, (28, 28, 1), num_classes=10)
    discriminator = zoo.nets.dcgan_discriminator((28, 28, 1), num_classes=10)
    gan = zoo.models.ConditionalGAN(generator, discriminator, num_classes=10)
    gan.compile()
    gan.fit(zoo.data.load("mnist", with_labels=True), epochs=20)
    sevens = gan.generate(16, labels=7)
    ```

    Reference: Mirza & Osindero, "Conditional Generative Adversarial Nets",
    2014; Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018;
    Odena et al., "Conditional Image Synthesis with Auxiliary Classifier
    GANs", ICML 2017.
    """

    # Generates by label: SampleGrid, zoo sample and zoo.metrics pass labels.
    conditional = True

    def __init__(self, generator, discriminator, num_classes, latent_dim=None, auxiliary_weight=1.0, **kwargs):
        num_classes = checks.integer(num_classes, "num_classes", at_least=2)
        auxiliary_weight = checks.number(auxiliary_weight, "auxiliary_weight", at_least=0)
        if len(generator.inputs) != 2:
            raise ValueError(
                "generator must take [noise, labels] (build it with num_classes=...), "
                f"got inputs {generator.input_shape}"
            )
        d_outputs = discriminator.outputs[0].shape[-1]
        if len(discriminator.inputs) == 2 and d_outputs == 1:
            conditioning = "input"
        elif len(discriminator.inputs) == 1 and d_outputs == 1 + num_classes:
            conditioning = "auxiliary"
        else:
            raise ValueError(
                "discriminator must map [images, labels] to 1 logit (concat/projection) "
                f"or images to 1 + num_classes = {1 + num_classes} logits (AC-GAN); got "
                f"inputs {discriminator.input_shape} and outputs {discriminator.output_shape}"
            )
        if kwargs.get("pack", 1) != 1:
            raise ValueError(
                f"ConditionalGAN does not support pack={kwargs['pack']!r}: a packed "
                "discriminator would see samples of different labels at once; use pack=1"
            )
        super().__init__(generator, discriminator, latent_dim=latent_dim, **kwargs)
        self.num_classes = num_classes
        self.conditioning = conditioning
        self.auxiliary_weight = float(auxiliary_weight)
        if conditioning == "auxiliary":
            self.track("aux_loss", "aux_accuracy")

    def call(self, inputs, training=False):
        return self.sampling_generator(inputs, training=training)

    # -- sampling ------------------------------------------------------------

    def generate(self, num_or_z, labels=None, *, batch_size=256):
        """Generates images in [-1, 1] for the given labels, as a numpy array.

        Args:
            num_or_z: int (number of images; noise from the model's seed
                generator) or noise `(n, latent_dim)`.
            labels: None (labels cycle 0, 1, ..., num_classes - 1), an int (every
                image of that class) or ints `(n,)`.
            batch_size: int, images per generator call. Default 256.
        """
        z = self.noise_for(num_or_z)
        labels = self._check_labels(labels, int(z.shape[0]))
        return self.sampling_generator.predict([z, labels], batch_size=batch_size, verbose=0)

    def _check_labels(self, labels, num):
        if labels is None:
            labels = np.arange(num) % self.num_classes
        elif np.ndim(labels) == 0:
            labels = np.full(num, labels)
        labels = np.asarray(labels)
        if labels.shape != (num,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be None, an int or {num} ints, got shape {labels.shape} ({labels.dtype})")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must be in [0, {self.num_classes}), got {labels.min()}..{labels.max()}")
        return labels.astype("int32")

    # -- training ------------------------------------------------------------

    def _unpack(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "ConditionalGAN needs (images, labels) batches; load the data with "
                "with_labels=True"
            )
        images, labels = data[0], data[1]
        if len(labels.shape) == 2 and labels.shape[-1] == self.num_classes and self.num_classes > 1:
            labels = ops.argmax(labels, axis=-1)  # one-hot
        elif len(labels.shape) == 2 and labels.shape[-1] == 1:
            labels = ops.reshape(labels, (-1,))
        elif len(labels.shape) != 1:
            raise ValueError(
                f"labels must be ints (batch,) or (batch, 1), or one-hot (batch, {self.num_classes}); "
                f"got shape {tuple(labels.shape)}"
            )
        return images, ops.cast(labels, "int32")

    def _discriminate(self, images, labels, training):
        """(real/fake logits (batch, 1), class logits or None)."""
        if self.conditioning == "input":
            return self.discriminator([images, labels], training=training), None
        logits = self.discriminator(images, training=training)
        return logits[:, :1], logits[:, 1:]

    def discriminator_step(self, real_images, labels):
        batch_size = ops.shape(real_images)[0]
        fake_images = self.generator([self.sample_noise(batch_size), labels], training=True)

        def loss():
            real_inputs = self._noisy(real_images)
            fake_inputs = self._noisy(fake_images)
            real_logits, real_classes = self._discriminate(real_inputs, labels, True)
            fake_logits, fake_classes = self._discriminate(fake_inputs, labels, True)
            d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0 - self.label_smoothing)
            aux_loss = None
            if self.conditioning == "auxiliary":
                aux_loss = losses.auxiliary_classifier_loss(real_classes, labels)
                total = d_loss + self.auxiliary_weight * (
                    aux_loss + losses.auxiliary_classifier_loss(fake_classes, labels)
                )
            else:
                total = d_loss
            penalty, penalties = self.regularization(
                lambda x: self._discriminate(x, labels, True)[0], real_inputs, fake_inputs
            )
            total = total + penalty
            return total, d_loss, real_logits, fake_logits, (aux_loss, real_classes), penalties

        _, d_loss, real_logits, fake_logits, aux, penalties = engine.update(
            self.d_optimizer, self.discriminator.trainable_variables, loss
        )
        self.clip_discriminator()
        return d_loss, real_logits, fake_logits, aux, penalties

    def generator_step(self, labels):
        batch_size = ops.shape(labels)[0]

        def loss():
            fake_images = self.generator([self.sample_noise(batch_size), labels], training=True)
            fake_logits, fake_classes = self._discriminate(self._noisy(fake_images), labels, True)
            g_loss = self.g_loss_fn(fake_logits)
            total = g_loss
            if self.conditioning == "auxiliary":
                total = g_loss + self.auxiliary_weight * losses.auxiliary_classifier_loss(fake_classes, labels)
            return total, g_loss

        _, g_loss = engine.update(self.g_optimizer, self.generator.trainable_variables, loss)
        self.update_ema()
        return g_loss

    def train_step(self, data):
        real_images, labels = self._unpack(data)
        for real, real_labels in self.real_batches(real_images, labels):
            d_loss, real_logits, fake_logits, aux, penalties = self.discriminator_step(real, real_labels)
        # The generator draws as many images as a critic batch, for the last critic batch's labels.
        g_loss = self.generator_step(real_labels)
        return self._track_conditional(d_loss, g_loss, real_logits, fake_logits, aux, real_labels, penalties)

    def test_step(self, data):
        real_images, labels = self._unpack(data)
        batch_size = ops.shape(real_images)[0]
        fake_images = self.generator([self.sample_noise(batch_size), labels], training=False)
        real_logits, real_classes = self._discriminate(real_images, labels, False)
        fake_logits, _ = self._discriminate(fake_images, labels, False)
        d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0)
        aux_loss = None if real_classes is None else losses.auxiliary_classifier_loss(real_classes, labels)
        return self._track_conditional(
            d_loss, self.g_loss_fn(fake_logits), real_logits, fake_logits, (aux_loss, real_classes), labels
        )

    def _track_conditional(self, d_loss, g_loss, real_logits, fake_logits, aux, labels, penalties=None):
        aux_loss, real_classes = aux
        if self.conditioning == "auxiliary":
            predicted = ops.cast(ops.argmax(real_classes, axis=-1), "int32")
            self.log(aux_loss=aux_loss, aux_accuracy=ops.mean(ops.cast(predicted == labels, "float32")))
        return self._track(d_loss, g_loss, real_logits, fake_logits, penalties)

    # -- serialisation ---------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "auxiliary_weight": self.auxiliary_weight})
        return config
