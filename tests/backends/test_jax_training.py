"""Training on the JAX backend, run in fresh processes with KERAS_BACKEND=jax.

The default suite runs on TensorFlow; these tests start Python with the JAX
backend for what only a whole process can show: checkpoints and resume after a
kill without TensorFlow, a checkpoint written on one backend restored on the
other, and data parallelism over two host devices. They skip where JAX is not
installed. Fitting on JAX is tested in-process by the JAX pass (tests/steps,
tests/jax).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

COMMON = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np, keras
    from zoo import callbacks, checkpoint, nets
    from zoo.models import GAN

    def make():
        keras.utils.set_random_seed(0)
        g = nets.dcgan_generator(8, (16, 16, 1), base_filters=4)
        d = nets.dcgan_discriminator((16, 16, 1), base_filters=4)
        gan = GAN(g, d, seed=1, ema_momentum=0.9)
        gan.compile()
        return gan

    def data():
        return np.random.default_rng(0).uniform(-1, 1, (64, 16, 16, 1)).astype("float32")

    def state(gan):
        groups = {"model": gan.weights, "d_optimizer": gan.d_optimizer.variables, "g_optimizer": gan.g_optimizer.variables}
        return {k: [np.asarray(keras.ops.convert_to_numpy(v.value)).tolist() for v in vs] for k, vs in groups.items()}
    """
)


# Makes `import tensorflow` fail, as on an accelerator machine without TensorFlow.
WITHOUT_TF = "import sys\nsys.modules['tensorflow'] = None\n"


def run(script, backend, tmp_path, *args, expect_exit=0, without_tf=False):
    path = tmp_path / "script.py"
    path.write_text((WITHOUT_TF if without_tf else "") + COMMON + textwrap.dedent(script))
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, str(path), *map(str, args)], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == expect_exit, result.stdout[-2000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if expect_exit == 0 else None


RESUMABLE = """
    mode, directory = sys.argv[1], sys.argv[2]
    gan = make()

    class KillMidEpoch(keras.callbacks.Callback):
        epoch = 0
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if mode == "killed" and self.epoch == 1 and batch == 1:
                os._exit(9)  # as kill -9: no clean-up, no epoch-end save

    gan.fit(data(), batch_size=16, epochs=3, verbose=0, shuffle=False,
            callbacks=[callbacks.TrainingCheckpoint(directory, save_freq=1), KillMidEpoch()])
    print(json.dumps(state(gan)))
"""


def test_resume_after_a_kill_mid_epoch_matches_an_uninterrupted_run_on_jax(tmp_path):
    whole = run(RESUMABLE, "jax", tmp_path, "whole", tmp_path / "a", without_tf=True)
    run(RESUMABLE, "jax", tmp_path, "killed", tmp_path / "b", expect_exit=9, without_tf=True)
    resumed = run(RESUMABLE, "jax", tmp_path, "resumed", tmp_path / "b", without_tf=True)
    for group in whole:
        assert len(whole[group]) == len(resumed[group])
        for a, b in zip(whole[group], resumed[group]):
            np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=group)


SAVE = """
    gan = make()
    gan.fit(data(), batch_size=16, epochs=1, verbose=0)
    checkpoint.save(gan, sys.argv[2], epoch=1)
    print(json.dumps(state(gan)))
"""

RESTORE = """
    gan = make()
    gan.build_optimizers()
    checkpoint.restore(gan, sys.argv[2])
    print(json.dumps(state(gan)))
"""


@pytest.mark.parametrize(
    "writer,reader",
    [("jax", "tensorflow"), pytest.param("tensorflow", "jax", marks=pytest.mark.slow)],
)
def test_a_checkpoint_restores_on_the_other_backend(tmp_path, writer, reader):
    saved = run(SAVE, writer, tmp_path, writer, tmp_path / "ckpt")
    restored = run(RESTORE, reader, tmp_path, reader, tmp_path / "ckpt")
    for group in saved:
        for a, b in zip(saved[group], restored[group]):
            np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=group)
    assert saved["d_optimizer"] and any(np.any(np.array(v) != 0) for v in saved["g_optimizer"])


DATA_PARALLEL = """
    import jax
    assert len(jax.devices()) == 2, jax.devices()
    x = data()

    def train():
        keras.utils.set_random_seed(0)
        m = GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4),
                nets.dcgan_discriminator((16, 16, 1), base_filters=4, normalization="layer"),
                loss="wasserstein", gradient_penalty=10.0, seed=1)
        m.compile()
        m.fit(x, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return m, [np.asarray(v.value) for v in m.generator.weights + m.discriminator.weights]

    _, one = train()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
    model, two = train()
    spec = str(model.discriminator.trainable_weights[0].value.sharding)
    print(json.dumps({"diff": max(float(np.abs(a - b).max()) for a, b in zip(one, two)), "sharding": spec}))
"""


def test_data_parallel_over_two_devices_matches_one_device(tmp_path, monkeypatch):
    """keras.distribution.DataParallel on two host devices: the same weights as one device."""
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    out = run(DATA_PARALLEL, "jax", tmp_path, without_tf=True)
    assert "batch" in out["sharding"], out["sharding"]  # the variables live on the 2-device mesh
    assert out["diff"] < 1e-5, out["diff"]
