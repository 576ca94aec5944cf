"""PPL and projection on the JAX backend, against TensorFlow for the same weights.

The TensorFlow side runs in this process (the default backend of the suite);
the JAX side in one fresh process with KERAS_BACKEND=jax and `import
tensorflow` made to fail, started once for the module. Both load the same
weights (saved here with `get_weights`), so the numbers can be compared where
they are deterministic: the path distances of given codes with given noise, and
projections whose code noise is off (`initial_noise_factor=0`); the random
streams of the two backends differ, so a projection with code noise is only
checked to reduce its loss.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

# Nets and the computations, run on both backends: `compute(weights_file)` -> dict.
COMMON = textwrap.dedent(
    """
    import keras
    import numpy as np
    from keras import layers

    from zoo import projection
    from zoo.layers import NoiseInjection
    from zoo.metrics import ppl


    def make_nets():
        keras.utils.set_random_seed(0)
        z = keras.Input((8,))
        x = layers.Dense(8, activation="tanh")(layers.UnitNormalization()(z))
        mapping = keras.Model(z, layers.Dense(8)(x), name="mapping")
        ws = keras.Input((2, 8))
        h = layers.Dense(4 * 4 * 8, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(ws[:, 0])
        h = layers.UpSampling2D()(layers.Reshape((4, 4, 8))(h))
        h = layers.LeakyReLU(0.2)(layers.Conv2D(8, 3, padding="same")(h))
        h = NoiseInjection(seed=1, name="noise_8")(h)
        h = h * (1.0 + layers.Dense(8)(ws[:, 1])[:, None, None, :])
        h = NoiseInjection(seed=2, name="noise_16")(layers.UpSampling2D()(h))
        synthesis = keras.Model(ws, layers.Conv2D(1, 3, padding="same", activation="tanh")(h), name="synthesis")
        for layer in projection.noise_layers(synthesis):
            layer.strength.assign(0.05)
        i = keras.Input((16, 16, 1))
        f = layers.Flatten()(layers.Conv2D(4, 3, strides=2, activation="relu")(i))
        f = layers.Dense(8, activation="tanh", name="features")(f)
        classifier = keras.Model(i, layers.Dense(3)(f), name="tiny")
        generator = keras.Sequential([keras.Input((6,)), layers.Dense(16, activation="tanh"), layers.Dense(64),
                                      layers.Reshape((8, 8, 1)), layers.Activation("tanh")])
        return [mapping, synthesis, classifier, generator]


    def load(nets, weights_file):
        saved = np.load(weights_file)
        flat = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        for net in nets:
            count = len(net.get_weights())
            net.set_weights(flat[:count])
            flat = flat[count:]


    def compute(weights_file):
        nets = make_nets()
        load(nets, weights_file)
        mapping, synthesis, classifier, generator = nets
        features = ppl.ppl_features_classifier(classifier)
        out = {}
        # epsilon 1e-2: at StyleGAN's 1e-4 float32 round-off in the feature
        # difference is ~1% of a distance, on either backend.
        for space in ("w", "z"):
            result, kept = ppl.perceptual_path_length(mapping, synthesis, features, space=space, sampling="full",
                                                      epsilon=1e-2, num_samples=12, batch_size=6, seed=3,
                                                      return_distances=True)
            out[f"ppl_{space}"] = [result[f"ppl_{space}_full"], kept.tolist()]
        rng = np.random.default_rng(1)
        layers_ = projection.noise_layers(synthesis)
        targets = projection.synthesize(
            synthesis, 0.5 * rng.standard_normal((2, 2, 8)),
            [rng.standard_normal((2,) + tuple(l.noise_const.shape[1:])) for l in layers_])
        r = projection.project((mapping, synthesis), targets, space="w+", steps=12, w_avg_samples=100, seed=4,
                               initial_noise_factor=0.0, features=features, pixel_weight=0.5)
        out["w_plus"] = {"ws": r.codes.tolist(), "history": r.history.tolist(), "noise": r.noise[0].tolist(),
                         "distances": r.distances.tolist()}
        seen = []
        r = projection.project((mapping, synthesis), targets, space="w", steps=30, w_avg_samples=100, seed=4,
                               callback=lambda step, ws, d: seen.append(step))
        out["noisy"] = {"history": r.history.tolist(), "seen": seen, "distances": r.distances.tolist()}
        goal = np.asarray(generator(np.random.default_rng(7).standard_normal((3, 6)).astype("float32")))
        codes, _, history, losses, _ = projection.project(generator, goal, steps=25, learning_rate=0.05,
                                                          regularization=0.01)
        out["latent"] = {"codes": codes.tolist(), "losses": losses.tolist(), "history": history.tolist()}
        return out
    """
)

JAX_SCRIPT = """
import sys
sys.modules["tensorflow"] = None  # `import tensorflow` fails, as on a machine without it
import json
{common}
import keras
from zoo import engine

assert keras.backend.backend() == "jax"
out = compute(sys.argv[1])

# A compiled function sees weights changed after it was traced, and carries the
# seed state that a random noise layer advances.
mapping, synthesis = make_nets()[:2]
f = engine.function(lambda x: mapping(x, training=False), mapping.variables)
x = np.ones((2, 8), "float32")
first = np.asarray(f(x))
mapping.layers[-1].bias.assign(mapping.layers[-1].bias + 1.0)
second = np.asarray(f(x))
noisy = engine.function(lambda ws: synthesis(ws, training=False), synthesis.variables)
ws = np.zeros((1, 2, 8), "float32")
draws = [np.asarray(noisy(ws)) for _ in range(2)]
counter = keras.Variable(0.0)
run = engine.loop(lambda: (counter.assign_add(1.0), counter.value * 1.0)[1], [])
out["engine"] = {{
    "bias_shift": (second - first).tolist(),
    "noise_differs": bool(np.abs(draws[0] - draws[1]).max() > 1e-6),
    "loop": np.asarray(run(3)).tolist() + np.asarray(run(2)).tolist(),
    "counter": float(counter.value),
}}
out["tensorflow_blocked"] = sys.modules.get("tensorflow", 0) is None
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """`(tensorflow, jax)` results of `compute` for one set of weights."""
    namespace = {}
    exec(COMMON, namespace)
    weights = tmp_path_factory.mktemp("jax_tools") / "weights.npz"
    np.savez(weights, *[w for net in namespace["make_nets"]() for w in net.get_weights()])
    on_tf = json.loads(json.dumps(namespace["compute"](str(weights))))
    script = weights.parent / "script.py"
    script.write_text(JAX_SCRIPT.format(common=COMMON))
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, str(script), str(weights)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return on_tf, json.loads(done.stdout.strip().splitlines()[-1])


def test_ppl_on_jax_equals_tensorflow_for_the_same_weights(results):
    on_tf, on_jax = results
    for space in ("w", "z"):
        (tf_mean, tf_kept), (jax_mean, jax_kept) = on_tf[f"ppl_{space}"], on_jax[f"ppl_{space}"]
        assert np.isfinite(jax_mean) and jax_mean > 0
        np.testing.assert_allclose(jax_mean, tf_mean, rtol=1e-4)
        np.testing.assert_allclose(jax_kept, tf_kept, rtol=2e-3)


def test_projection_on_jax_reduces_the_loss_and_matches_tensorflow(results):
    on_tf, on_jax = results
    history = np.asarray(on_jax["w_plus"]["history"])
    assert np.all(history[-1] < 0.7 * history[0])
    for key in ("ws", "history", "noise", "distances"):
        np.testing.assert_allclose(on_jax["w_plus"][key], on_tf["w_plus"][key], rtol=1e-4, atol=1e-5, err_msg=key)
    # With code noise the random streams differ: the loss still falls, the callback sees every step.
    noisy = on_jax["noisy"]
    assert noisy["seen"] == list(range(1, 31))
    assert np.all(np.asarray(noisy["distances"]) < 0.5 * np.asarray(noisy["history"][0]))


def test_latent_project_on_jax_matches_tensorflow(results):
    on_tf, on_jax = results
    history = np.asarray(on_jax["latent"]["history"])
    assert np.all(history[-1] < 0.5 * history[0])
    for key in ("codes", "losses", "history"):
        np.testing.assert_allclose(on_jax["latent"][key], on_tf["latent"][key], rtol=1e-4, atol=1e-6, err_msg=key)


def test_compiled_functions_see_new_weights_and_carry_assigned_variables_on_jax(results):
    engine = results[1]["engine"]
    np.testing.assert_allclose(engine["bias_shift"], np.ones((2, 8)), atol=1e-6)
    assert engine["noise_differs"]
    assert engine["loop"] == [1.0, 2.0, 3.0, 4.0, 5.0] and engine["counter"] == 5.0


def test_no_tensorflow_on_jax(results):
    assert results[1]["tensorflow_blocked"]
