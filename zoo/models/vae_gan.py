"""VAE-GAN: a VAE whose reconstruction is judged in a discriminator's feature space."""

import keras
from keras import ops

from zoo import checks, engine, losses
from zoo.models.base import MultiOptimizerModel
from zoo.models.vae import VAE


@keras.saving.register_keras_serializable(package="zoo")
class VAEGAN(VAE):
    """Larsen et al.'s VAE/GAN: encoder, decoder (= generator) and discriminator, three optimizers.

    With `x~ = Dec(z)`, `z ~ q(z|x)`, and `x_p = Dec(z_p)`, `z_p ~ N(0, I)`:
    - reconstruction `recon_loss` = `-log N(Dis_l(x); Dis_l(x~), I)` (up to a
      constant: half the squared distance of the discriminator's `feature_layer`
      activations), per image;
    - `kl_loss` = `KL(q(z|x) || N(0, I))` per image (zero for an AE-GAN);
    - the adversarial terms on both `x~` and `x_p` (`loss`, from the foundation's
      adversarial losses), averaged: `d_loss` for the discriminator, `g_loss`
      for the decoder.
    The encoder minimises `beta * kl_loss + recon_loss`, the decoder
    `recon_weight * recon_loss + g_loss` (the paper's gamma), the
    discriminator `d_loss`; the three updates use one forward pass, as in the
    paper. The discriminator is not trained by the reconstruction loss.

    AE-GAN: an encoder with one `code` output (`variational=False`) gives the
    deterministic variant (no KL, no prior samples in the adversarial terms).

    Args:
        encoder: `keras.Model`, images -> `[z_mean, z_log_var]` (VAE-GAN) or
            `code` (AE-GAN).
        decoder: `keras.Model`, code -> logits of the image shape (read by
            `likelihood` as for `zoo.models.VAE`; Gaussian by default: the images
            are the logits clipped to [-1, 1]).
        discriminator: `keras.Model`, images -> one logit, with a layer named
            `feature_layer` (`zoo.nets.dcgan_discriminator` has "features").
        feature_layer: str, default "features".
        recon_weight: float > 0, gamma: weight of the feature reconstruction in
            the decoder's loss. Default 1e-2 (the paper's 1e-6 is for its
            summed, unnormalised layer; tune it to the layer's size).
        beta: float >= 0, weight of the KL term. Default 1.
        loss: adversarial loss name ("non_saturating", ...). Default "non_saturating".
        likelihood: how the decoder's logits become pixels. Default "gaussian".
        seed: int or None.

    Example:
    ```python
    model = zoo.models.VAEGAN(
        zoo.nets.conv_encoder((64, 64, 3), 128, filters=(64, 128, 256)),
        zoo.nets.conv_decoder(128, (64, 64, 3), filters=(256, 128, 64)),
        zoo.nets.dcgan_discriminator((64, 64, 3)),
    )
    model.compile()                      # RMSprop(3e-4) for each, as in the paper
    model.fit(faces, epochs=10)
    model.reconstruct(faces[:8]); model.generate(16)
    ```

    Reference: Larsen, Sonderby, Larochelle & Winther, "Autoencoding beyond
    pixels using a learned similarity metric", ICML 2016.
    """

    OPTIMIZERS = ("e_optimizer", "g_optimizer", "d_optimizer")
    NETS = ("encoder", "decoder", "discriminator")

    def __init__(
        self,
        encoder,
        decoder,
        discriminator,
        feature_layer="features",
        recon_weight=1e-2,
        beta=1.0,
        loss="non_saturating",
        likelihood="gaussian",
        **kwargs,
    ):
        self._variational = len(encoder.outputs) == 2
        super().__init__(encoder, decoder, beta=beta, likelihood=likelihood, **kwargs)
        if self.conditional:
            raise ValueError("VAEGAN takes unconditional nets (one input each)")
        self.discriminator = discriminator
        self.feature_layer = feature_layer
        self.recon_weight = checks.number(recon_weight, "recon_weight", above=0)
        self.loss_name = loss
        self.d_loss_fn, self.g_loss_fn = losses.get_adversarial_loss(loss)
        try:
            features = discriminator.get_layer(feature_layer).output
        except ValueError:
            raise ValueError(
                f"feature_layer={feature_layer!r} is not a layer of the discriminator {discriminator.name!r}"
            ) from None
        if len(discriminator.inputs) != 1 or tuple(discriminator.output_shape[1:]) != (1,):
            raise ValueError(
                f"the discriminator must map images to one logit, got outputs {discriminator.output_shape}"
            )
        image_shape = tuple(encoder.inputs[0].shape[1:])
        if tuple(discriminator.inputs[0].shape[1:]) != image_shape:
            raise ValueError(
                f"discriminator input shape {tuple(discriminator.inputs[0].shape[1:])} does not match "
                f"the images {image_shape}"
            )
        # Shares the discriminator's layers: logits and features in one call.
        self.critic = keras.Model(discriminator.inputs[0], [discriminator.outputs[0], features], name="critic_features")
        del self.trackers["elbo"]  # no pixel likelihood: no ELBO to log
        self.track("d_loss", "g_loss")

    def _check_nets(self):
        if self._variational:
            return super()._check_nets()
        shapes = self._encoder_code_shapes()
        if shapes != [(self.latent_dim,)]:
            raise ValueError(
                f"the encoder must output [z_mean, z_log_var] (VAE-GAN) or one code (AE-GAN), "
                f"each (batch, {self.latent_dim}); got outputs of shapes {shapes}"
            )
        self._check_image_shapes()

    @property
    def variational(self):
        return self._variational

    def code_of(self, encoder_outputs):
        return encoder_outputs[0] if self._variational else encoder_outputs

    # -- optimizers ------------------------------------------------------------------

    def compile(self, e_optimizer=None, g_optimizer=None, d_optimizer=None, jit_compile=None, **kwargs):
        """One optimizer per net (default RMSprop(3e-4) each, the paper's)."""
        # The players' compile, not the autoencoders' single optimizer; it refuses optimizer= and loss=.
        MultiOptimizerModel.compile(
            self, e_optimizer=e_optimizer, g_optimizer=g_optimizer, d_optimizer=d_optimizer, jit_compile=jit_compile, **kwargs
        )

    def default_optimizers(self):
        # Larsen et al. 2016, sec. 4: RMSProp at 3e-4 for each player.
        return {name: lambda: keras.optimizers.RMSprop(3e-4) for name in self.OPTIMIZERS}

    def optimizer_variables(self):
        return {
            "e_optimizer": self.encoder.trainable_variables,
            "g_optimizer": self.decoder.trainable_variables,
            "d_optimizer": self.discriminator.trainable_variables,
        }

    # -- training --------------------------------------------------------------------

    def _forward(self, images, training):
        encoded = self.encoder(images, training=training)
        if self._variational:
            z_mean, z_log_var = (ops.cast(t, "float32") for t in encoded)
            z = self.sample_code(z_mean, z_log_var)
            kl = losses.gaussian_kl(z_mean, z_log_var)
        else:
            z = ops.cast(encoded, "float32")
            kl = ops.zeros((ops.shape(z)[0],), "float32")
        reconstructions = self.logits_to_images(self.decoder(z, training=training))
        real_logits, real_features = self.critic(images, training=training)
        recon_logits, recon_features = self.critic(reconstructions, training=training)
        difference = ops.reshape(
            ops.cast(real_features, "float32") - ops.cast(recon_features, "float32"), (ops.shape(z)[0], -1)
        )
        recon = 0.5 * ops.sum(ops.square(difference), axis=-1)
        fake_logits = [recon_logits]
        if self._variational:
            prior = self.normal(ops.shape(z))
            prior_logits, _ = self.critic(self.logits_to_images(self.decoder(prior, training=training)), training=training)
            fake_logits.append(prior_logits)
        return recon, kl, real_logits, fake_logits

    def train_step(self, data):
        images, _ = self.unpack(data)
        players = self.optimizer_variables()

        def objectives():
            recon, kl, real_logits, fake_logits = self._forward(images, training=True)
            recon, kl = ops.mean(recon), ops.mean(kl)
            d_loss = sum(self.d_loss_fn(real_logits, f) for f in fake_logits) / len(fake_logits)
            g_loss = sum(self.g_loss_fn(f) for f in fake_logits) / len(fake_logits)
            e_total = self.beta * kl + recon
            g_total = self.recon_weight * recon + g_loss
            totals = {
                "e_optimizer": e_total,
                "g_optimizer": g_total,
                "d_optimizer": d_loss,
            }
            return [totals[name] for name in players], (recon, kl, d_loss, g_loss)

        # One forward pass; each player's gradient at everyone's pre-step weights.
        _, (recon, kl, d_loss, g_loss) = engine.update_players(
            [(getattr(self, name), variables) for name, variables in players.items()], objectives
        )
        return self.log(loss=recon + self.beta * kl, recon_loss=recon, kl_loss=kl, d_loss=d_loss, g_loss=g_loss)

    def test_step(self, data):
        images, _ = self.unpack(data)
        recon, kl, _, _ = self._forward(images, training=False)
        logs = self.log(loss=recon + self.beta * kl, recon_loss=recon, kl_loss=kl)
        return {name: logs[name] for name in ("loss", "recon_loss", "kl_loss")}

    def log_likelihood(self, *args, **kwargs):
        raise NotImplementedError(
            "VAEGAN has no pixel likelihood to bound: its reconstruction is measured in the "
            "discriminator's feature space"
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "feature_layer": self.feature_layer,
                "recon_weight": self.recon_weight,
                "loss": self.loss_name,
            }
        )
        return config
