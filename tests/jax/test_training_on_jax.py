"""Training on JAX beyond the model harness (the JAX pass): loss scaling with a gradient penalty, fresh critic batches."""

import keras
import numpy as np
import pytest

from zoo import nets
from zoo.models import GAN

assert keras.backend.backend() == "jax"


def test_a_wgan_gp_fits_and_evaluates_under_mixed_float16():
    """The penalty's inner gradients and the players' gradients are unscaled by each player's loss scale."""
    keras.mixed_precision.set_global_policy("mixed_float16")  # the suite's fixture sets float32 back
    model = GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4),
                nets.dcgan_discriminator((16, 16, 1), base_filters=4, normalization="layer"),
                loss="wasserstein", gradient_penalty=10.0, seed=2)
    model.compile()
    assert type(model.d_optimizer).__name__ == type(model.g_optimizer).__name__ == "LossScaleOptimizer"
    data = np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 1)).astype("float32")
    before = [np.array(v.value) for v in model.generator.trainable_variables]
    history = model.fit(data, batch_size=16, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert all(not np.array_equal(a, np.array(v.value)) for a, v in zip(before, model.generator.trainable_variables))
    evaluated = model.evaluate(data, batch_size=16, verbose=0, return_dict=True)
    assert evaluated and all(np.isfinite(v) for v in evaluated.values())
    assert model.generate(3).shape == (3, 16, 16, 1)


def test_critic_updates_take_fresh_real_batches_on_jax():
    """d_steps=2: a step's batch of 16 gives each critic update its own 8 images (issue 25), under JAX's jit."""
    model = GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4),
                nets.dcgan_discriminator((16, 16, 1), base_filters=4, normalization="layer"),
                loss="wasserstein", gradient_penalty=10.0, d_steps=2, seed=2)
    model.compile()
    data = np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 1)).astype("float32")
    history = model.fit(data, batch_size=16, epochs=1, verbose=0)
    assert int(model.d_optimizer.iterations) == 2 * 4 and int(model.g_optimizer.iterations) == 4
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert [batch[0].shape[0] for batch in model.real_batches(data[:16])] == [8, 8]
    with pytest.raises(ValueError, match="a step's batch of 9 must be a multiple of 2"):
        model.fit(data[:9], batch_size=9, epochs=1, verbose=0)
