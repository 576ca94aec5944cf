"""`ZOO_SMOKE=1`: every training run, projection and sample-hungry metric cut to a few steps.

The examples in the README and `docs/` are written at the scale their point needs (25 epochs,
1,000 projection steps, 50,000 PPL samples); `tests/test_docs_examples.py` runs each of them as
written, in seconds, with `ZOO_SMOKE=1` set. zoo reads it in the few places that decide how long
something runs, so the examples themselves stay what a user pastes:

- `fit` of every zoo model and `zoo.training.train` (so `zoo train --epochs`): at most
  :data:`EPOCHS` epoch(s) of :data:`STEPS` steps; `zoo.metrics.train_domain_classifier` (so
  `zoo classifier`): at most :data:`EPOCHS` epoch(s);
- `zoo.projection.project`: at most :data:`STEPS` optimisation steps;
- sample counts of estimators (`zoo.metrics.perceptual_path_length`, `VAE.log_likelihood`'s
  importance samples): at most :data:`SAMPLES`. FID, KID and IS keep theirs: their examples
  pass sample counts that run in seconds.

What a capped run produces is a smoke test of the wiring, not a model: never set it for real work.
"""

import os
import sys

ENV = "ZOO_SMOKE"
EPOCHS = 1
STEPS = 2
SAMPLES = 16

_told = set()


def enabled():
    """True when `ZOO_SMOKE` is set to anything but empty, "0", "false" or "no" (any case)."""
    return os.environ.get(ENV, "").strip().lower() not in ("", "0", "false", "no")


def epochs(value):
    """`value`, or :data:`EPOCHS` if smaller under `ZOO_SMOKE`."""
    return _cap(value, EPOCHS, "epochs")


def steps(value):
    """`value` (None: as many as the data has), or at most :data:`STEPS` under `ZOO_SMOKE`."""
    if not enabled():
        return value
    return _cap(STEPS if value is None else value, STEPS, "steps")


def samples(value):
    """`value`, or :data:`SAMPLES` if smaller under `ZOO_SMOKE`."""
    return _cap(value, SAMPLES, "samples")


def _cap(value, limit, what):
    if not enabled() or isinstance(value, bool) or not isinstance(value, (int, float)) or value <= limit:
        return value  # what is not a number is left to the caller's own checks
    if what not in _told:  # once per process and kind, so a capped run never passes for a real one
        _told.add(what)
        print(f"zoo: {ENV} is set: {what} capped at {limit} (a smoke run, not a trained model)", file=sys.stderr)
    return limit
