import os

import numpy as np
import pytest

from zoo import data, plotting

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_save_scatter_writes_a_png(tmp_path):
    modes = data.ring_modes()
    points = data.sample_mixture(modes, 0.01, 500, seed=0)
    path = tmp_path / "plots" / "ring.png"
    assert plotting.save_scatter(points, path, modes=modes, title="ring", limits=(-2, 2)) == str(path)
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    assert os.path.getsize(path) > 1000
    # Written through a temporary file that is renamed: nothing else is left behind.
    assert os.listdir(path.parent) == ["ring.png"]


def test_save_scatter_overwrites_and_draws_the_modes(tmp_path):
    import matplotlib.image

    path = str(tmp_path / "grid.png")
    modes = data.grid_modes()
    plotting.save_scatter(np.zeros((0, 2)), path)
    blank = matplotlib.image.imread(path)
    plotting.save_scatter(np.zeros((0, 2)), path, modes=modes, limits=(-6, 6))
    image = matplotlib.image.imread(path)
    assert image.shape == blank.shape
    red = (image[..., 0] > 0.8) & (image[..., 1] < 0.3) & (image[..., 2] < 0.3)
    assert red.sum() > 25
    assert not ((blank[..., 0] > 0.8) & (blank[..., 1] < 0.3)).any()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(samples=np.zeros((4, 3))), "samples must have shape"),
        (dict(modes=np.zeros(2)), "modes must have shape"),
        (dict(limits=(1, -1)), "limits"),
        (dict(limits=3), "limits"),
    ],
)
def test_save_scatter_rejects_bad_arguments(tmp_path, kwargs, match):
    arguments = dict(samples=np.zeros((4, 2)), path=str(tmp_path / "x.png"))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        plotting.save_scatter(**arguments)
    assert not os.listdir(tmp_path)


def tiny_style_gan():
    from zoo import nets
    from zoo.models import StyleGAN

    mapping = nets.style_mapping(latent_dim=8, w_dim=8, num_layers=2)
    synthesis = nets.stylegan2_synthesis(16, w_dim=8, channels=1, fmap_base=32, fmap_max=8)
    discriminator = nets.stylegan2_discriminator(16, channels=1, fmap_base=32, fmap_max=8, mbstd_group_size=2)
    model = StyleGAN(mapping, synthesis, discriminator, seed=0)
    model.w_avg.assign(np.random.default_rng(5).standard_normal(8).astype("float32"))  # not the origin
    return model


def read_png(path):
    import tensorflow as tf

    return tf.io.decode_png(tf.io.read_file(str(path))).numpy()


def test_save_style_figures_writes_the_model_images(tmp_path):
    model = tiny_style_gan()
    paths = plotting.save_style_figures(model, str(tmp_path / "figs"), num_images=2, seed=3)
    assert sorted(paths) == ["samples", "style_mix", "truncation"]
    samples, mix, sweep = (read_png(paths[name]) for name in ("samples", "style_mix", "truncation"))
    assert samples.shape == (3 * 18 + 2, 2 * 18 + 2, 1)  # 6 latents in 3 rows of 2
    assert mix.shape == (3 * 18 + 2, 3 * 18 + 2, 1) and sweep.shape == (2 * 18 + 2, 6 * 18 + 2, 1)
    # The pixels are the model's const-noise images of the seed's latents, untruncated.
    z = np.random.default_rng(3).standard_normal((6, 8)).astype("float32")
    expected = plotting.make_grid(model.generate(z, noise_mode="const"), num_rows=3)
    np.testing.assert_array_equal(samples, expected)
    # psi 0 on every style: every sample is the image of w_avg; the mixing figure's grid is too.
    zero = plotting.save_style_figures(model, str(tmp_path / "zero"), num_images=2, seed=3, truncation_psi=0.0)
    flat = read_png(zero["samples"])
    cells = [flat[2 + 18 * r : 18 * (r + 1), 2 + 18 * c : 18 * (c + 1)] for r in range(3) for c in range(2)]
    assert all(np.array_equal(cells[0], cell) for cell in cells[1:])
    assert not np.array_equal(samples[2:18, 2:18], samples[2:18, 20:36])
    # The truncation sweep is the same figure whatever the samples' psi.
    np.testing.assert_array_equal(read_png(zero["truncation"]), sweep)


def test_save_style_figures_caps_the_cutoff_and_checks_arguments(tmp_path):
    model = tiny_style_gan()  # 6 styles
    capped = plotting.save_style_figures(model, str(tmp_path / "a"), 2, 1, truncation_psi=0.5, truncation_cutoff=8)
    every = plotting.save_style_figures(model, str(tmp_path / "b"), 2, 1, truncation_psi=0.5)
    coarse = plotting.save_style_figures(model, str(tmp_path / "c"), 2, 1, truncation_psi=0.5, truncation_cutoff=2)
    np.testing.assert_array_equal(read_png(capped["samples"]), read_png(every["samples"]))
    assert not np.array_equal(read_png(coarse["samples"]), read_png(every["samples"]))
    assert os.path.getsize(capped["style_mix"]) > 100
    with pytest.raises(ValueError, match="num_images"):
        plotting.save_style_figures(model, str(tmp_path), 0, 1)
    with pytest.raises(ValueError, match="truncation_cutoff"):
        plotting.save_style_figures(model, str(tmp_path), 2, 1, truncation_cutoff=0)
