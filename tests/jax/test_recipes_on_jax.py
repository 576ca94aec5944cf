"""Every recipe's smoke run on the JAX backend (issue 20), in the JAX pass of `dev.py test`.

The recipe tests in tests/recipes run `main(["--smoke", ...])` on TensorFlow; here
each recipe's `main` runs with the same arguments on JAX (its tf.data input
pipeline fed to Keras' JAX trainer; TensorFlow is installed), and must write its
figures and its export. mnist_sgan runs by default; the rest are slow (a minute to ten
each on one CPU core, most of it XLA compiling the steps). Their models' own
checks run on JAX in tests/steps.
"""

import importlib.util
import os

import keras
import pytest

from zoo import export

assert keras.backend.backend() == "jax"

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# recipe: (extra arguments, files under the temporary folder, {export: image_shape}, marks)
# The arguments are those of the TensorFlow test of the same recipe.
RECIPES = {
    "celeba_dcgan": ([], ["run/samples/latest.png"], {"models/celeba_dcgan/1": [16, 16, 1]}, [pytest.mark.slow]),
    "celeba_vae": (
        [], ["run/samples.png", "run/interpolation.png", "run/attribute.png"],
        {"models/celeba_vae/1": [32, 32, 1]}, [pytest.mark.slow],
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
        [], ["run/test_grid.png", "run/samples/latest.png", "run/pretrain/samples/latest.png"], {"models/colourisation_gan/1": None},
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


def run_on_jax(recipe, argv):
    spec = importlib.util.spec_from_file_location(f"{recipe}_on_jax", os.path.join(ROOT, "recipes", f"{recipe}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


@pytest.mark.parametrize(
    "recipe", [pytest.param(name, marks=marks) for name, (*_, marks) in RECIPES.items()]
)
def test_smoke_runs_on_jax(recipe, tmp_path, monkeypatch):
    extra, files, exports, _ = RECIPES[recipe]
    if extra is None:  # mnist_sgan writes no run folder: only its export
        argv = ["--smoke", "--export", "digits_sgan", "--base-path", str(tmp_path / "models")]
    else:
        argv = ["--smoke", *extra, "--run-dir", str(tmp_path / "run"), "--base-path", str(tmp_path / "models")]
    monkeypatch.chdir(tmp_path)
    run_on_jax(recipe, argv)
    for name in files:
        assert os.path.isfile(tmp_path / name) and os.path.getsize(tmp_path / name) > 0, name
    for path, image_shape in exports.items():
        assert os.path.isfile(tmp_path / path / "saved_model.pb"), path
        if image_shape is not None:
            assert export.read_metadata(str(tmp_path / path))["image_shape"] == image_shape, path


def test_every_recipe_has_a_jax_smoke_run():
    recipes = {name[:-3] for name in os.listdir(os.path.join(ROOT, "recipes")) if name.endswith(".py")}
    assert recipes == set(RECIPES)
