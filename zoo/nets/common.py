"""Argument checks shared by the net builders."""


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_image_shape(image_shape):
    """Returns `image_shape` as a tuple of three positive ints (h, w, channels)."""
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"image_shape must be (height, width, channels) of positive ints, got {image_shape!r}"
        )
    return shape
