"""Training throughput of DCGAN-64, cGAN-28 and WGAN-GP-28: zoo against plain Keras (issue 8).

Run from the repository root:

    PYTHONPATH=. .venv/bin/python benchmarks/throughput.py                      # everything
    PYTHONPATH=. .venv/bin/python benchmarks/throughput.py --threads 1 --runs 5 \
        --models dcgan64,cgan28,wgangp28 --variants plain,zoo,zoo_auto
    PYTHONPATH=. .venv/bin/python benchmarks/throughput.py --quick              # smoke check

Models (the same architecture in every variant of a model, the same synthetic data):
    dcgan64   the lecture's CelebA DCGAN (keras.io "DCGAN to generate face images"):
              64x64x3, latent 128, batch 32, Adam(1e-4) for both players.
              zoo: `zoo.models.GAN` with `zoo.nets.keras_dcgan_generator/discriminator`.
    cgan28    keras.io "Conditional GAN" (MNIST): 28x28x1, latent 128, 10 classes, one-hot
              label maps joined to the discriminator's input, batch 64, Adam(3e-4).
              zoo: `zoo.models.ConditionalGAN` with the example's layers behind zoo's
              `[noise, labels]` / `[images, labels]` inputs (int labels, one-hot inside).
    wgangp28  keras.io "WGAN-GP" (Fashion-MNIST): 28x28x1 padded to 32 inside the critic,
              latent 128, 5 critic steps per generator step, gradient penalty 10,
              Adam(2e-4, 0.5, 0.9), batch 64 (the example uses 512 and 3 critic steps; 64
              keeps a run short, 5 is the paper's and zoo's value; both variants alike).
              zoo: `zoo.models.WGANGP` with the example's nets.

Variants:
    plain     written the way the keras.io examples are: a `keras.Model` subclass with a
              `tf.GradientTape` `train_step`, `fit`, float32, no tuning (classes below).
    zoo       zoo's model, float32.
    zoo_auto  zoo's model with zoo's per-device defaults: built after
              `zoo.device.set_precision("auto")` (mixed_bfloat16 on CPUs with avx512_bf16
              or amx_bf16, mixed_float16 on GPUs, else float32) and `jit_compile=None`
              (XLA on GPUs only).
    zoo_auto_spe    zoo_auto with `steps_per_execution=--spe` (a lever, not in the default list).
    zoo_auto_fused  zoo_auto with real and fake images through the discriminator in one
                    concatenated call (a lever, not in the default list; see
                    `FusedDiscriminatorPass`).

Protocol: every variant of every model is built and warmed up (a first `fit` that traces it),
then rounds run every (model, variant) once in a fixed order, `--runs` rounds: A B C A B C ...
(with `--rotate` the variants' order turns by one each round: A B C, B C A, C A B, ...).
A run is one `fit` of `--steps` steps on cached synthetic batches; images/s =
steps * batch / (start of training to end of the last step). Each round ends with a few
float32 and bfloat16 `tf.linalg.matmul`s (the ceilings, under the same load). Reported:
medians, ratio of medians against plain, per-round ratios, achieved GFLOP/s (analytic FLOPs)
and its share of each ceiling. `--first-step` (default on) also starts one fresh Python
process per variant, which imports, builds, compiles and runs `fit` for one step, and prints
the time since its process started (from /proc/self/stat), split into import / build /
compile / first step.
"""

import argparse
import contextlib
import datetime
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402

import zoo  # noqa: E402
from zoo import engine  # noqa: E402

IMPORTED_AT = time.time()

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _flops  # noqa: E402  (no TensorFlow)


