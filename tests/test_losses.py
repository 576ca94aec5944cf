"""Adversarial losses against values computed by hand on fixed logits."""

import math

import numpy as np
import pytest

from keras import ops

from zoo import losses

REAL = np.array([[2.0], [-1.0]], dtype="float32")
FAKE = np.array([[0.5], [-3.0]], dtype="float32")


def softplus(x):
    return math.log1p(math.exp(x))


def close(value, expected):
    assert float(value) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_minimax_d_loss_is_binary_cross_entropy():
    # -log sigmoid(l) = softplus(-l); -log(1 - sigmoid(l)) = softplus(l)
    real_term = (softplus(-2.0) + softplus(1.0)) / 2
    fake_term = (softplus(0.5) + softplus(-3.0)) / 2
    close(losses.minimax_d_loss(REAL, FAKE), real_term + fake_term)


def test_minimax_d_loss_with_smoothed_real_target():
    target = 0.9
    real_term = np.mean([target * softplus(-l) + (1 - target) * softplus(l) for l in (2.0, -1.0)])
    fake_term = (softplus(0.5) + softplus(-3.0)) / 2
    close(losses.minimax_d_loss(REAL, FAKE, real_target=target), real_term + fake_term)


def test_minimax_g_loss_is_log_one_minus_d():
    expected = np.mean([math.log(1 - 1 / (1 + math.exp(-l))) for l in (0.5, -3.0)])
    close(losses.minimax_g_loss(FAKE), expected)


def test_non_saturating_g_loss_is_minus_log_d():
    expected = np.mean([-math.log(1 / (1 + math.exp(-l))) for l in (0.5, -3.0)])
    close(losses.non_saturating_g_loss(FAKE), expected)


def test_non_saturating_and_minimax_share_the_discriminator_loss():
    close(losses.non_saturating_d_loss(REAL, FAKE), float(losses.minimax_d_loss(REAL, FAKE)))


def test_least_squares_losses():
    d = 0.5 * np.mean([(2.0 - 1) ** 2, (-1.0 - 1) ** 2]) + 0.5 * np.mean([0.5**2, 3.0**2])
    close(losses.least_squares_d_loss(REAL, FAKE), d)
    close(losses.least_squares_g_loss(FAKE), 0.5 * np.mean([(0.5 - 1) ** 2, (-3.0 - 1) ** 2]))


def test_hinge_losses():
    d = np.mean([max(0, 1 - 2.0), max(0, 1 + 1.0)]) + np.mean([max(0, 1 + 0.5), max(0, 1 - 3.0)])
    close(losses.hinge_d_loss(REAL, FAKE), d)  # (0 + 2)/2 + (1.5 + 0)/2 = 1.75
    close(losses.hinge_d_loss(REAL, FAKE), 1.75)
    close(losses.hinge_g_loss(FAKE), 1.25)


def test_wasserstein_losses():
    close(losses.wasserstein_d_loss(REAL, FAKE), np.mean([0.5, -3.0]) - np.mean([2.0, -1.0]))
    close(losses.wasserstein_g_loss(FAKE), 1.25)


def test_losses_are_float32_for_low_precision_logits():
    import keras

    half = keras.ops.cast(REAL, "bfloat16")
    assert keras.backend.standardize_dtype(losses.minimax_d_loss(half, half).dtype) == "float32"


def test_get_adversarial_loss_names_the_known_losses():
    assert losses.get_adversarial_loss("hinge") == (losses.hinge_d_loss, losses.hinge_g_loss)
    with pytest.raises(ValueError, match="hinge.*least_squares.*minimax"):
        losses.get_adversarial_loss("bce")


def test_auxiliary_classifier_loss_is_the_class_negative_log_likelihood():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], "float32")
    labels = np.array([0, 2])
    first = -math.log(math.exp(2.0) / (math.exp(2.0) + 1.0 + math.exp(-1.0)))
    second = math.log(3.0)
    assert float(losses.auxiliary_classifier_loss(logits, labels)) == pytest.approx((first + second) / 2, rel=1e-6)


# -- penalties: a linear critic D(x) = <w, x> has gradient w everywhere ------------

W = np.array([0.3, -1.2, 2.0, 0.5], dtype="float32")


def linear_critic(x):
    return np.float32(1.0) * (x @ W.reshape(4, 1))


def test_gradient_penalty_of_a_linear_critic():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(2, 3, 4)).astype("float32")
    alpha = rng.uniform(size=(3, 1)).astype("float32")
    norm = float(np.linalg.norm(W))
    close(losses.gradient_penalty(linear_critic, real, fake, alpha), (norm - 1.0) ** 2)
    close(losses.gradient_penalty(linear_critic, real, fake, alpha, target=2.0), (norm - 2.0) ** 2)


