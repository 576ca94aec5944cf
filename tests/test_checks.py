"""zoo.checks: the shared argument checks, their canonical return values and their messages."""

import numpy as np
import pytest

from zoo import checks


@pytest.mark.parametrize(
    "check,args,kwargs,message",
    [
        (checks.positive_int, (0, "d_steps"), {}, "d_steps must be a positive int, got 0"),
        (checks.positive_int, (True, "pack"), {}, "pack must be a positive int, got True"),
        (checks.positive_int, (1.0, "pack"), {"none": True}, "pack must be a positive int or None, got 1.0"),
        (checks.integer, (1, "num_classes"), {"at_least": 2}, "num_classes must be an int >= 2, got 1"),
        (checks.integer, (5, "n"), {"at_least": 0, "at_most": 3}, "n must be an int in [0, 3], got 5"),
        (checks.number, (1.0, "label_smoothing"), {"at_least": 0, "below": 1},
         "label_smoothing must be a float in [0, 1), got 1.0"),
        (checks.number, (0.0, "gain"), {"above": 0}, "gain must be a float > 0, got 0.0"),
        (checks.number, (float("inf"), "radius"), {"above": 0}, "radius must be finite, got inf"),
        (checks.number, (float("nan"), "x"), {}, "x must be finite, got nan"),
        (checks.number, ("1", "x"), {"none": True}, "x must be a float or None, got '1'"),
        (checks.boolean, (1, "flip"), {}, "flip must be True or False, got 1"),
        (checks.choice, ("l3", "reconstruction", ("l1", "l2")), {}, "reconstruction must be one of 'l1', 'l2', got 'l3'"),
        (checks.positive_ints, ((), "filters"), {}, "filters must be a non-empty sequence of positive ints, got ()"),
        (checks.positive_ints, ((8, 0), "filters"), {}, "filters must be a non-empty sequence of positive ints, got (8, 0)"),
        (checks.power_of_two, (12, "resolution"), {}, "resolution must be a power of two >= 4, got 12"),
        (checks.image_shape, ((28, 28),), {}, "image_shape must be (height, width, channels) of positive ints, got (28, 28)"),
    ],
)
def test_bad_values_are_named_with_what_was_expected(check, args, kwargs, message):
    with pytest.raises(ValueError) as raised:
        check(*args, **kwargs)
    assert str(raised.value) == message


def test_good_values_come_back_in_their_canonical_type():
    assert checks.positive_int(np.int64(3), "n") == 3 and type(checks.positive_int(np.int64(3), "n")) is int
    assert checks.number(1, "x", at_least=0) == 1.0 and type(checks.number(1, "x")) is float
    assert checks.number(None, "x", above=0, none=True) is None
    assert checks.number(1.0, "lod", at_least=0, at_most=1) == 1.0  # closed ends include the bound
    assert checks.positive_ints([16, 8], "hidden_units") == (16, 8)
    assert checks.image_shape([32, 32, 3]) == (32, 32, 3)
    assert checks.choice("l1", "reconstruction", ("l1", "l2")) == "l1"
    assert checks.power_of_two(64, "resolution") == 64
    assert checks.boolean(False, "flip") is False
