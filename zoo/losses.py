"""Adversarial losses as pure functions of discriminator logits.

Every function takes raw (pre-sigmoid) discriminator outputs, returns a scalar
mean over the batch, and names the paper it comes from. Discriminator losses are
`*_d_loss(real_logits, fake_logits)`, generator losses `*_g_loss(fake_logits)`.

`get_adversarial_loss(name)` returns the `(d_loss, g_loss)` pair used by
`zoo.models.GAN(loss=name)`.
"""

from keras import ops

from zoo import engine


def _mean(x):
    return ops.mean(ops.cast(x, "float32"))


def minimax_d_loss(real_logits, fake_logits, real_target=1.0):
    """Discriminator loss of the original minimax GAN.

    `-log D(x) - log(1 - D(G(z)))`, i.e. binary cross-entropy with real
    examples labelled `real_target` (1, or less for one-sided label smoothing)
    and fakes labelled 0.

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    real_term = ops.binary_crossentropy(
        ops.full_like(real_logits, real_target), real_logits, from_logits=True
    )
    fake_term = ops.binary_crossentropy(
        ops.zeros_like(fake_logits), fake_logits, from_logits=True
    )
    return _mean(real_term) + _mean(fake_term)


def minimax_g_loss(fake_logits):
    """Generator loss of the original (saturating) minimax GAN.

    Minimises `log(1 - D(G(z))) = -softplus(logit)`; its gradient vanishes when
    the discriminator confidently rejects fakes, which is why the paper
    recommends the non-saturating form in practice.

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, eq. 1.
    """
    return _mean(-ops.softplus(ops.cast(fake_logits, "float32")))


def non_saturating_d_loss(real_logits, fake_logits, real_target=1.0):
    """Discriminator loss of the non-saturating GAN (same as minimax).

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, sec. 3.
    """
    return minimax_d_loss(real_logits, fake_logits, real_target=real_target)


def non_saturating_g_loss(fake_logits):
    """Generator loss of the non-saturating GAN: `-log D(G(z)) = softplus(-logit)`.

    Reference: Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, sec. 3.
    """
    return _mean(ops.softplus(-ops.cast(fake_logits, "float32")))


def least_squares_d_loss(real_logits, fake_logits, real_target=1.0):
    """Least-squares GAN discriminator loss with the a=0, b=1 coding.

    `0.5 * E[(D(x) - b)^2] + 0.5 * E[D(G(z))^2]` where `b = real_target`.

    Reference: Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017, eq. 2.
    """
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    return 0.5 * _mean(ops.square(real_logits - real_target)) + 0.5 * _mean(
        ops.square(fake_logits)
    )


def least_squares_g_loss(fake_logits):
    """Least-squares GAN generator loss `0.5 * E[(D(G(z)) - 1)^2]`.

    Reference: Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017, eq. 2.
    """
    return 0.5 * _mean(ops.square(ops.cast(fake_logits, "float32") - 1.0))


def hinge_d_loss(real_logits, fake_logits, real_target=1.0):
    """Hinge discriminator loss `E[relu(m - D(x))] + E[relu(1 + D(G(z)))]`.

    `real_target` is the real-side margin `m` (1 by default; smoothing lowers it).

    Reference: Lim & Ye, "Geometric GAN", 2017; Miyato et al., "Spectral
    Normalization for Generative Adversarial Networks", ICLR 2018.
    """
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    return _mean(ops.relu(real_target - real_logits)) + _mean(ops.relu(1.0 + fake_logits))


def hinge_g_loss(fake_logits):
    """Hinge generator loss `-E[D(G(z))]`.

    Reference: Lim & Ye, "Geometric GAN", 2017; Miyato et al., ICLR 2018.
    """
    return -_mean(fake_logits)


def wasserstein_d_loss(real_logits, fake_logits, real_target=1.0):
    """Wasserstein critic loss `E[D(G(z))] - E[D(x)]` (`real_target` is ignored).

    Reference: Arjovsky et al., "Wasserstein GAN", ICML 2017, eq. 3.
    """
    del real_target
    return _mean(fake_logits) - _mean(real_logits)


def wasserstein_g_loss(fake_logits):
    """Wasserstein generator loss `-E[D(G(z))]`.

    Reference: Arjovsky et al., "Wasserstein GAN", ICML 2017.
    """
    return -_mean(fake_logits)


def auxiliary_classifier_loss(class_logits, labels):
    """Class cross-entropy of an AC-GAN discriminator's auxiliary classifier.

    `-log P(C = c | x)`, the mean negative log-likelihood of the true class
    `labels` under `softmax(class_logits)`. The discriminator minimises it on
    real and on generated images, the generator on its generated images (the
    "L_C" term of the paper).

    Args:
        class_logits: `(batch, num_classes)` raw class scores.
        labels: int `(batch,)` class indices.

    Reference: Odena et al., "Conditional Image Synthesis with Auxiliary
    Classifier GANs", ICML 2017, eq. 3.
    """
    class_logits = ops.cast(class_logits, "float32")
    return _mean(ops.sparse_categorical_crossentropy(labels, class_logits, from_logits=True))


def _input_gradients(critic, inputs, loss_scale=None):
    """Gradients of `sum(critic(inputs))` with respect to `inputs`, in float32, flattened.

    Under `mixed_float16` the critic's inner activations are float16 and their
    gradients underflow; `loss_scale` (the optimizer's dynamic scale) multiplies
    the summed output before differentiating and divides the gradients after,
    as the outer loss is scaled. The backend's engine differentiates
    (`zoo.engine.input_gradients`), so the result is differentiable again.
    """
    scale = None if loss_scale is None else ops.cast(loss_scale, "float32")

    def scores(x):
        out = ops.cast(critic(x), "float32")
        return out if scale is None else out * scale

    gradients = engine.input_gradients(scores, ops.cast(inputs, "float32"))
    if scale is not None:
        gradients = gradients / scale
    return ops.reshape(gradients, (ops.shape(gradients)[0], -1))


def gradient_penalty(critic, real, fake, alpha, target=1.0, epsilon=1e-12, loss_scale=None):
    """WGAN-GP penalty `E[(||grad_x D(x_hat)||_2 - target)^2]` on interpolates.

    `x_hat = alpha * real + (1 - alpha) * fake` with one `alpha ~ U[0, 1]` per
    example (pass `alpha` of shape `(batch, 1, ..., 1)`); `epsilon` sits inside
    the square root so that the gradient of the norm stays finite at 0. The
    returned value is not multiplied by the penalty weight (the paper's lambda).

    Args:
        critic: callable images -> scores (called with `training=True` by the
            caller's closure if needed).
        real, fake: tensors of the same shape `(batch, ...)`.
        alpha: `(batch, 1, ...)` mixing weights in [0, 1].
        target: the gradient norm the penalty pulls towards. Default 1.
        epsilon: added to the squared norm before the square root.
        loss_scale: None or the optimizer's loss scale (mixed float16).

    Reference: Gulrajani et al., "Improved Training of Wasserstein GANs",
    NeurIPS 2017, algorithm 1.
    """
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    alpha = ops.cast(alpha, "float32")
    interpolates = alpha * real + (1.0 - alpha) * fake
    gradients = _input_gradients(critic, interpolates, loss_scale)
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=-1) + epsilon)
    return ops.mean(ops.square(norms - target))


def r1_penalty(critic, real, loss_scale=None):
    """R1 penalty `E[||grad_x D(x)||^2]` on real data (not yet halved or weighted).

    The discriminator loss adds `gamma / 2 * r1_penalty`; with lazy
    regularisation every k steps the term is multiplied by k.

    Reference: Mescheder et al., "Which Training Methods for GANs do actually
    Converge?", ICML 2018, eq. 9; Karras et al., "Analyzing and Improving the
    Image Quality of StyleGAN", CVPR 2020, sec. 3.1 (lazy regularisation).
    """
    gradients = _input_gradients(critic, real, loss_scale)
    return ops.mean(ops.sum(ops.square(gradients), axis=-1))


def drift_penalty(real_logits):
    """ProGAN's drift term `E[D(x)^2]` on real scores (not yet weighted).

    The critic loss adds `epsilon_drift * drift_penalty` (epsilon_drift =
    0.001) so that the Wasserstein critic's scores do not drift far from 0.

    Reference: Karras et al., "Progressive Growing of GANs for Improved
    Quality, Stability, and Variation", ICLR 2018, appendix A.1.
    """
    return _mean(ops.square(ops.cast(real_logits, "float32")))


def path_length_penalty(synthesis, ws, noise, pl_mean, decay=0.01, epsilon=1e-8, loss_scale=None):
    """StyleGAN2's path length penalty `E[(||J_w^T y||_2 - a)^2]` and the new mean `a`.

    `J_w` is the Jacobian of the images with respect to the styles `ws`;
    `J_w^T y` is the gradient of `sum(images * y)` with respect to `ws` for
    `y = noise / sqrt(H * W)` (noise standard normal, one value per pixel and
    channel). The length of a sample is the square root of the squared
    gradient summed over the style dimension and averaged over the layers;
    `a`, the running mean of the lengths, moves by
    `a <- a + decay * (mean length - a)` before the penalty is taken. The
    returned penalty is not multiplied by the weight (2 in the paper) nor by
    the lazy interval; it stays differentiable with respect to the weights of
    `synthesis` (and of whatever computed `ws`).

    Args:
        synthesis: callable, styles `(batch, num_ws, w_dim)` -> images
            `(batch, H, W, C)` (called with `training=True` by the caller's
            closure if needed).
        ws: float tensor `(batch, num_ws, w_dim)`.
        noise: standard normal tensor of the images' shape.
        pl_mean: float scalar, the running mean `a` of the path lengths.
        decay: float in [0, 1], the mean's update rate. Default 0.01.
        epsilon: float, added before the square root so that its gradient
            stays finite at a zero Jacobian. Default 1e-8.
        loss_scale: None or the optimizer's loss scale (mixed float16).

    Returns:
        `(penalty, new_pl_mean)`, float32 scalars; the new mean carries no gradient.

    Example:
    ```python
    noise = keras.random.normal(images_shape)
    penalty, pl_mean = zoo.losses.path_length_penalty(synthesis, ws, noise, pl_mean)
    loss = g_loss + 2.0 * interval * penalty
    ```

    Reference: Karras et al., "Analyzing and Improving the Image Quality of
    StyleGAN", CVPR 2020, sec. 3.2 (eq. 4) and appendix B.
    """
    ws = ops.cast(ws, "float32")
    noise = ops.cast(noise, "float32")
    scale = 1.0 if loss_scale is None else ops.cast(loss_scale, "float32")

    def projected(styles):
        images = ops.cast(synthesis(styles), "float32")
        height, width = images.shape[1], images.shape[2]
        if height is None or width is None:
            pixels = ops.cast(ops.shape(images)[1] * ops.shape(images)[2], "float32")
        else:
            pixels = float(height * width)
        return images * noise * (scale / ops.sqrt(pixels))

    gradients = engine.input_gradients(projected, ws)
    if loss_scale is not None:
        gradients = gradients / scale
    lengths = ops.sqrt(ops.mean(ops.sum(ops.square(gradients), axis=2), axis=1) + epsilon)
    pl_mean = ops.cast(pl_mean, "float32")
    new_mean = ops.stop_gradient(pl_mean + decay * (ops.mean(lengths) - pl_mean))
    return ops.mean(ops.square(lengths - new_mean)), new_mean


ADVERSARIAL_LOSSES = {
    "minimax": (minimax_d_loss, minimax_g_loss),
    "non_saturating": (non_saturating_d_loss, non_saturating_g_loss),
    "least_squares": (least_squares_d_loss, least_squares_g_loss),
    "hinge": (hinge_d_loss, hinge_g_loss),
    # Diverges without a Lipschitz constraint on the critic: `zoo.models.GAN`
    # refuses it unless weight clipping, a gradient penalty or spectral
    # normalisation is in place.
    "wasserstein": (wasserstein_d_loss, wasserstein_g_loss),
}


def get_adversarial_loss(name):
    """Returns the `(d_loss, g_loss)` pair registered under `name`.

    Raises:
        ValueError: `name` is not one of `ADVERSARIAL_LOSSES`.
    """
    if name not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"loss must be one of {sorted(ADVERSARIAL_LOSSES)}, got {name!r}"
        )
    return ADVERSARIAL_LOSSES[name]



# -- the semi-supervised GAN (a K+1-class discriminator) -------------------------------


def supervised_loss(labels, logits):
    """Cross-entropy of the K real classes on the labelled batch.

    Because the fake class's logit is fixed at 0, conditioning on "real"
    leaves an ordinary softmax over the K logits.

    Reference: Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016, sec. 5 (L_supervised).
    """
    logits = ops.cast(logits, "float32")
    return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def unsupervised_loss(real_logits, fake_logits):
    """`-E log D(x) - E log(1 - D(G(z)))` with `D(x) = Z / (Z + 1)`, `Z = sum_k exp(l_k)`.

    With `s = logsumexp(l)`: `-log D = softplus(s) - s` and `-log(1 - D) =
    softplus(s)`. The reference code halves this sum (its `loss_unl`), which is
    `SemiSupervisedGAN(unlabelled_weight=0.5)`.

    Reference: Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016, sec. 5 (L_unsupervised).
    """
    real = ops.logsumexp(ops.cast(real_logits, "float32"), axis=-1)
    fake = ops.logsumexp(ops.cast(fake_logits, "float32"), axis=-1)
    return -ops.mean(real) + ops.mean(ops.softplus(real)) + ops.mean(ops.softplus(fake))


def feature_matching_loss(real_features, fake_features):
    """Mean squared difference of the batch-mean features of real and fake images.

    `mean_j (E_x f_j(x) - E_z f_j(G(z)))^2` (a mean over features, as in the
    reference code, rather than the paper's sum, so the scale does not grow with
    the layer width).

    Reference: Salimans et al., "Improved Techniques for Training GANs",
    NeurIPS 2016, sec. 3.1.
    """
    real = ops.mean(ops.cast(real_features, "float32"), axis=0)
    fake = ops.mean(ops.cast(fake_features, "float32"), axis=0)
    return ops.mean(ops.square(real - fake))


def conditional_entropy(logits):
    """Mean entropy of the class posterior `softmax(l)` over the K real classes.

    Minimised on unlabelled real images it pushes the discriminator's decision
    boundaries away from the data (low-density separation).

    Reference: Grandvalet & Bengio, "Semi-supervised Learning by Entropy
    Minimization", NeurIPS 2004; Dai et al., "Good Semi-supervised Learning
    That Requires a Bad GAN", NeurIPS 2017, sec. 5 (the conditional entropy
    term added to the feature-matching GAN's discriminator loss).
    """
    logits = ops.cast(logits, "float32")
    log_p = ops.log_softmax(logits, axis=-1)
    return -ops.mean(ops.sum(ops.exp(log_p) * log_p, axis=-1))


def non_saturating_generator_loss(fake_logits):
    """`-E log D(G(z)) = E softplus(-logsumexp(l))` for the K+1-class discriminator.

    Reference: Goodfellow et al., NeurIPS 2014, sec. 3; Odena, "Semi-Supervised
    Learning with Generative Adversarial Networks", 2016.
    """
    return ops.mean(ops.softplus(-ops.logsumexp(ops.cast(fake_logits, "float32"), axis=-1)))


# -- image-to-image ---------------------------------------------------------------------


def l1_loss(target, predicted):
    """Mean absolute error in float32: pix2pix's reconstruction and CycleGAN's cycle and identity losses.

    Reference: Isola et al., "Image-to-Image Translation with Conditional Adversarial
    Networks", CVPR 2017, eq. 3; Zhu et al., "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks", ICCV 2017, eq. 2.
    """
    return ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(predicted, "float32")))


def reconstruction_loss(kind, target, predicted):
    """Mean absolute ("l1", pix2pix) or squared ("l2", the regression baseline) error, in float32."""
    if kind == "l1":
        return l1_loss(target, predicted)
    return ops.mean(ops.square(ops.cast(target, "float32") - ops.cast(predicted, "float32")))


# -- variational autoencoders ----------------------------------------------------------


def _flat(x):
    x = ops.cast(x, "float32")
    return ops.reshape(x, (ops.shape(x)[0], -1))


def gaussian_kl(mean, log_var):
    """`KL(N(mean, exp(log_var)) || N(0, I))` per example, summed over the code.

    `-0.5 * sum(1 + log_var - mean^2 - exp(log_var))`, shape `(batch,)`.

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014,
    appendix B.
    """
    mean, log_var = _flat(mean), _flat(log_var)
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def bernoulli_log_likelihood(targets, logits):
    """`log p(x | z)` of pixels `x` in [0, 1] under Bernoulli(sigmoid(logits)), per example.

    Summed over pixels, shape `(batch,)`. For binary `x` it is the exact log
    probability; grey values act as soft targets (the cross-entropy of most VAE
    tutorials), which is not a normalised likelihood.

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014,
    appendix C.1.
    """
    targets, logits = _flat(targets), _flat(logits)
    # -softplus(-l) = log sigmoid(l), -softplus(l) = log(1 - sigmoid(l)): stable for large |l|.
    return -ops.sum(
        targets * ops.softplus(-logits) + (1.0 - targets) * ops.softplus(logits), axis=-1
    )


def gaussian_log_likelihood(targets, mean, scale=1.0):
    """`log N(x; mean, scale^2 I)` per example, summed over pixels, shape `(batch,)`.

    With a fixed `scale` it is, up to a constant, the squared error divided by
    `2 scale^2`: the scale sets how much reconstruction weighs against the KL term.

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014,
    appendix C.2.
    """
    targets, mean = _flat(targets), _flat(mean)
    scale = ops.cast(scale, "float32")
    squared = ops.square((targets - mean) / scale)
    per_pixel = -0.5 * squared - ops.log(scale) - 0.5 * ops.log(2.0 * 3.141592653589793)
    return ops.sum(per_pixel, axis=-1)


def gaussian_log_density(z, mean, log_var):
    """`log N(z; mean, exp(log_var))` per example, summed over the code, shape `(batch,)`.

    Used by the importance-weighted bound (`log q(z | x)` and, with zero mean
    and log-variance, the prior `log p(z)`).
    """
    z, mean, log_var = _flat(z), _flat(mean), _flat(log_var)
    return -0.5 * ops.sum(
        ops.square(z - mean) * ops.exp(-log_var) + log_var + ops.log(2.0 * 3.141592653589793),
        axis=-1,
    )