def test_gradient_penalty_interpolates_per_example():
    # D(x) = sum(x^2) / 2 has gradient x: the penalty sees each example's own interpolate.
    def critic(x):
        return 0.5 * ops.sum(ops.square(x), axis=-1, keepdims=True)

    real = np.array([[1.0, 0.0], [0.0, 4.0]], "float32")
    fake = np.zeros((2, 2), "float32")
    alpha = np.array([[0.5], [0.25]], "float32")  # interpolates (0.5, 0) and (0, 1)
    close(losses.gradient_penalty(critic, real, fake, alpha), ((0.5 - 1) ** 2 + 0.0) / 2)


def test_gradient_penalty_is_finite_at_zero_gradient():
    def flat(x):
        return 0.0 * ops.sum(x, axis=-1, keepdims=True)

    x = np.ones((2, 3), "float32")
    close(losses.gradient_penalty(flat, x, x, np.full((2, 1), 0.5, "float32")), 1.0)


def test_gradient_penalty_with_a_loss_scale_gives_the_same_value():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(2, 3, 4)).astype("float32")
    alpha = rng.uniform(size=(3, 1)).astype("float32")
    plain = losses.gradient_penalty(linear_critic, real, fake, alpha)
    close(losses.gradient_penalty(linear_critic, real, fake, alpha, loss_scale=2.0**15), float(plain))


def test_r1_penalty_of_a_linear_critic():
    real = np.random.default_rng(2).normal(size=(5, 4)).astype("float32")
    close(losses.r1_penalty(linear_critic, real), float(np.sum(W**2)))


def test_drift_penalty_is_the_mean_squared_real_score():
    # (0.5^2 + (-2)^2 + 3^2 + 0^2) / 4 = 13.25 / 4; ProGAN weighs it by 0.001.
    close(losses.drift_penalty(np.array([[0.5], [-2.0], [3.0], [0.0]], "float16")), 3.3125)


# -- path length: images = A ws (linear), so J_w^T y = A^T y / sqrt(H W) exactly --------

PL_BATCH, PL_NUM_WS, PL_W_DIM, PL_SHAPE = 3, 2, 3, (4, 4, 2)


def linear_synthesis(matrix, scale=1.0):
    def synthesis(ws):
        flat = ops.reshape(ws, (ops.shape(ws)[0], -1))
        return scale * ops.reshape(ops.matmul(flat, matrix), (-1, *PL_SHAPE))

    return synthesis


def expected_lengths(matrix, noise, ws_scale=None):
    """||J^T y|| per sample from the known Jacobian; `ws_scale` multiplies J per sample."""
    y = noise.reshape(PL_BATCH, -1) / math.sqrt(PL_SHAPE[0] * PL_SHAPE[1])
    grads = (y @ matrix.T).reshape(PL_BATCH, PL_NUM_WS, PL_W_DIM)
    if ws_scale is not None:
        grads = grads * ws_scale
    return np.sqrt(np.mean(np.sum(grads**2, axis=2), axis=1))


def pl_inputs(seed=3):
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(PL_NUM_WS * PL_W_DIM, int(np.prod(PL_SHAPE)))).astype("float32")
    ws = rng.normal(size=(PL_BATCH, PL_NUM_WS, PL_W_DIM)).astype("float32")
    noise = rng.normal(size=(PL_BATCH, *PL_SHAPE)).astype("float32")
    return matrix, ws, noise


def test_path_length_penalty_of_a_linear_synthesis():
    matrix, ws, noise = pl_inputs()
    lengths = expected_lengths(matrix, noise)
    assert np.ptp(lengths) > 0.1  # the samples' lengths differ: the penalty is not trivially 0
    penalty, new_mean = losses.path_length_penalty(linear_synthesis(matrix), ws, noise, 0.5, decay=0.01)
    mean = 0.5 + 0.01 * (lengths.mean() - 0.5)
    close(new_mean, mean)
    close(penalty, np.mean((lengths - mean) ** 2))
    # decay 1 jumps to the batch mean: the penalty is then the lengths' variance.
    penalty, new_mean = losses.path_length_penalty(linear_synthesis(matrix), ws, noise, 0.5, decay=1.0)
    close(new_mean, lengths.mean())
    close(penalty, np.var(lengths))


