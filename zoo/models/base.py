"""Machinery shared by every multi-player model in zoo.

`MultiOptimizerModel` is a `keras.Model` whose `compile()` takes one optimizer
per player instead of Keras' single `optimizer`. It handles the parts that every
custom `train_step` in zoo needs and that are easy to get wrong:

- loss scaling under a `mixed_float16` policy (each optimizer is wrapped in a
  `keras.optimizers.LossScaleOptimizer`; `train_step` calls `scale_loss`);
- losses averaged over the *global* batch under `tf.distribute` (gradients
  are summed across replicas, so each replica divides by the replica count);
- noise that differs between replicas (a `SeedGenerator` is mirrored, so
  every replica would otherwise draw the same numbers);
- XLA only where it helps: `jit_compile=None` turns it on for GPUs and off
  on CPUs, where XLA skips oneDNN and makes GAN steps slower.
"""

import contextlib
import copy
import inspect

import keras
from keras import ops

from zoo import checks, engine, smoke


def resolve_jit_compile(jit_compile):
    """Maps `None`/"auto" to XLA on GPU/TPU only (always on JAX); booleans pass through."""
    if jit_compile is None or jit_compile == "auto":
        if keras.backend.backend() == "jax":
            return True  # XLA is how JAX runs a step; unjitted it is far slower
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU")) or bool(
            tf.config.list_logical_devices("TPU")
        )
    if not isinstance(jit_compile, bool):
        raise ValueError(
            f"jit_compile must be True, False, None or 'auto', got {jit_compile!r}"
        )
    return jit_compile


def from_config_with_nets(cls, config):
    """`cls(**config)` with the injected nets named in `cls.NETS` deserialised first.

    The config is copied deeply: Keras' deserialisation edits the nets' nested
    configs in place, and a caller's config must stay as it was.
    """
    config = copy.deepcopy(config)
    for key in cls.NETS:
        config[key] = keras.saving.deserialize_keras_object(config[key])
    return cls(**config)


def batch_parts(data):
    """The parts of a training batch, trailing `None`s dropped.

    `fit(x, y)` hands `train_step` the tuple `(x, y)`, `train_on_batch(x, y)`
    hands it `(x, y, None)`, and a dataset of one-element tuples gives `(x,)`:
    all three come back as the tuple of what was given, `(x, y)` or `(x,)`.
    """
    if not isinstance(data, (tuple, list)):
        return data
    data = tuple(data)
    while data and data[-1] is None:
        data = data[:-1]
    return data


def unpaired_batch(data, model):
    """`(images_a, images_b)` of a two-domain model's batch, a ValueError naming `model` otherwise.

    A dataset of `(a, b)` tuples, `fit(a, b)` and `train_on_batch(a, b)` all give `(a, b)`;
    a dataset of one-element tuples holding the pair gives it too.
    """
    data = batch_parts(data)
    if isinstance(data, tuple) and len(data) == 1:
        data = data[0]
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{model} trains on (images_a, images_b) tuples of unpaired image batches")
    return data


def replica_mean(loss):
    """Turns a per-replica mean loss into its share of the global mean.

    Under `tf.distribute` the replicas' gradients are summed, so each replica
    divides its mean loss by the replica count.
    """
    return engine.replica_mean(loss)


def replica_seed(seed_generator):
    """A fresh stateless seed from `seed_generator`, different on every replica."""
    if keras.backend.backend() != "tensorflow":
        return seed_generator.next()  # keras.distribution shards one global draw
    import tensorflow as tf

    seed = ops.cast(seed_generator.next(), "int64")
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    # Folding in the replica id gives every replica its own stream; an
    # offset would collide with the next draws of another replica.
    return tf.random.experimental.stateless_fold_in(seed, replica)


