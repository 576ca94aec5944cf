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
