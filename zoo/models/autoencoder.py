"""The autoencoder: an encoder and a decoder trained to reconstruct, optionally from noisy input."""

import keras
from keras import ops

from zoo import checks, engine, losses
from zoo.models.base import MultiOptimizerModel

LIKELIHOODS = ("bernoulli", "gaussian")


@keras.saving.register_keras_serializable(package="zoo")
class Autoencoder(MultiOptimizerModel):
    """Encoder -> code -> decoder, trained to reconstruct its input.

    Images are in [-1, 1], as everywhere in zoo. The decoder outputs per-pixel
    logits; `likelihood` says how they are read and scored:
    "bernoulli": pixels `sigmoid(logits)` in [0, 1], scored by the Bernoulli
    log-likelihood of the images mapped to [0, 1] (binary cross-entropy);
    "gaussian": the logits are the pixels in [-1, 1], scored by a Gaussian
    log-likelihood with standard deviation `gaussian_scale` (squared error).
    `recon_loss` is the negative log-likelihood per image, in nats.

    Denoising (Vincent et al. 2008): with `noise_stddev > 0` the encoder sees
    the images plus Gaussian noise (clipped to [-1, 1]) during training and the
    decoder must return the clean images.

    Nets with an int `labels` input (`num_classes=` in the `zoo.nets`
    encoder/decoder builders) make the model conditional: it then trains on
    `(images, labels)` batches, and `encode`, `decode`, `reconstruct` and
    `generate` take `labels`.

    Decoding random normal codes (`generate`) is defined for every autoencoder,
    but a plain one was never asked to give N(0, I) codes a meaning: that is
    the VAE's point (`zoo.models.VAE`).

    Args:
        encoder: `keras.Model`, images (and labels) -> code `(batch, latent_dim)`.
        decoder: `keras.Model`, code (and labels) -> logits of the image shape.
        likelihood: "bernoulli" (default) or "gaussian".
        gaussian_scale: float > 0, the Gaussian likelihood's standard deviation
            in [-1, 1] pixel units. Default 0.1.
        noise_stddev: float >= 0, denoising input noise. Default 0 (off).
        seed: int or None, seed of the model's noise.

    Example:
    ```python
    autoencoder = zoo.models.Autoencoder(
        zoo.nets.conv_encoder((28, 28, 1), latent_dim=16, variational=False),
        zoo.nets.conv_decoder(16, (28, 28, 1)),
    )
    autoencoder.compile(optimizer=keras.optimizers.Adam(1e-3))
    autoencoder.fit(images, epochs=10, batch_size=128)      # images in [-1, 1]
    codes = autoencoder.encode(images)
    autoencoder.decode(codes)                               # images in [-1, 1]
    ```

    Reference: Hinton & Salakhutdinov, "Reducing the Dimensionality of Data
    with Neural Networks", Science 2006; Vincent et al., "Extracting and
    Composing Robust Features with Denoising Autoencoders", ICML 2008.
    """

    def __init__(
        self,
        encoder,
        decoder,
        likelihood="bernoulli",
        gaussian_scale=0.1,
        noise_stddev=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = checks.choice(likelihood, "likelihood", LIKELIHOODS)
        self.gaussian_scale = checks.number(gaussian_scale, "gaussian_scale", above=0)
        self.noise_stddev = checks.number(noise_stddev, "noise_stddev", at_least=0)
        self.num_classes = self._read_num_classes()
        self.latent_dim = self._read_latent_dim()
        self._check_nets()
        self.track("loss", "recon_loss")
        self.built = True

    # -- nets ------------------------------------------------------------------------

    @property
    def conditional(self):
        return self.num_classes is not None

    def _read_num_classes(self):
        """The label count from the decoder's one-hot layer, or None for unconditional nets."""
        encoder_inputs, decoder_inputs = len(self.encoder.inputs), len(self.decoder.inputs)
        if encoder_inputs != decoder_inputs or encoder_inputs not in (1, 2):
            raise ValueError(
                "encoder and decoder must both take one input (unconditional) or two "
                f"(conditional: images/code and labels); got {encoder_inputs} and {decoder_inputs}"
            )
        if encoder_inputs == 1:
            return None
        counts = []
        for net in (self.encoder, self.decoder):
            try:
                counts.append(net.get_layer("label_one_hot").num_tokens)
            except ValueError:
                raise ValueError(
                    f"{net.name!r} takes two inputs but has no 'label_one_hot' layer; build "
                    "conditional nets with num_classes= (zoo.nets.conv_encoder, ...)"
                ) from None
        if counts[0] != counts[1]:
            raise ValueError(f"encoder and decoder disagree on num_classes: {counts[0]} vs {counts[1]}")
        return counts[0]

    def _read_latent_dim(self):
        shape = self.decoder.inputs[0].shape
        return int(shape[-1])

    def _encoder_code_shapes(self):
        outputs = self.encoder.outputs
        return [tuple(o.shape[1:]) for o in outputs]

    def _check_nets(self):
        shapes = self._encoder_code_shapes()
        if shapes != [(self.latent_dim,)]:
            raise ValueError(
                f"the encoder must output one code of shape (batch, {self.latent_dim}) "
                f"(the decoder's input); got outputs of shapes {shapes}. A VAE encoder "
                "(z_mean, z_log_var) goes to zoo.models.VAE"
            )
        self._check_image_shapes()

    def _check_image_shapes(self):
        image_shape = tuple(self.encoder.inputs[0].shape[1:])
        decoded = tuple(self.decoder.outputs[0].shape[1:])
        if image_shape != decoded:
            raise ValueError(
                f"the decoder's output shape {decoded} does not match the encoder's input "
                f"shape {image_shape}"
            )

    def _net_inputs(self, x, labels):
        if not self.conditional:
            return x
        if labels is None:
            raise ValueError(
                f"this model is conditional on {self.num_classes} classes: pass labels"
            )
        return [x, ops.cast(ops.reshape(labels, (-1,)), "int32")]

    # -- the generator (what is served) ---------------------------------------------

    @property
    def generator(self):
        """`keras.Model` code (and labels) -> images in [-1, 1]: the decoder and the pixel map.

        Shares the decoder's weights; it is what `zoo.export.export_generator`
        serves and what `zoo.training.train`'s sample grids draw with.
        """
        cached = self.__dict__.get("_generator")
        if cached is None:
            x = self.decoder.outputs[0]
            if self.likelihood == "bernoulli":
                x = keras.layers.Activation("sigmoid", dtype="float32", name="pixel_probability")(x)
                x = keras.layers.Rescaling(2.0, offset=-1.0, dtype="float32", name="images")(x)
            else:  # clip the Gaussian mean to [-1, 1]
                x = keras.layers.Rescaling(1.0, offset=1.0, dtype="float32")(x)
                x = keras.layers.ReLU(max_value=2.0, dtype="float32")(x)
                x = keras.layers.Rescaling(1.0, offset=-1.0, dtype="float32", name="images")(x)
            inputs = self.decoder.inputs if self.conditional else self.decoder.inputs[0]
            cached = keras.Model(inputs, x, name=f"{self.decoder.name}_images")
            # Not tracked as a sub-layer: its weights are the decoder's.
            object.__setattr__(self, "_generator", cached)
        return cached

    # -- pixels ----------------------------------------------------------------------

    def logits_to_images(self, logits):
        """Decoder logits -> images in [-1, 1]."""
        logits = ops.cast(logits, "float32")
        if self.likelihood == "bernoulli":
            return 2.0 * ops.sigmoid(logits) - 1.0
        return ops.clip(logits, -1.0, 1.0)

    def reconstruction_log_likelihood(self, images, logits):
        """`log p(x | z)` per image, in nats (images in [-1, 1])."""
        images = ops.cast(images, "float32")
        if self.likelihood == "bernoulli":
            return losses.bernoulli_log_likelihood((images + 1.0) / 2.0, logits)
        return losses.gaussian_log_likelihood(images, logits, self.gaussian_scale)

    # -- inference ---------------------------------------------------------------------

    def _batched(self, fn, arrays, batch_size):
        """Applies `fn` to slices of `arrays` and joins the numpy results."""
        n = int(arrays[0].shape[0])
        if n == 0:
            raise ValueError("got an empty batch")
        parts = [fn(*[a[i : i + batch_size] for a in arrays]) for i in range(0, n, batch_size)]
        if isinstance(parts[0], (list, tuple)):
            return [ops.convert_to_numpy(ops.concatenate([p[j] for p in parts], 0)) for j in range(len(parts[0]))]
        return ops.convert_to_numpy(ops.concatenate(parts, 0))

    def _arrays(self, x, labels):
        x = ops.convert_to_tensor(x, dtype="float32")
        if not self.conditional:
            return [x]
        if labels is None:
            raise ValueError(f"this model is conditional on {self.num_classes} classes: pass labels")
        labels = ops.convert_to_tensor(labels)
        if labels.shape[0] != x.shape[0]:
            raise ValueError(f"got {x.shape[0]} inputs but {labels.shape[0]} labels")
        return [x, labels]

    def encode(self, images, labels=None, batch_size=256):
        """The codes of `images` (numpy, `(n, latent_dim)`)."""
        return self._batched(
            lambda *a: self.code_of(
                self.encoder(self._net_inputs(a[0], a[1] if len(a) > 1 else None), training=False)
            ),
            self._arrays(images, labels),
            batch_size,
        )

    def decode(self, codes, labels=None, batch_size=256):
        """Images in [-1, 1] decoded from `codes` `(n, latent_dim)` (numpy)."""
        codes = ops.convert_to_tensor(codes, dtype="float32")
        if len(codes.shape) != 2 or codes.shape[-1] != self.latent_dim:
            raise ValueError(f"codes must have shape (n, {self.latent_dim}), got {tuple(codes.shape)}")
        return self._batched(
            lambda *a: self.logits_to_images(
                self.decoder(self._net_inputs(a[0], a[1] if len(a) > 1 else None), training=False)
            ),
            self._arrays(codes, labels),
            batch_size,
        )

    def reconstruct(self, images, labels=None, batch_size=256):
        """`decode(encode(images))`, images in [-1, 1]."""
        return self.decode(self.encode(images, labels, batch_size), labels, batch_size)

    def generate(self, num_or_z, labels=None, batch_size=256):
        """Decodes N(0, I) codes (an int draws them) into images in [-1, 1]."""
        if isinstance(num_or_z, int) and not isinstance(num_or_z, bool):
            if num_or_z < 1:
                raise ValueError(f"number of images must be positive, got {num_or_z}")
            num_or_z = keras.random.normal((num_or_z, self.latent_dim), seed=self.seed_generator)
            if self.conditional and isinstance(labels, int):
                labels = ops.full((num_or_z.shape[0],), labels, dtype="int32")
        return self.decode(num_or_z, labels, batch_size)

    def call(self, inputs, training=False):
        """Decoder logits of `inputs` (images, or `[images, labels]` when conditional)."""
        labels = inputs[1] if self.conditional else None
        code = self.code_of(self.encoder(inputs, training=training))
        return self.decoder(self._net_inputs(code, labels), training=training)

    def code_of(self, encoder_outputs):
        """The deterministic code in the encoder's outputs (a VAE's: the mean)."""
        return encoder_outputs

    # -- training ----------------------------------------------------------------------

    # The optimizer attribute and the nets it trains (`MultiOptimizerModel`): one
    # player, Keras' own `optimizer`; subclasses with more players (VAEGAN) extend both.
    OPTIMIZERS = ("optimizer",)
    NETS = ("encoder", "decoder")

    def default_optimizers(self):
        return {"optimizer": lambda: keras.optimizers.Adam()}

    def compile(self, optimizer="adam", jit_compile=None, **kwargs):
        """Keras' `compile` with one optimizer; the loss comes from the constructor.

        Args:
            optimizer: optimizer instance, name or config. Default "adam".
            jit_compile: bool, None or "auto". None/"auto" (default): XLA on
                GPUs/TPUs only (on CPUs XLA skips oneDNN and is slower).
            **kwargs: other `keras.Model.compile` arguments (`steps_per_execution`, ...).
        """
        if kwargs.get("loss") is not None:
            raise ValueError(
                f"{type(self).__name__}.compile takes no loss: set likelihood= in the constructor"
            )
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    def optimizer_variables(self):
        """`{optimizer attribute: the variables it trains}`."""
        return {"optimizer": self.trainable_variables}

    def unpack(self, data):
        """`(images, labels or None)` from a batch: images, `(images,)` or `(images, labels)`."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (list, tuple)):
            if len(x) != 2:
                raise ValueError("expected batches of images or (images, labels)")
            x, y = x
        if self.conditional and y is None:
            raise ValueError(
                f"{type(self).__name__} is conditional on {self.num_classes} classes: "
                "train on (images, labels) batches"
            )
        return x, (y if self.conditional else None)

    def corrupt(self, images):
        """Denoising input: images plus Gaussian noise, clipped to [-1, 1]."""
        if self.noise_stddev == 0.0:
            return images
        noise = self.normal(ops.shape(images), stddev=self.noise_stddev)
        return ops.clip(ops.cast(images, "float32") + noise, -1.0, 1.0)

    def train_step(self, data):
        images, labels = self.unpack(data)

        def objective():
            code = self.encoder(self._net_inputs(self.corrupt(images), labels), training=True)
            logits = self.decoder(self._net_inputs(code, labels), training=True)
            recon = -ops.mean(self.reconstruction_log_likelihood(images, logits))
            return recon

        recon = engine.update(self.optimizer, self.trainable_variables, objective)
        return self.log(loss=recon, recon_loss=recon)

    def test_step(self, data):
        images, labels = self.unpack(data)
        code = self.encoder(self._net_inputs(images, labels), training=False)
        logits = self.decoder(self._net_inputs(code, labels), training=False)
        recon = -self.reconstruction_log_likelihood(images, logits)
        return self.log(loss=recon, recon_loss=recon)

    # -- serialisation -------------------------------------------------------------------

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "likelihood": self.likelihood,
                "gaussian_scale": self.gaussian_scale,
                "noise_stddev": self.noise_stddev,
                "seed": self.seed,
            }
        )
        return config