def dcgan_adam():
    """Adam(2e-4, beta_1=0.5): Radford et al. 2016's optimizer, which pix2pix, CycleGAN and CoGAN kept."""
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def prepare_optimizer(optimizer, default):
    """Resolves `optimizer` (instance, name, config or None -> `default()`).

    Under a `mixed_float16` global policy the optimizer is wrapped in a
    `LossScaleOptimizer`, as `keras.Model.compile` does for its single optimizer.
    """
    optimizer = default() if optimizer is None else keras.optimizers.get(optimizer)
    policy = keras.mixed_precision.dtype_policy()
    if policy.name == "mixed_float16" and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class MultiOptimizerModel(keras.Model):
    """Base class for models trained by several optimizers in one `train_step`.

    Subclasses list their optimizers' names in `OPTIMIZERS` (e.g.
    `("d_optimizer", "g_optimizer")`) and their default factories in
    `default_optimizers()`, and the constructor arguments that are injected
    nets in `NETS`: `get_config` holds them serialised, and `from_config`
    rebuilds them before calling the constructor.
    """

    OPTIMIZERS = ()
    NETS = ()
    # What `zoo.export.export_model` serves: "generator" (noise [and labels] -> images,
    # a decoder for autoencoders), "classifier", "translator", "translator_pair" (both
    # directions) or "generator_pair" (one generator per domain).
    EXPORT = "generator"

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = checks.integer(seed, "seed", none=True)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {}  # what the steps log: name -> keras.metrics.Mean, see `track`

    def track(self, *names):
        """Logs each of `names` as its mean over the epoch (a `keras.metrics.Mean` in `self.trackers`).

        `metrics` lists the trackers in the order they were added, so Keras resets them each
        epoch and the history and CSV columns keep that order; a step updates them with `log`.
        """
        for name in names:
            self.trackers[name] = keras.metrics.Mean(name=name)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def log(self, **values):
        """Adds each value to the tracker of its name; returns every tracker's result (a step's logs)."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}

    @classmethod
    def from_config(cls, config):
        return from_config_with_nets(cls, config)

    @classmethod
    def from_preset(cls, handle, compile=True):
        """The trained model a pretrained preset names (`zoo.pretrained.load`), checked to be a `cls`.

        `handle`: a registered name (`zoo list`), a folder or `.keras` file, or a URL.
        """
        from zoo import pretrained

        model = pretrained.load(handle, compile=compile)
        if not isinstance(model, cls):
            raise ValueError(f"pretrained preset {handle!r} is a {type(model).__name__}, not a {cls.__name__}; "
                             f"load it with zoo.from_preset or zoo.models.{type(model).__name__}.from_preset")
        return model

    def default_optimizers(self):
        """Returns `{name: factory}` for optimizers not passed to `compile`."""
        return {}

    def compile(self, jit_compile=None, **kwargs):
        """Configures the model for training.

        Args:
            jit_compile: bool, None or "auto". None/"auto" (default) uses XLA
                on GPUs/TPUs only; on CPUs XLA makes these steps slower.
            **kwargs: one optimizer per name in `OPTIMIZERS` (instances,
                names or configs; missing ones get the model's defaults), and
                any other `keras.Model.compile` argument (`steps_per_execution`,
                `run_eagerly`, ...).
        """
        defaults = self.default_optimizers()
        players = {name: prepare_optimizer(kwargs.pop(name, None), defaults[name]) for name in self.OPTIMIZERS}
        for name, optimizer in players.items():
            setattr(self, name, optimizer)
        for bad in ("optimizer", "loss"):
            if kwargs.get(bad) is not None:
                raise ValueError(
                    f"{type(self).__name__}.compile takes {', '.join(self.OPTIMIZERS)} "
                    f"and its loss from the constructor; got {bad}={kwargs[bad]!r}"
                )
            kwargs.pop(bad, None)
        # optimizer=None: otherwise Keras creates a stray RMSprop.
        super().compile(optimizer=None, jit_compile=resolve_jit_compile(jit_compile), **kwargs)
        if self.OPTIMIZERS == ("optimizer",):
            # One player named `optimizer` (the autoencoders): Keras' own optimizer,
            # which every trainer threads through its step and finalizes itself.
            self.optimizer = players["optimizer"]
        elif keras.backend.backend() == "jax":
            # The JAX trainer threads exactly `self.optimizer.variables` through its step.
            self.optimizer = engine.PlayersOptimizer(self)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            name: keras.optimizers.serialize(getattr(self, name)) for name in self.OPTIMIZERS
        }

    def compile_from_config(self, config):
        self.compile(**{name: keras.optimizers.deserialize(c) for name, c in config.items()})
        # Built now, so that loading a saved model restores the optimizers' state too.
        self.build_optimizers()

    @property
    def optimizers(self):
        return [getattr(self, name) for name in self.OPTIMIZERS if hasattr(self, name)]

    def build_optimizers(self):
        """Creates every optimizer's slots for the variables it trains.

        Needed before restoring optimizer state and before `fit` under a
        `tf.distribute` strategy (call it inside `strategy.scope()`).
        """
        for name, variables in self.optimizer_variables().items():
            optimizer = getattr(self, name)
            if not optimizer.built:
                optimizer.build(variables)

    def optimizer_variables(self):
        """Returns `{optimizer_name: list of variables it trains}`."""
        raise NotImplementedError

    def fit(self, *args, **kwargs):
        # Slots created inside the first traced step make TensorFlow trace it twice;
        # built here, the first epoch starts about twice as fast.
        if self.compiled:
            strategy = getattr(self, "distribute_strategy", None)  # tf.distribute only
            with strategy.scope() if strategy is not None else contextlib.nullcontext():
                self.build_optimizers()
        if smoke.enabled():  # ZOO_SMOKE: at most 1 epoch of 2 steps (the docs' examples in CI)
            kwargs = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments
            del kwargs["self"]
            args = ()
            kwargs["epochs"] = smoke.epochs(kwargs.get("epochs", 1))
            kwargs["steps_per_epoch"] = smoke.steps(kwargs.get("steps_per_epoch"))
            if kwargs.get("validation_data") is not None:
                kwargs["validation_steps"] = smoke.steps(kwargs.get("validation_steps"))
        history = super().fit(*args, **kwargs)
        # Keras finalizes only `self.optimizer` (e.g. copies EMA weights in).
        for name, variables in self.optimizer_variables().items():
            getattr(self, name).finalize_variable_values(variables)
        return history

    # -- helpers for train_step -------------------------------------------

    def replica_mean(self, loss):
        """Turns a per-replica mean loss into its share of the global mean."""
        return replica_mean(loss)

    def draw_seed(self):
        """A fresh stateless seed, different on every replica."""
        return replica_seed(self.seed_generator)

    def normal(self, shape, stddev=1.0, dtype="float32"):
        """Normal noise from the model's seed generator."""
        if keras.backend.backend() != "tensorflow":
            return keras.random.normal(shape, stddev=stddev, dtype=dtype, seed=self.seed_generator)
        import tensorflow as tf

        return tf.random.stateless_normal(shape, seed=self.draw_seed(), stddev=stddev, dtype=dtype)

    def uniform(self, shape, minval=0.0, maxval=1.0, dtype="float32"):
        """Uniform noise in `[minval, maxval)` from the model's seed generator."""
        if keras.backend.backend() != "tensorflow":
            return keras.random.uniform(shape, minval, maxval, dtype=dtype, seed=self.seed_generator)
        import tensorflow as tf

        return tf.random.stateless_uniform(shape, seed=self.draw_seed(), minval=minval, maxval=maxval, dtype=dtype)

    # -- the JAX trainer's (state, data) protocol ------------------------------

    def make_train_function(self, force=False):
        if keras.backend.backend() != "jax":
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return None
        self.train_function = self._make_function(
            self._jax_jit(lambda state, data: engine.jax_train_step(self, self.train_step, state, data))
        )
        return None

    def make_test_function(self, force=False):
        if keras.backend.backend() != "jax":
            return super().make_test_function(force)
        if self.test_function is not None and not force:
            return None
        self.test_function = self._make_function(
            self._jax_jit(lambda state, data: engine.jax_test_step(self, self.test_step, state, data))
        )
        return None

    def _jax_jit(self, step):
        if self.run_eagerly or not self.jit_compile:
            return step
        import jax

        return jax.jit(step, donate_argnums=0)


class NoiseInput:
    """For models whose generator takes noise `(batch, latent_dim)`: drawing it and checking it.

    Mixed into a `MultiOptimizerModel` that sets `latent_dim`; `sample_noise` draws N(0, I)
    from the model's seed generator unless the model overrides it (a uniform prior).
    """

    def sample_noise(self, batch_size):
        return self.normal((batch_size, self.latent_dim))

    def noise_for(self, num_or_z):
        """Noise `(n, latent_dim)` from a count (drawn by `sample_noise`) or checked as given."""
        if isinstance(num_or_z, int) and not isinstance(num_or_z, bool):
            if num_or_z < 1:
                raise ValueError(f"the number of samples must be positive, got {num_or_z}")
            return self.sample_noise(num_or_z)
        z = ops.convert_to_tensor(num_or_z, dtype="float32")
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"noise must have shape (n, {self.latent_dim}), got {tuple(z.shape)}")
        return z