class _ImportedOnUse:
    """A module imported at its first attribute access rather than with this file.

    TensorFlow, and the two helper scripts that import it, load this way so that
    `backends_throughput.py` can build these models on JAX without importing TensorFlow.
    (Not a lazy module in `sys.modules`: Keras tests `"tensorflow" in sys.modules`.)
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


tf = _ImportedOnUse("tensorflow")
_shared = _ImportedOnUse("_shared")
dcgan64 = _ImportedOnUse("dcgan64_throughput")

BENCHMARK = "throughput"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_OUTPUT = RESULTS_DIR / f"{BENCHMARK}.json"
QUICK_OUTPUT = RESULTS_DIR / f"{BENCHMARK}_quick.json"
BASELINE = "plain"
FIRST_STEP_MARKER = "FIRST_STEP_JSON "
NUM_CLASSES = 10


# -- plain cGAN-28 (keras.io "Conditional GAN") ---------------------------------------


def cgan28_bodies(latent_dim, num_classes, zoo_output):
    """The example's generator and discriminator bodies (Sequential).

    Generator: `latent_dim + num_classes` -> Dense 7x7xC -> two 4x4 stride-2 transposed
    convolutions (128) -> 7x7 convolution to one channel. Discriminator: 28x28x(1 + classes)
    -> two 3x3 stride-2 convolutions (64, 128) -> global max pool -> one logit.
    `zoo_output`: tanh in float32 (zoo's [-1, 1] images and float32 outputs) instead of the
    example's sigmoid; the same cost. It also upsamples with `zoo.layers.Conv2DTranspose`,
    which is Keras' layer on TensorFlow (the same call) and on JAX computes the same numbers
    by output phase, because XLA:CPU differentiates Keras' input-dilated convolution ~30x
    slower (zoo/layers/strided.py).
    """
    upsample = zoo.layers.Conv2DTranspose if zoo_output else layers.Conv2DTranspose
    channels = latent_dim + num_classes
    last = (
        [layers.Conv2D(1, 7, padding="same"), layers.Activation("tanh", dtype="float32")]
        if zoo_output
        else [layers.Conv2D(1, 7, padding="same", activation="sigmoid")]
    )
    generator = keras.Sequential(
        [
            keras.Input((channels,)),
            layers.Dense(7 * 7 * channels),
            layers.LeakyReLU(0.2),
            layers.Reshape((7, 7, channels)),
            upsample(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            upsample(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            *last,
        ],
        name="cgan28_generator_body",
    )
    discriminator = keras.Sequential(
        [
            keras.Input((28, 28, 1 + num_classes)),
            layers.Conv2D(64, 3, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(128, 3, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1, dtype="float32" if zoo_output else None),
        ],
        name="cgan28_discriminator_body",
    )
    return generator, discriminator


class PlainConditionalGAN(keras.Model):
    """The keras.io conditional GAN's training step, as a Keras user writes it.

    Label planes are the one-hot labels repeated over the image (the example's
    repeat-then-reshape); fakes (target 1) and reals (target 0) go through the
    discriminator in one concatenated batch. Benchmark-only.
    """

    def __init__(self, discriminator, generator, latent_dim, seed=None):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, data):
        real_images, one_hot_labels = data
        size = real_images.shape[1]
        planes = ops.repeat(one_hot_labels[:, :, None, None], repeats=size * size)
        planes = ops.reshape(planes, (-1, size, size, NUM_CLASSES))
        batch_size = ops.shape(real_images)[0]

        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fakes = self.generator(ops.concatenate([z, one_hot_labels], axis=1))
        combined = ops.concatenate(
            [ops.concatenate([fakes, planes], -1), ops.concatenate([real_images, planes], -1)],
            axis=0,
        )
        targets = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(targets, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fakes = self.generator(ops.concatenate([z, one_hot_labels], axis=1))
            scores = self.discriminator(ops.concatenate([fakes, planes], -1))
            g_loss = self.loss_fn(ops.zeros((batch_size, 1)), scores)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def zoo_cgan28_nets(latent_dim, num_classes):
    """The example's layers behind zoo's conditional inputs (int labels, one-hot inside)."""
    g_body, d_body = cgan28_bodies(latent_dim, num_classes, zoo_output=True)
    noise = keras.Input((latent_dim,), name="noise")
    labels = keras.Input((), dtype="int32", name="labels")
    one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot")(labels)
    generator = keras.Model(
        [noise, labels], g_body(layers.Concatenate()([noise, one_hot])), name="cgan28_generator"
    )
    images = keras.Input((28, 28, 1), name="images")
    d_labels = keras.Input((), dtype="int32", name="labels")
    joined = zoo.nets.conditioning.concat_label_maps(images, d_labels, num_classes)
    discriminator = keras.Model([images, d_labels], d_body(joined), name="cgan28_discriminator")
    return generator, discriminator


# -- plain WGAN-GP-28 (keras.io "WGAN-GP") ---------------------------------------------


def wgangp28_nets(latent_dim, zoo_output):
    """The example's generator (4x4x256 -> upsample + 3x3 conv x3 -> crop to 28) and
    critic (pad to 32 -> four 5x5 stride-2 convolutions 64-512, dropout -> one score).

    `zoo_output` as in `cgan28_bodies`; the critic's strided convolutions are then
    `zoo.layers.Conv2D`, Keras' layer on TensorFlow, and on JAX one whose input gradient
    (which the gradient penalty differentiates again) is computed by output phase.
    """
    downsample = zoo.layers.Conv2D if zoo_output else layers.Conv2D
    noise = keras.Input((latent_dim,), name="noise")
    x = layers.Dense(4 * 4 * 256, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((4, 4, 256))(x)
    for filters in (128, 64, 1):
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x) if filters > 1 else x
    x = layers.Activation("tanh", dtype="float32" if zoo_output else None)(x)
    generator = keras.Model(noise, layers.Cropping2D(2)(x), name="wgangp28_generator")

    images = keras.Input((28, 28, 1), name="images")
    x = layers.ZeroPadding2D(2)(images)
    for filters, dropout in ((64, 0.0), (128, 0.3), (256, 0.3), (512, 0.0)):
        x = downsample(filters, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Dropout(0.2)(layers.Flatten()(x))
    score = layers.Dense(1, dtype="float32" if zoo_output else None)(x)
    critic = keras.Model(images, score, name="wgangp28_critic")
    return generator, critic


class PlainWGANGP(keras.Model):
    """The keras.io WGAN-GP training step: `d_steps` critic updates with a gradient
    penalty on per-example interpolates, then one generator update. Benchmark-only."""

    def __init__(self, discriminator, generator, latent_dim, d_steps=5, gp_weight=10.0, seed=None):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_steps = d_steps
        self.gp_weight = gp_weight
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def gradient_penalty(self, batch_size, real_images, fake_images):
        alpha = keras.random.uniform((batch_size, 1, 1, 1), seed=self.seed_generator)
        interpolated = real_images + alpha * (fake_images - real_images)
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            scores = self.discriminator(interpolated, training=True)
        grads = gp_tape.gradient(scores, [interpolated])[0]
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            with tf.GradientTape() as tape:
                fake_images = self.generator(z, training=True)
                fake_scores = self.discriminator(fake_images, training=True)
                real_scores = self.discriminator(real_images, training=True)
                d_cost = tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)
                gp = self.gradient_penalty(batch_size, real_images, fake_images)
                d_loss = d_cost + gp * self.gp_weight
            grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))

        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            scores = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = -tf.reduce_mean(scores)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


# -- a lever: real and fake images through the discriminator in one batch ------------


class FusedDiscriminatorPass:
    """Mixin for zoo's GAN models: one discriminator call on `concat(real, fake)`.

    Only valid for discriminators without batch statistics (no BatchNorm): the three
    nets here have none. Measured as the `zoo_auto_fused` variant; zoo's models keep
    separate real and fake calls unless a measurement shows this wins.
    """

    def _fused_logits(self, real_inputs, fake_inputs, labels):
        batch = ops.shape(real_inputs)[0]
        both = ops.concatenate([ops.cast(real_inputs, "float32"), ops.cast(fake_inputs, "float32")], 0)
        if labels is None:
            logits = self.discriminator(both, training=True)
        else:
            logits = self._discriminate(both, ops.concatenate([labels, labels], 0), True)[0]
        return logits[:batch], logits[batch:]

    def discriminator_step(self, real_images, labels=None):
        batch_size = ops.shape(real_images)[0]
        noise = self.sample_noise(batch_size)
        fake_images = self.generator(noise if labels is None else [noise, labels], training=True)

        def loss():
            real_inputs = self._d_inputs(real_images)
            fake_inputs = self._d_inputs(fake_images)
            real_logits, fake_logits = self._fused_logits(real_inputs, fake_inputs, labels)
            d_loss = self.d_loss_fn(real_logits, fake_logits, real_target=1.0 - self.label_smoothing)
            if labels is None:
                critic = lambda x: self.discriminator(x, training=True)  # noqa: E731
            else:
                critic = lambda x: self._discriminate(x, labels, True)[0]  # noqa: E731
            penalty, penalties = self.regularization(critic, real_inputs, fake_inputs)
            return d_loss + penalty, d_loss, real_logits, fake_logits, penalties

        _, d_loss, real_logits, fake_logits, penalties = engine.update(
            self.d_optimizer, self.discriminator.trainable_variables, loss
        )
        self.clip_discriminator()
        if labels is None:
            return d_loss, real_logits, fake_logits, penalties
        return d_loss, real_logits, fake_logits, (None, None), penalties


def zoo_class(cls, kind):
    """`cls`, or for kind "zoo_fused" a subclass with the fused discriminator pass."""
    if kind != "zoo_fused":
        return cls
    return type(f"Fused{cls.__name__}", (FusedDiscriminatorPass, cls), {})


# -- the models ------------------------------------------------------------------------


def build_dcgan64(kind, spec, seed):
    if kind == "plain":
        return dcgan64.build_plain(spec["image_shape"], seed)
    model = zoo_class(zoo.models.GAN, kind)(
        zoo.nets.keras_dcgan_generator(spec["latent_dim"], spec["image_shape"]),
        zoo.nets.keras_dcgan_discriminator(spec["image_shape"]),
        seed=seed,
    )
    return model, {
        "d_optimizer": keras.optimizers.Adam(1e-4),
        "g_optimizer": keras.optimizers.Adam(1e-4),
    }


def build_cgan28(kind, spec, seed):
    latent_dim = spec["latent_dim"]
    if kind == "plain":
        generator, discriminator = cgan28_bodies(latent_dim, NUM_CLASSES, zoo_output=False)
        model = PlainConditionalGAN(discriminator, generator, latent_dim, seed=seed)
        model.compile(
            d_optimizer=keras.optimizers.Adam(3e-4),
            g_optimizer=keras.optimizers.Adam(3e-4),
            loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
        )
        return model
    generator, discriminator = zoo_cgan28_nets(latent_dim, NUM_CLASSES)
    model = zoo_class(zoo.models.ConditionalGAN, kind)(generator, discriminator, num_classes=NUM_CLASSES, seed=seed)
    return model, {"d_optimizer": keras.optimizers.Adam(3e-4), "g_optimizer": keras.optimizers.Adam(3e-4)}


def build_wgangp28(kind, spec, seed):
    latent_dim = spec["latent_dim"]
    generator, critic = wgangp28_nets(latent_dim, zoo_output=kind != "plain")

    def adam():
        return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9)

    if kind == "plain":
        model = PlainWGANGP(critic, generator, latent_dim, d_steps=spec["d_steps"], seed=seed)
        model.compile(d_optimizer=adam(), g_optimizer=adam())
        return model
    model = zoo_class(zoo.models.WGANGP, kind)(generator, critic, gradient_penalty=10.0, d_steps=spec["d_steps"], seed=seed)
    return model, {"d_optimizer": adam(), "g_optimizer": adam()}


# Passes per image and training step, in forward-pass units (forward + backward = 3):
#   GAN step: G 1 (fakes for D) + 3 (G update); D 2 x 3 (real and fake) + 2 (G update:
#   forward and input gradients). WGAN-GP critic step: G 1; D 2 x 3 + 6 for the penalty
#   (forward and input gradient on the interpolates, 2, then their weight gradients,
#   about twice that, 4); times d_steps, plus the generator update (G 3, D 2).
MODELS = {
    "dcgan64": {
        "build": build_dcgan64,
        "image_shape": (64, 64, 3),
        "latent_dim": 128,
        "batch_size": 32,
        "labels": False,
        "passes": lambda spec: (1 + 3, 2 * 3 + 2),
        "example": 'keras.io "DCGAN to generate face images" (CelebA 64x64)',
    },
    "cgan28": {
        "build": build_cgan28,
        "image_shape": (28, 28, 1),
        "latent_dim": 128,
        "batch_size": 64,
        "labels": True,
        "passes": lambda spec: (1 + 3, 2 * 3 + 2),
        "example": 'keras.io "Conditional GAN" (MNIST 28x28, one-hot label channels)',
    },
    "wgangp28": {
        "build": build_wgangp28,
        "image_shape": (28, 28, 1),
        "latent_dim": 128,
        "batch_size": 64,
        "d_steps": 5,
        "labels": False,
        "passes": lambda spec: (spec["d_steps"] * 1 + 3, spec["d_steps"] * (2 * 3 + 6) + 2),
        "example": 'keras.io "WGAN-GP" (Fashion-MNIST 28x28 padded to 32, 5 critic steps)',
    },
}

# name -> (builder kind, precision: None = float32, "auto" = zoo.device.set_precision("auto"))
VARIANTS = {
    "plain": ("plain", None),
    "zoo": ("zoo", None),
    "zoo_auto": ("zoo", "auto"),
    "zoo_auto_spe": ("zoo", "auto"),
    "zoo_auto_fused": ("zoo_fused", "auto"),
}
DEFAULT_VARIANTS = ("plain", "zoo", "zoo_auto")


@contextlib.contextmanager
def precision(name):
    """Builds under `zoo.device.set_precision(name)` (None: float32); restores the policy."""
    previous = keras.mixed_precision.global_policy()
    policy = zoo.device.set_precision(name or "float32")
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def build_variant(model_name, variant, spec, seed, spe=1):
    """Builds and compiles one (model, variant); returns (model, policy name)."""
    kind, prec = VARIANTS[variant]
    keras.utils.set_random_seed(seed)  # zoo and zoo_auto start from the same weights
    with precision(prec) as policy:
        built = MODELS[model_name]["build"](kind, spec, seed)
        if kind != "plain":
            model, optimizers = built
            compile_kwargs = {"steps_per_execution": spe} if variant == "zoo_auto_spe" else {}
            model.compile(**optimizers, **compile_kwargs)
        else:
            model = built
    return model, policy


def model_spec(model_name, args):
    spec = {k: v for k, v in MODELS[model_name].items() if k not in ("build", "passes")}
    if model_name == "dcgan64" and args.image_size:
        spec["image_shape"] = (args.image_size, args.image_size, 3)
    if args.batch_size:
        spec["batch_size"] = args.batch_size
    return spec


def synthetic_dataset(spec, variant, num_batches, seed):
    """Uniform [-1, 1] images (and labels), batched, cached, repeated; the same in every variant.

    cGAN: plain variants get one-hot labels (as the keras.io example), zoo gets int labels.
    """
    batch = spec["batch_size"]
    images = tf.random.stateless_uniform(
        (num_batches * batch, *spec["image_shape"]), seed=(seed, 0), minval=-1.0, maxval=1.0
    )
    if spec["labels"]:
        labels = tf.random.stateless_uniform(
            (num_batches * batch,), seed=(seed, 1), maxval=NUM_CLASSES, dtype="int32"
        )
        if VARIANTS[variant][0] == "plain":
            labels = tf.one_hot(labels, NUM_CLASSES)
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images)
    dataset = dataset.batch(batch, drop_remainder=True).cache()
    for _ in dataset:  # fill the cache before timing
        pass
    options = tf.data.Options()
    options.autotune.enabled = False  # see dcgan64_throughput.synthetic_dataset
    return dataset.repeat().with_options(options)


def flops_per_image(model_name, spec, model):
    passes = MODELS[model_name]["passes"](spec)
    return _flops.gan_step_flops(model.generator, model.discriminator, passes)


def matmul_gflops(a, b):
    start = time.perf_counter()
    c = tf.linalg.matmul(a, b)
    float(tf.cast(c[0, 0], "float32"))
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / (time.perf_counter() - start) / 1e9


# -- time to first step in a fresh process ---------------------------------------------


def process_start_time():
    """Wall-clock time at which this process started (Linux /proc), or None."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of the line, after pid and comm
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return boot + start_ticks / os.sysconf("SC_CLK_TCK")


def first_step_child(model_name, variant, args):
    """Runs in a fresh process: build, compile, fit 1 step; prints phase times since start."""
    started = process_start_time()
    spec = model_spec(model_name, args)
    dataset = synthetic_dataset(spec, variant, 1, args.seed)
    data_done = time.time()
    model, policy = build_variant(model_name, variant, spec, args.seed, args.spe)
    built = time.time()
    clock = dcgan64.StepClock()
    fit_start = time.time()
    spe = args.spe if variant == "zoo_auto_spe" else 1
    model.fit(dataset, epochs=1, steps_per_epoch=spe, callbacks=[clock], verbose=0)
    first_step_end = time.time() - (time.perf_counter() - clock.ends[0])
    report = {
        "process_start_known": started is not None,
        "import_seconds": IMPORTED_AT - started if started else None,
        "data_seconds": data_done - IMPORTED_AT,
        "build_compile_seconds": built - data_done,
        "fit_to_first_step_seconds": first_step_end - fit_start,
        "time_to_first_step_seconds": first_step_end - started if started else None,
        "dtype_policy": policy,
    }
    print(FIRST_STEP_MARKER + json.dumps(report), flush=True)


def measure_first_step(model_name, variant, args):
    """Starts a fresh Python process for one variant; returns its phase times."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--first-step-child",
        f"{model_name}:{variant}",
        "--seed",
        str(args.seed),
        "--spe",
        str(args.spe),
    ]
    for flag, value in (("--threads", args.threads), ("--batch-size", args.batch_size), ("--image-size", args.image_size)):
        if value:
            command += [flag, str(value)]
    start = time.time()
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.time() - start
    lines = [line for line in out.stdout.splitlines() if line.startswith(FIRST_STEP_MARKER)]
    if out.returncode or not lines:
        raise RuntimeError(f"first-step process for {model_name}:{variant} failed:\n{out.stderr[-2000:]}")
    report = json.loads(lines[-1][len(FIRST_STEP_MARKER):])
    report["process_wall_seconds"] = wall
    return report


# -- summary ---------------------------------------------------------------------------


def summarise(variants, ceilings, baseline=BASELINE):
    """Adds medians, ratios against `baseline` (plain, else the first variant) and ceiling shares."""
    base = [r["images_per_second"] for r in variants[baseline]["runs"]]
    for v in variants.values():
        per_run = [r["images_per_second"] for r in v["runs"]]
        v["median_images_per_second"] = statistics.median(per_run)
        steady = [r.get("steady_images_per_second") for r in v["runs"]]
        v["median_steady_images_per_second"] = None if None in steady else statistics.median(steady)
        v["achieved_gflop_per_second"] = v["median_images_per_second"] * v["train_step_gflop_per_image"]
        v["share_of_matmul_ceiling"] = {
            dtype: v["achieved_gflop_per_second"] / c for dtype, c in ceilings.items()
        }
        v["ratio_of_medians"] = v["median_images_per_second"] / statistics.median(base)
        v["round_ratios"] = [x / y for x, y in zip(per_run, base)]
        v["median_of_round_ratios"] = statistics.median(v["round_ratios"])


def print_table(record):
    ceilings = {d: m["median_gflop_per_second"] for d, m in record["matmul"].items()}
    header = (
        f"{'model':<9} {'variant':<15} {'img/s':>8} {'vs ' + record['baseline']:>12} {'rnd ratio':>9} "
        f"{'GFLOP/s':>8} {'%fp32':>6} {'%bf16':>6} {'1st step':>8}"
    )
    print(header)
    print("-" * len(header))
    for model_name, m in record["models"].items():
        for name, v in m["variants"].items():
            vs, rr = f"{v['ratio_of_medians']:.2f}", f"{v['median_of_round_ratios']:.2f}"
            first = m.get("first_step", {}).get(name, {}).get("time_to_first_step_seconds")
            share = v["share_of_matmul_ceiling"]
            print(
                f"{model_name:<9} {name:<15} {v['median_images_per_second']:>8.2f} {vs:>12} {rr:>9} "
                f"{v['achieved_gflop_per_second']:>8.1f} {100 * share['float32']:>5.1f}% "
                f"{100 * share['bfloat16']:>5.1f}% {'-' if first is None else f'{first:.1f} s':>8}"
            )
    print(
        "matmul ceilings: "
        + ", ".join(f"{d} {c:.1f} GFLOP/s" for d, c in ceilings.items())
        + f" ({record['settings']['matmul_size']}^2, medians)"
    )


# -- main ------------------------------------------------------------------------------


def parse_names(text, known, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"{what}: expected distinct names from {', '.join(known)}, got {text!r}")
    return names


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=lambda t: parse_names(t, MODELS, "--models"), default=list(MODELS))
    parser.add_argument(
        "--variants",
        type=lambda t: parse_names(t, VARIANTS, "--variants"),
        default=list(DEFAULT_VARIANTS),
        help=f"comma-separated, from {', '.join(VARIANTS)} (default {','.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: cgan28 4, the others 2)")
    parser.add_argument("--batch-size", type=int, default=None, help="override every model's batch size")
    parser.add_argument("--image-size", type=int, default=None, help="dcgan64 side (multiple of 8; tests only)")
    parser.add_argument("--spe", type=int, default=4, help="steps_per_execution of zoo_auto_spe (default 4)")
    parser.add_argument("--threads", type=int, default=0, help="TF intra/inter-op threads (default 0: TF's)")
    parser.add_argument("--matmul-size", type=int, default=2048, help="matmul side (default 2048)")
    parser.add_argument("--matmul-reps", type=int, default=3, help="matmuls per dtype per round (default 3)")
    parser.add_argument("--first-step", action=argparse.BooleanOptionalAction, default=True,
                        help="time to first step in a fresh process per variant (default on)")
    parser.add_argument("--rotate", action="store_true",
                        help="rotate the variants' order by one every round (A B C, B C A, ...)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 round of 1 step at batch 4")
    parser.add_argument("--first-step-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.steps, args.matmul_size = 1, 1, 256
        args.batch_size = args.batch_size or 4
    if args.output is None:
        args.output = QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT
    for name in ("runs", "spe", "matmul_size", "matmul_reps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    for name in ("steps", "batch_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive int")
    if args.threads < 0:
        parser.error("--threads must be >= 0")
    if args.image_size is not None and (args.image_size < 8 or args.image_size % 8):
        parser.error(f"--image-size must be a positive multiple of 8, got {args.image_size}")
    if "zoo_auto_spe" in args.variants:
        for model_name in args.models:
            if steps_for(model_name, args) % args.spe:
                parser.error(f"--steps must be a multiple of --spe ({args.spe}) with zoo_auto_spe")
    return args


def steps_for(model_name, args):
    if args.steps:
        return args.steps
    return 4 if model_name == "cgan28" else 2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parse_args(argv)
    try:
        _shared.limit_threads(args.threads)
    except RuntimeError:  # TensorFlow already running in this process (tests): keep its threads
        print(f"note: --threads {args.threads} ignored, TensorFlow is already initialised", flush=True)
    if args.first_step_child:
        model_name, variant = args.first_step_child.split(":")
        first_step_child(model_name, variant, args)
        return None
    _shared.read_results(args.output, BENCHMARK)  # fail now rather than after the runs
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_before = os.getloadavg()

    models, datasets, record_models = {}, {}, {}
    for model_name in args.models:
        spec = model_spec(model_name, args)
        entry = {"settings": {**spec, "image_shape": list(spec["image_shape"]), "steps": steps_for(model_name, args)},
                 "variants": {}}
        for variant in args.variants:
            key = (model_name, variant)
            datasets[key] = synthetic_dataset(spec, variant, 4, args.seed)
            start = time.perf_counter()
            models[key], policy = build_variant(model_name, variant, spec, args.seed, args.spe)
            build_seconds = time.perf_counter() - start
            spe = args.spe if variant == "zoo_auto_spe" else 1
            warm = dcgan64.timed_fit(models[key], datasets[key], spe)
            entry["variants"][variant] = {
                "dtype_policy": policy,
                "jit_compile": bool(models[key].jit_compile),
                "steps_per_execution": spe,
                "parameters": models[key].generator.count_params() + models[key].discriminator.count_params(),
                "build_seconds": build_seconds,
                "in_process_fit_to_first_step_seconds": warm["first_step_end_seconds"],
                **flops_per_image(model_name, spec, models[key]),
                "runs": [],
            }
            print(f"{model_name} {variant}: built, first step {warm['first_step_end_seconds']:.1f} s", flush=True)
        record_models[model_name] = entry

    size = (args.matmul_size, args.matmul_size)
    lhs = tf.random.stateless_uniform(size, seed=(args.seed, 1))
    rhs = tf.random.stateless_uniform(size, seed=(args.seed, 2))
    operands = {"float32": (lhs, rhs), "bfloat16": (tf.cast(lhs, "bfloat16"), tf.cast(rhs, "bfloat16"))}
    for a, b in operands.values():
        matmul_gflops(a, b)  # warm-up
    matmul_runs = {dtype: [] for dtype in operands}

    for round_index in range(args.runs):
        for model_name in args.models:
            batch = record_models[model_name]["settings"]["batch_size"]
            steps = steps_for(model_name, args)
            shift = round_index % len(args.variants) if args.rotate else 0
            for variant in args.variants[shift:] + args.variants[:shift]:
                key = (model_name, variant)
                t = dcgan64.timed_fit(models[key], datasets[key], steps)
                run = {
                    "round": round_index,
                    "images_per_second": steps * batch / t["loop_seconds"],
                    "loop_seconds": t["loop_seconds"],
                    "fit_seconds": t["fit_seconds"],
                    "step_seconds": t["step_seconds"],
                    # Without each fit call's first step, which pays for the new iterator.
                    "steady_images_per_second": (
                        (len(t["step_seconds"]) - 1) * batch * (steps // len(t["step_seconds"]))
                        / sum(t["step_seconds"][1:]) if len(t["step_seconds"]) > 1 else None
                    ),
                    "load_average_1min": os.getloadavg()[0],
                }
                record_models[model_name]["variants"][variant]["runs"].append(run)
                print(f"round {round_index + 1}/{args.runs} {model_name} {variant}: "
                      f"{run['images_per_second']:.2f} images/s", flush=True)
        for dtype, (a, b) in operands.items():
            matmul_runs[dtype].extend(matmul_gflops(a, b) for _ in range(args.matmul_reps))

    ceilings = {dtype: statistics.median(v) for dtype, v in matmul_runs.items()}
    baseline = BASELINE if BASELINE in args.variants else args.variants[0]
    for entry in record_models.values():
        summarise(entry["variants"], ceilings, baseline)

    if args.first_step:
        # After the timed rounds, so that these processes never overlap a timed run.
        first_variants = ["zoo_auto"] if args.quick and "zoo_auto" in args.variants else args.variants
        for model_name in args.models[:1] if args.quick else args.models:
            record_models[model_name]["first_step"] = {}
            for variant in first_variants:
                report = measure_first_step(model_name, variant, args)
                record_models[model_name]["first_step"][variant] = report
                print(f"{model_name} {variant}: first step {report['time_to_first_step_seconds']:.1f} s "
                      "after process start", flush=True)

    record = {
        "benchmark": BENCHMARK,
        "date": date,
        "machine": _shared.machine_info(),
        "native_bf16": _shared.has_native_bf16(),
        "load_average_before": list(load_before),
        "load_average_after": list(os.getloadavg()),
        "settings": {
            "runs": args.runs,
            "threads": args.threads,
            "spe": args.spe,
            "matmul_size": args.matmul_size,
            "matmul_reps": args.matmul_reps,
            "seed": args.seed,
            "rotate": args.rotate,
            "quick": args.quick,
            "command": " ".join([Path(__file__).name, *argv]),
        },
        "protocol": (
            "all (model, variant) pairs built and warmed up first; timed runs interleaved round by round "
            "(models in order, variants in order); images/s = steps * batch_size / loop_seconds of one fit "
            "call; medians over runs; ratios against plain (of medians, and per round); float32 and "
            "bfloat16 matmul ceilings measured after every round; first step measured in a fresh process "
            "per variant after the rounds"
        ),
        "flops_method": (
            "analytic: conv/dense MACs x 2 per forward pass; forward+backward = 3 forward passes; "
            "passes per image listed per variant (generator_passes, discriminator_passes)"
        ),
        "order": {"models": list(args.models), "variants": list(args.variants), "rotate": args.rotate},
        "baseline": baseline,
        "matmul": {
            dtype: {"gflop_per_second": runs, "median_gflop_per_second": ceilings[dtype]}
            for dtype, runs in matmul_runs.items()
        },
        "models": record_models,
    }
    _shared.append_record(args.output, record, BENCHMARK)
    print()
    print_table(record)
    print(f"results appended to {args.output}")
    return record


if __name__ == "__main__":
    main()