def test_path_length_penalty_follows_a_jacobian_that_depends_on_ws():
    # images = A (ws^2 / 2): J^T y = ws * (A^T y), a different Jacobian per sample.
    matrix, ws, noise = pl_inputs(4)
    linear = linear_synthesis(matrix)
    penalty, new_mean = losses.path_length_penalty(lambda w: linear(0.5 * w**2), ws, noise, 0.0, decay=0.5)
    lengths = expected_lengths(matrix, noise, ws_scale=ws)
    close(new_mean, 0.5 * lengths.mean())
    close(penalty, np.mean((lengths - 0.5 * lengths.mean()) ** 2))


def test_path_length_penalty_is_differentiable_in_the_synthesis_weights():
    import tensorflow as tf

    # images = s A ws: lengths s L, penalty mean((s L - a')^2) with a' held constant.
    matrix, ws, noise = pl_inputs(5)
    scale = tf.Variable(1.5)
    with tf.GradientTape() as tape:
        penalty, new_mean = losses.path_length_penalty(
            lambda w: linear_synthesis(matrix, scale)(w), ws, noise, 1.0, decay=0.1
        )
    lengths = expected_lengths(matrix, noise)
    close(tape.gradient(penalty, scale), np.mean(2 * (1.5 * lengths - float(new_mean)) * lengths))


def test_path_length_penalty_with_a_loss_scale_gives_the_same_value():
    matrix, ws, noise = pl_inputs(6)
    plain = losses.path_length_penalty(linear_synthesis(matrix), ws, noise, 0.3)
    scaled = losses.path_length_penalty(linear_synthesis(matrix), ws, noise, 0.3, loss_scale=2.0**15)
    close(scaled[0], float(plain[0]))
    close(scaled[1], float(plain[1]))


def test_wasserstein_is_registered():
    assert losses.get_adversarial_loss("wasserstein") == (losses.wasserstein_d_loss, losses.wasserstein_g_loss)


# -- VAE terms ---------------------------------------------------------------------------


def test_gaussian_kl_matches_the_closed_form_and_is_zero_at_the_prior():
    mean = np.array([[0.5, -1.0], [0.0, 0.0]], "float32")
    log_var = np.array([[np.log(2.0), np.log(0.5)], [0.0, 0.0]], "float32")
    expected = [
        sum(0.5 * (v + m * m - 1.0 - math.log(v)) for m, v in ((0.5, 2.0), (-1.0, 0.5))),
        0.0,
    ]
    np.testing.assert_allclose(ops.convert_to_numpy(losses.gaussian_kl(mean, log_var)), expected, rtol=1e-6, atol=1e-7)


def test_bernoulli_log_likelihood_sums_log_probabilities_over_pixels():
    targets = np.array([[[1.0, 0.0], [1.0, 1.0]]], "float32")
    logits = np.array([[[2.0, -1.0], [0.0, 30.0]]], "float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = np.sum(np.log(np.where(targets == 1, p, 1 - p)))
    value = ops.convert_to_numpy(losses.bernoulli_log_likelihood(targets, logits))
    assert value.shape == (1,)
    np.testing.assert_allclose(value, [expected], rtol=1e-5)
    # Saturated logits stay finite.
    assert np.isfinite(ops.convert_to_numpy(losses.bernoulli_log_likelihood(targets, 1e4 * logits))).all()


def test_gaussian_log_likelihood_and_density_match_scipy():
    from scipy import stats

    x = np.array([[0.3, -0.2, 0.9]], "float32")
    mean = np.array([[0.1, 0.0, 1.0]], "float32")
    expected = stats.norm(mean, 0.1).logpdf(x).sum()
    np.testing.assert_allclose(ops.convert_to_numpy(losses.gaussian_log_likelihood(x, mean, 0.1)), [expected], rtol=1e-5)
    log_var = np.log(np.array([[0.5, 2.0, 1.0]], "float32"))
    expected = stats.norm(mean, np.sqrt(np.exp(log_var))).logpdf(x).sum()
    np.testing.assert_allclose(ops.convert_to_numpy(losses.gaussian_log_density(x, mean, log_var)), [expected], rtol=1e-5)


def test_image_to_image_reconstruction_losses_by_hand():
    target = np.array([[0.0, 1.0], [-1.0, 0.5]], "float32")
    predicted = np.array([[0.5, 1.0], [0.0, -0.5]], "float32")
    assert float(losses.l1_loss(target, predicted)) == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    assert float(losses.reconstruction_loss("l1", target, predicted)) == pytest.approx(0.625)
    assert float(losses.reconstruction_loss("l2", target, predicted)) == pytest.approx((0.25 + 0 + 1 + 1) / 4)
