"""One file of every common kind of bad or unusual image, for the folder loaders' tests.

A plain module (numpy, PIL, os and pathlib only, no relative imports), so a benchmark
can load it by file path with ``importlib.util.spec_from_file_location``.

``make_bad_images(folder)`` writes the kinds into ``folder`` and returns ``{kind: path}``;
:data:`READABLE` are the kinds a loader should convert, :data:`UNREADABLE` those it
should skip, :data:`GOOD` plain 8-bit RGB PNGs. ``expected_pixels(path)`` is what a
readable file should load as; ``make_vanish(path)`` deletes a file, as one removed
between building a dataset and reading it.
"""

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

GOOD = ("good_0", "good_1", "good_2")
# Readable but unusual: the loaders convert these to 8-bit grey or RGB.
READABLE = ("png16_grey", "png16_rgb", "cmyk_jpeg", "grey_alpha_png", "palette_png", "palette_bmp")
# Unreadable: the loaders skip these, naming the file and the reason.
UNREADABLE = ("truncated_png", "truncated_jpeg", "text_named_png", "huge", "empty_file", "symlink_loop")
# The file name of each kind.
FILES = {
    **{kind: f"{kind}.png" for kind in GOOD},
    "png16_grey": "png16_grey.png",
    "png16_rgb": "png16_rgb.png",
    "cmyk_jpeg": "cmyk.jpg",
    "grey_alpha_png": "grey_alpha.png",
    "palette_png": "palette.png",
    "palette_bmp": "palette.bmp",
    "truncated_png": "truncated.png",
    "truncated_jpeg": "truncated.jpg",
    "text_named_png": "text.png",
    "huge": "huge.png",
    "empty_file": "empty.png",
    "symlink_loop": "loop.png",
}
# What the header of ``huge`` claims: 400 million pixels, 1.2 GB as 8-bit RGB, yet small
# enough that TensorFlow's PNG decoder would try to allocate it.
HUGE_SIZE = (20_000, 20_000)


def make_bad_images(folder, size=(16, 16), kinds=None):
    """Write one file of each kind into ``folder``.

    Kinds (file names in :data:`FILES`):
        good_0..2: 8-bit RGB PNGs.
        png16_grey, png16_rgb: 16-bit PNGs, greyscale and RGB (the RGB one written by
            hand: PIL cannot write 16-bit RGB).
        cmyk_jpeg: a CMYK JPEG (Adobe, inverted, as Photoshop and PIL write them).
        grey_alpha_png: greyscale + alpha.
        palette_png: a 16-colour palette PNG whose first entry is transparent (``tRNS``).
        palette_bmp: a 16-colour palette BMP (8 bits per pixel).
        truncated_png, truncated_jpeg: the first half of a valid file.
        text_named_png: a text file named ``.png``.
        huge: a PNG whose header claims :data:`HUGE_SIZE` (a few dozen bytes on disk).
        empty_file: zero bytes.
        symlink_loop: ``loop.png``, a symlink to itself; the folder also gets ``cycle``,
            a directory symlink to the folder itself (not in the returned dict).

    Args:
        folder: str or ``Path``, created if missing.
        size: ``(height, width)`` of the real images. Default ``(16, 16)``.
        kinds: ``None`` for every kind, or the kinds to write. Default ``None``.

    Returns:
        dict ``{kind: Path}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = {}
    for kind in kinds or FILES:
        paths[kind] = folder / FILES[kind]
        _WRITERS[kind](paths[kind], rng, size)
    return paths


def expected_pixels(path):
    """What a readable file should load as: 8-bit RGB, as PIL converts it.

    16-bit samples become their high byte (``value >> 8``, truncating, not
    ``round(value / 257)``): PIL reads 16-bit RGB PNGs that way, and 16-bit greyscale
    (which PIL keeps as 32-bit integers) is shifted here. Alpha is dropped.

    Returns:
        uint8 array ``(H, W, 3)``.
    """
    with Image.open(path) as image:
        if image.mode.startswith("I"):
            grey = (np.asarray(image, np.int64) >> 8).astype(np.uint8)
            return np.repeat(grey[..., None], 3, axis=-1)
        return np.asarray(image.convert("RGB"))


def make_vanish(path):
    """Delete ``path``, as a file removed between building a dataset and reading it."""
    Path(path).unlink()


def png_bytes(pixels, claimed_size=None):
    """Encode a uint8 or uint16 ``(H, W, 3)`` array as an RGB PNG by hand.

    Args:
        pixels: uint8 or uint16 array ``(H, W, 3)``.
        claimed_size: ``None``, or the ``(height, width)`` to write in the header instead
            of the real size (the image data then no longer matches it).

    Returns:
        bytes of the PNG file.
    """
    height, width = claimed_size or pixels.shape[:2]
    depth = 16 if pixels.dtype == np.uint16 else 8
    rows = pixels.astype(">u2" if depth == 16 else np.uint8).reshape(pixels.shape[0], -1).view(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter type 0 (none) per row
    header = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)  # colour type 2: RGB
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pixels(rng, size, channels=3, dtype=np.uint8):
    return rng.integers(0, np.iinfo(dtype).max + 1, (*size, channels), dtype=dtype)


def _rgb(rng, size):
    return Image.fromarray(_pixels(rng, size))


def _truncated(path, image, fmt):
    data = io.BytesIO()
    image.save(data, format=fmt)
    path.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])


def _symlink_loop(path, rng, size):
    os.symlink(path.name, path)
    os.symlink(".", path.parent / "cycle", target_is_directory=True)


def _frombytes(mode, pixels):
    height, width = pixels.shape[:2]
    return Image.frombytes(mode, (width, height), pixels.tobytes())


_WRITERS = {
    **{kind: lambda path, rng, size: _rgb(rng, size).save(path) for kind in GOOD},
    "png16_grey": lambda path, rng, size: Image.fromarray(_pixels(rng, size, 1, np.uint16)[..., 0]).save(path),
    "png16_rgb": lambda path, rng, size: path.write_bytes(png_bytes(_pixels(rng, size, 3, np.uint16))),
    "cmyk_jpeg": lambda path, rng, size: _frombytes("CMYK", _pixels(rng, size, 4)).save(path, quality=95),
    "grey_alpha_png": lambda path, rng, size: _frombytes("LA", _pixels(rng, size, 2)).save(path),
    "palette_png": lambda path, rng, size: _rgb(rng, size).quantize(16).save(path, transparency=0),
    "palette_bmp": lambda path, rng, size: _rgb(rng, size).quantize(16).save(path),
    "truncated_png": lambda path, rng, size: _truncated(path, _rgb(rng, size), "PNG"),
    "truncated_jpeg": lambda path, rng, size: _truncated(path, _rgb(rng, size), "JPEG"),
    "text_named_png": lambda path, rng, size: path.write_text("this is a text file, not a PNG\n"),
    "huge": lambda path, rng, size: path.write_bytes(png_bytes(np.zeros((1, 1, 3), np.uint8), HUGE_SIZE)),
    "empty_file": lambda path, rng, size: path.write_bytes(b""),
    "symlink_loop": _symlink_loop,
}
