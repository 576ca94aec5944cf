"""The pix2pix authors' paired datasets (Isola et al. 2017), downloaded on first use; no TensorFlow needed."""

import os

from zoo import files

# The pix2pix authors' datasets (Isola et al. 2017): side-by-side A|B JPEGs in train/, val/ (and test/).
PIX2PIX_DATASETS = {
    "facades": "CMP Facades: photo | label map (labels -> photo is --direction BtoA), 400 training pairs",
    "cityscapes": "Cityscapes: street photo | semantic labels",
    "maps": "Google Maps: aerial photo | map",
    "edges2shoes": "shoes: edge map | photo (a large download)",
    "edges2handbags": "handbags: edge map | photo (a large download)",
    "night2day": "webcam scenes: night | day",
}
PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"


def pix2pix_dataset(name, cache_dir=None):
    """The folder of one of the pix2pix authors' datasets, downloaded and extracted on first use.

    Args:
        name: a key of `PIX2PIX_DATASETS` (facades, cityscapes, maps, edges2shoes, ...).
        cache_dir: str or None, where Keras keeps downloads. Default: `~/.keras`.

    Returns:
        str, the folder holding `train/` and `val/` (and `test/` where the set has one) of
        side-by-side A|B images, for `paired_folder`.

    Raises:
        ValueError: for an unknown name.
        OSError: when the download fails (no internet), naming the offline stand-ins.
    """
    import keras

    if name not in PIX2PIX_DATASETS:
        raise ValueError(f"unknown pix2pix dataset {name!r}; known: {', '.join(PIX2PIX_DATASETS)}")
    url = PIX2PIX_URL.format(name=name)
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)  # Keras falls back to /tmp/.keras for a folder it cannot write
    extracted = files.fetch(
        lambda: keras.utils.get_file(f"{name}.tar.gz", origin=url, extract=True, cache_dir=cache_dir),
        f"the pix2pix dataset {name} ({url})", "download and extract it elsewhere and pass its folder, or train "
        "on edges2photos (crops of scikit-image's photos | their edge maps)")
    nested = os.path.join(extracted, name)
    return nested if os.path.isdir(nested) else extracted
