"""Every recipe's smoke run on KERAS_BACKEND=jax (issue 20), each in a fresh process.

The recipe tests beside this file run `main(["--smoke", ...])` on TensorFlow,
the default backend of the suite. Here each recipe runs as a script with the
same arguments under JAX (its tf.data input pipeline is fed to Keras' JAX
trainer; TensorFlow is installed), and must exit 0 and write its figures and
its export. The runner asserts the backend first, so a recipe cannot pass by
running on TensorFlow. The quickest three run by default; the rest are slow
(a minute to ten each on one CPU core, most of it XLA compiling the steps).
"""

import os
import subprocess
import sys

import pytest

from zoo import export

pytest.importorskip("jax")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Runs the recipe as __main__ after checking that Keras is on JAX.
RUNNER = (
    "import runpy, sys, keras\n"
    "assert keras.backend.backend() == 'jax', keras.backend.backend()\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)

# recipe: (extra arguments, files under the temporary folder, {export: image_shape}, marks)
# The arguments are those of the TensorFlow test of the same recipe.
RECIPES = {
    "celeba_dcgan": ([], ["run/samples/latest.png"], {"models/celeba_dcgan/1": [16, 16, 1]}, []),
    "celeba_vae": (
        [], ["run/samples.png", "run/interpolation.png", "run/attribute.png"],
        {"models/celeba_vae/1": [32, 32, 1]}, [],
    ),
    "mnist_sgan": (None, [], {"models/digits_sgan/1": [8, 8, 1]}, []),
    "celeba_wgan_gp": (
        ["--d-steps", "1"], ["run/samples/latest.png"], {"models/celeba_wgan_gp/1": [32, 32, 1]},
        [pytest.mark.slow],
    ),
    "fashion_mnist_wgan_gp": (
        ["--evaluate", "--d-steps", "1"], ["run/wgan_gp_grid.png", "run/samples/latest.png"],
        {"models/fashion_mnist_wgan_gp/1": [28, 28, 1]}, [pytest.mark.slow],
    ),
    "cogan_mnist": (
        [], ["run/cogan_pairs.png", "run/samples/latest.png"],
        {"models/cogan_mnist_a/1": [28, 28, 1], "models/cogan_mnist_b/1": [28, 28, 1]}, [pytest.mark.slow],
    ),
    "mnist_cgan": (
        ["--evaluate"], ["run/cgan_grid.png", "run/samples/latest.png"], {"models/mnist_cgan/1": [28, 28, 1]},
        [pytest.mark.slow],
    ),
    "pix2pix_facades": (
        ["--precision", "float32"], ["run/pix2pix_grid.png", "run/samples/epoch_0001.png"],
        {"models/pix2pix_facades/1": None}, [pytest.mark.slow],
    ),
    "mnist_vae": (
        [], [f"run/{name}.png" for name in ("manifold", "scatter", "interpolation", "arithmetic", "samples")],
        {"models/mnist_vae/1": [28, 28, 1]}, [pytest.mark.slow],
    ),
    "colourisation": (
        [], ["run/test_grid.png", "run/adversarial/samples/latest.png"], {"models/colourisation_gan/1": None},
        [pytest.mark.slow],
    ),
    "progan_celeba": (
        ["--precision", "float32"], ["run/samples/latest.png", *(f"run/stages/stage_{s:04d}.png" for s in (4, 8, 16, 32))],
        {"models/progan_celeba/1": [32, 32, 1]}, [pytest.mark.slow],
    ),
    "cyclegan_horse2zebra": (
        ["--precision", "float32"], ["run/samples/epoch_0001.png"],
        {"models/cyclegan_horse2zebra_ab/1": None, "models/cyclegan_horse2zebra_ba/1": None}, [pytest.mark.slow],
    ),
    "stylegan2_celeba": (
        ["--precision", "float32"], ["run/samples.png", "run/style_mix.png", "run/truncation.png"],
        {"models/stylegan2_celeba/1": [16, 16, 1]},
        [pytest.mark.slow],
    ),
    "stylegan_ffhq": (
        ["--precision", "float32"], ["run/samples.png", "run/style_mix.png", "run/truncation.png"],
        {"models/stylegan_ffhq/1": [16, 16, 1]},
        [pytest.mark.slow],
    ),
}


def run_on_jax(recipe, argv, cwd):
    env = {
        **os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg",
    }
    script = os.path.join(ROOT, "recipes", f"{recipe}.py")
    return subprocess.run(
        [sys.executable, "-c", RUNNER, script, *argv], capture_output=True, text=True, env=env, cwd=cwd, timeout=1500
    )


@pytest.mark.parametrize(
    "recipe", [pytest.param(name, marks=marks) for name, (*_, marks) in RECIPES.items()]
)
def test_smoke_runs_on_jax(recipe, tmp_path):
    extra, files, exports, _ = RECIPES[recipe]
    if extra is None:  # mnist_sgan writes no run folder: only its export
        argv = ["--smoke", "--export", "digits_sgan", "--base-path", str(tmp_path / "models")]
    else:
        argv = ["--smoke", *extra, "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    result = run_on_jax(recipe, argv, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    for name in files:
        assert os.path.isfile(tmp_path / name) and os.path.getsize(tmp_path / name) > 0, name
    for path, image_shape in exports.items():
        assert os.path.isfile(tmp_path / path / "saved_model.pb"), path
        if image_shape is not None:
            assert export.read_metadata(str(tmp_path / path))["image_shape"] == image_shape, path


def test_every_recipe_has_a_jax_smoke_run():
    recipes = {name[:-3] for name in os.listdir(os.path.join(ROOT, "recipes")) if name.endswith(".py")}
    assert recipes == set(RECIPES)
