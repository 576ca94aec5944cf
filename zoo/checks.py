"""Argument checks shared by every part of zoo: nets, layers, models, data, metrics.

Each check takes the value and the argument's name, raises a short `ValueError`
that names the argument, what was expected and what was given, and returns the
value in its canonical type, so a constructor reads one line per argument:

    self.d_steps = checks.positive_int(d_steps, "d_steps")
    self.label_smoothing = checks.number(label_smoothing, "label_smoothing", at_least=0, below=1)
    self.clip_value = checks.number(clip_value, "clip_value", above=0, none=True)

`bool` is never accepted where a number is expected (`True` is an `int` in Python).
"""

import math
import numbers

_OR_NONE = " or None"


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _fail(name, expected, value, none):
    raise ValueError(f"{name} must be {expected}{_OR_NONE if none else ''}, got {value!r}")


def _within(value, low, low_open, high, high_open):
    return (low is None or (value > low if low_open else value >= low)) and (
        high is None or (value < high if high_open else value <= high)
    )


def _kind_within(kind, low, low_open, high, high_open):
    """E.g. "an int >= 0", "a float in [0, 1)", "a float"."""
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high}"
    return kind


def integer(value, name, *, at_least=None, at_most=None, none=False):
    """`value` as an int within `[at_least, at_most]` (either end optional)."""
    if none and value is None:
        return None
    if not (_is_int(value) and _within(value, at_least, False, at_most, False)):
        _fail(name, _kind_within("an int", at_least, False, at_most, False), value, none)
    return int(value)


def positive_int(value, name, *, none=False):
    """`value` as an int >= 1."""
    if none and value is None:
        return None
    if not _is_int(value) or value < 1:
        _fail(name, "a positive int", value, none)
    return int(value)


def number(value, name, *, at_least=None, above=None, at_most=None, below=None, none=False):
    """`value` as a float within the given bounds (`above`/`below` are strict).

    The message reads as an interval when both ends are given, e.g.
    `label_smoothing must be a float in [0, 1), got 1.5`. NaN and infinities
    are refused.
    """
    if none and value is None:
        return None
    low, low_open = (above, True) if above is not None else (at_least, False)
    high, high_open = (below, True) if below is not None else (at_most, False)
    if not (_is_number(value) and math.isfinite(value) and _within(value, low, low_open, high, high_open)):
        finite = not _is_number(value) or math.isfinite(value)
        _fail(name, _kind_within("a float", low, low_open, high, high_open) if finite else "finite", value, none)
    return float(value)


def power_of_two(value, name, *, at_least=4):
    """`value` as an int that is a power of two >= `at_least` (an image side)."""
    if not _is_int(value) or value < at_least or value & (value - 1):
        raise ValueError(f"{name} must be a power of two >= {at_least}, got {value!r}")
    return int(value)


def boolean(value, name):
    """`value`, which must be `True` or `False` (not a truthy stand-in)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def choice(value, name, choices):
    """`value`, which must be one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def positive_ints(value, name):
    """`value` as a non-empty tuple of positive ints (layer widths, filter counts)."""
    try:
        values = tuple(value)
    except TypeError:
        values = ()
    if not values or not all(_is_int(v) and v >= 1 for v in values):
        raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {value!r}")
    return tuple(int(v) for v in values)


def image_shape(value, name="image_shape"):
    """`value` as `(height, width, channels)`, three positive ints."""
    try:
        shape = tuple(int(s) for s in value)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"{name} must be (height, width, channels) of positive ints, got {value!r}")
    return shape
