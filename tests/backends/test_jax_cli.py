"""The `zoo` command on the JAX backend, with and without TensorFlow installed."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

WITHOUT_TF = textwrap.dedent(
    """
    import contextlib, io, json, os, sys
    sys.modules["tensorflow"] = None  # as on an accelerator machine without TensorFlow
    from zoo import cli

    out = {}
    for name, argv in {
        "list": ["list"],
        "train": ["train", "dcgan", "--dataset", "digits", "--epochs", "2", "--limit", "128", "--batch-size", "32",
                  "--base-filters", "4", "--run-dir", "run", "--strategy", "mirrored", "--cpu-replicas", "2",
                  "--precision", "float32", "--quiet"],
        "sample": ["sample", "--checkpoint", "run/checkpoint", "--num", "16", "--output", "grid.png"],
        "multi_worker": ["train", "dcgan", "--dataset", "digits", "--strategy", "multi_worker", "--run-dir", "x"],
        "folder": ["train", "dcgan", "--dataset", ".", "--run-dir", "y"],
    }.items():
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli.main(argv)
            except ImportError as error:
                code, stderr = "ImportError", io.StringIO(str(error))
        out[name] = [code, stdout.getvalue()[-4000:], stderr.getvalue()[-1500:]]
    import jax, keras
    out["devices"] = len(jax.devices())
    out["tensorflow"] = sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow" and sys.modules[m])
    print(json.dumps(out))
    """
)


def _run(script, cwd, env):
    path = cwd / "script.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_train_and_sample_on_jax_without_tensorflow(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.getcwd()}
    out = _run(WITHOUT_TF, tmp_path, env)
    assert out["tensorflow"] == []
    code, stdout, _ = out["list"]
    assert code == 0 and all(n in stdout for n in ("wgan_gp", "digits_cgan", "digits"))  # last model, pretrained, datasets
    code, stdout, stderr = out["train"]
    assert code == 0, stderr
    assert "batch 32 (16 on each of 2 replicas, mirrored)" in stdout and out["devices"] == 2
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(history) == 3 and "d_loss" in history[0]  # two epochs
    assert (tmp_path / "run" / "samples" / "epoch_0002.png").is_file()
    code, stdout, _ = out["sample"]
    assert code == 0 and (tmp_path / "grid.png").is_file()
    code, _, stderr = out["multi_worker"]
    assert code == 2 and "multi-host JAX" in stderr and "--strategy mirrored" in stderr
    code, _, stderr = out["folder"]
    assert code == 2 and "needs TensorFlow" in stderr and "in_memory" in stderr


WITH_TF = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from zoo import checkpoint, cli, export, nets
    from zoo.models import GAN

    gan = GAN(nets.dcgan_generator(8, (16, 16, 1), base_filters=4), nets.dcgan_discriminator((16, 16, 1), base_filters=4))
    gan.compile()
    gan.fit(np.random.default_rng(0).uniform(-1, 1, (32, 16, 16, 1)).astype("float32"), batch_size=16, verbose=0)
    checkpoint.save(gan, "ckpt")
    codes = [cli.main(["export", "--checkpoint", "ckpt", "--name", "g", "--base-path", "saved"]),
             cli.main(["sample", "--export", "saved/g", "--num", "4", "--output", "served.png"])]
    z = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    np.save("z.npy", z)
    np.save("expected.npy", np.asarray(gan.generate(z)))
    print(json.dumps({"codes": codes}))
    """
)


def test_export_and_sample_an_export_on_jax(tmp_path, run_without_zoo):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.getcwd(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = _run(WITH_TF, tmp_path, env)
    assert out["codes"] == [0, 0]
    assert (tmp_path / "served.png").is_file()
    served = run_without_zoo(
        "import json, sys, numpy as np, tensorflow as tf\n"
        "s = tf.saved_model.load('saved/g/1').signatures['serving_default']\n"
        "print(json.dumps(s(noise=tf.constant(np.load('z.npy')))['images'].numpy().tolist()))\n"
    )
    np.testing.assert_allclose(np.asarray(served), np.load(tmp_path / "expected.npy"), atol=1e-5)
