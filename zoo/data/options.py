"""The options every zoo loader shares, validated without TensorFlow.

Both the tf.data loaders (:mod:`zoo.data.pipeline`) and the in-memory numpy loaders
(:mod:`zoo.data.arrays`) take ``batch_size``, ``image_size``, ``shuffle``, ``seed``,
``with_labels``, ``drop_remainder``, ``cache`` and ``limit``, checked here.
"""

import numbers

import numpy as np


def image_size_pair(image_size, name="image_size"):
    """Normalise an image size argument to an ``(height, width)`` tuple.

    Args:
        image_size: ``None``, a positive int (square) or a pair of positive ints
            ``(height, width)``.
        name: str, the argument name used in error messages. Default ``"image_size"``.

    Returns:
        ``None`` or a tuple ``(height, width)`` of Python ints.

    Raises:
        ValueError: if ``image_size`` is not ``None``, a positive int or a pair of them.

    Example:
        >>> image_size_pair(32)
        (32, 32)
        >>> image_size_pair((64, 48))
        (64, 48)
    """
    if image_size is None:
        return None
    if _is_positive_int(image_size):
        return (int(image_size), int(image_size))
    if (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(_is_positive_int(v) for v in image_size)
    ):
        return (int(image_size[0]), int(image_size[1]))
    raise ValueError(
        f"{name} must be None, a positive int or a pair of positive ints (height, width); "
        f"got {image_size!r}"
    )


def check_options(
    batch_size=64,
    image_size=None,
    shuffle=True,
    seed=None,
    with_labels=False,
    drop_remainder=True,
    cache=True,
    limit=None,
):
    """Validate the keyword arguments every loader shares.

    Loaders call this first, so a bad argument fails fast, before any data is read.

    Args:
        batch_size: positive int. Default 64.
        image_size: ``None``, int or ``(height, width)``. Default ``None``.
        shuffle: bool. Default ``True``.
        seed: ``None`` or int. Default ``None``.
        with_labels: bool. Default ``False``.
        drop_remainder: bool. Default ``True``.
        cache: bool, or a non-empty str naming a cache file prefix for
            ``tf.data.Dataset.cache``. Default ``True`` (in memory).
        limit: ``None`` or positive int. Default ``None``.

    Returns:
        dict of the validated options with ``image_size`` normalised to a pair (or
        ``None``), ready to be passed to :func:`finalize` as keyword arguments.

    Raises:
        ValueError: naming the first bad argument and what was expected.

    Example:
        >>> check_options(batch_size=8, image_size=16)["image_size"]
        (16, 16)
    """
    if not _is_positive_int(batch_size):
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    for name, value in (
        ("shuffle", shuffle),
        ("with_labels", with_labels),
        ("drop_remainder", drop_remainder),
    ):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {value!r}")
    if seed is not None and not _is_int(seed):
        raise ValueError(f"seed must be None or an int; got {seed!r}")
    if not (isinstance(cache, (bool, np.bool_)) or (isinstance(cache, str) and cache)):
        raise ValueError(
            f"cache must be True, False or a non-empty cache file path; got {cache!r}"
        )
    if limit is not None and not _is_positive_int(limit):
        raise ValueError(f"limit must be None or a positive int; got {limit!r}")
    return {
        "batch_size": int(batch_size),
        "image_size": image_size_pair(image_size),
        "shuffle": bool(shuffle),
        "seed": None if seed is None else int(seed),
        "with_labels": bool(with_labels),
        "drop_remainder": bool(drop_remainder),
        "cache": cache if isinstance(cache, str) else bool(cache),
        "limit": None if limit is None else int(limit),
    }


COMMON_OPTIONS = (
    "batch_size",
    "image_size",
    "shuffle",
    "seed",
    "with_labels",
    "drop_remainder",
    "cache",
    "limit",
)


def common_options(namespace):
    """Validate the shared loader options picked by name from ``namespace``.

    Lets a loader keep its explicit keyword signature yet validate in one line; call it
    first, before any data is read.

    Args:
        namespace: mapping holding every name in :data:`COMMON_OPTIONS`, usually the
            loader's ``locals()``. Other keys are ignored.

    Returns:
        dict, as returned by :func:`check_options`.

    Raises:
        ValueError: naming the first bad argument and what was expected.

    Example:
        >>> def loader(*, batch_size=64, image_size=None, shuffle=True, seed=None,
        ...            with_labels=False, drop_remainder=True, cache=True, limit=None):
        ...     return common_options(locals())
        >>> loader(image_size=16)["image_size"]
        (16, 16)
    """
    return check_options(**{name: namespace[name] for name in COMMON_OPTIONS})


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_positive_int(value):
    return _is_int(value) and value > 0
