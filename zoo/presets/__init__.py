"""The registry of zoo's models: every preset a name, its paper, its typed options and its data.

A preset is an untrained recipe: nets + training algorithm + the paper's hyper-parameters.
Each model family registers its presets in a module of this package (`adversarial`,
`autoencoders`, ...), as keras-hub registers presets beside each model; `zoo train NAME`,
`zoo list` and the recipes read them from here.

    preset = zoo.presets.get("dcgan")
    model = preset.build((32, 32, 1), latent_dim=64)   # compiled, ready for fit
    preset.defaults["batch_size"]                       # 128, the paper's
"""

import argparse
import collections
import dataclasses

# What a preset trains on: the data kind's name -> what the data must hold.
DATA_KINDS = {
    "images": "images (labels, if any, are ignored)",
    "labelled_images": "images with class labels (a labelled dataset or class subfolders)",
    "few_labels": "labelled images of which only --labels-per-class per class keep their label; "
    "every image also trains unlabelled",
    "paired": "aligned (source, target) pairs: a folder of side-by-side A|B images (the pix2pix layout), "
    "A_FOLDER:B_FOLDER with the same file names in both, a pix2pix authors' set (facades, maps, ...: downloaded) "
    "or edges2photos (offline: photo crops | their edge maps)",
    "colour_images": "colour images; each becomes a (lightness, ab) pair in Lab",
    "two_domains": "two unpaired domains: digits and the edges or negatives of other digits (--dataset "
    "digits, mnist or mnist_idx:DIR, --transform), or --dataset A_FOLDER --dataset-b B_FOLDER",
    "unpaired": "two unpaired domains: --dataset A_FOLDER --dataset-b B_FOLDER, a folder holding trainA and "
    "trainB (the CycleGAN authors' layout), or a tfds cycle_gan name (horse2zebra, ...)",
}

# The data kinds in a word or two, for `zoo list`.
DATA_LABELS = {
    "images": "images",
    "labelled_images": "labelled",
    "few_labels": "few labels",
    "paired": "image pairs",
    "colour_images": "colour images",
    "unpaired": "two domains",
    "two_domains": "two domains",
}

# What an export of the model serves.
SERVES = {
    "noise": "noise -> images",
    "noise_and_labels": "noise and class labels -> images",
    "codes": "latent codes -> images (decoder), images -> codes (encoder)",
    "codes_and_labels": "latent codes and class labels -> images",
    "classifier": "images -> class probabilities",
    "noise_pair": "noise -> an image of each domain (two exports, NAME_a and NAME_b, fed the same noise)",
    "translation": "images -> images (fully convolutional: any size divisible by the net's stride)",
}

# Options read by the training driver, not by the model builders.
TRAINING_KEYS = ("batch_size", "epochs")

_TYPES = (bool, int, float, str)


@dataclasses.dataclass(frozen=True)
class Option:
    """One documented hyper-parameter of a preset.

    Args:
        name: the keyword of `Preset.build` (and `--name-with-dashes` on the command line).
        default: the paper's (or the lecture example's) value.
        help: one line for `zoo train NAME --help`.
        type: bool, int, float or str; default: the type of `default` (needed when it is None).
        choices: the allowed values, or None.
        minimum: the smallest allowed number (ints and floats), or None.
        validate: None, or a callable that raises ValueError for a value of the right type
            that the option still cannot take (a malformed list, say).
    """

    name: str
    default: object
    help: str
    type: type = None
    choices: tuple = None
    minimum: float = None
    validate: object = None

    def __post_init__(self):
        kind = self.type or type(self.default)
        if kind not in _TYPES:
            raise TypeError(f"option {self.name}: give type= for a default of {self.default!r}")
        object.__setattr__(self, "type", kind)

    def check(self, value, preset):
        """`value` converted to the option's type; a ValueError names the option and what it takes."""
        where = f"{preset}: {self.name}"
        if value is None:
            if self.default is None:
                return None
            raise ValueError(f"{where} must be a {self.type.__name__}, got None")
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{where} must be True or False, got {value!r}")
        elif self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, self.type) or isinstance(value, bool):
            raise ValueError(f"{where} must be a {self.type.__name__}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be one of {', '.join(map(repr, self.choices))}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{where} must be >= {self.minimum}, got {value!r}")
        if self.validate is not None:
            self.validate(value)
        return value


Phase = collections.namedtuple("Phase", "name model epochs")
Phase.__doc__ = """One stage of a preset's training: its name, its compiled model, its epochs (None: the training's)."""


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named, untrained model configuration.

    Args:
        name: the registry key (`zoo train NAME`).
        description: one line, with the paper.
        build_fn: `(image_shape, hparams) -> compiled model`, or a list of `Phase`s to train
            in order whose last holds the model (a pre-training phase first).
        options: the `Option`s `build` takes, with their defaults.
        data: the kind of data it trains on, a key of `DATA_KINDS`.
        serves: what its export serves, a key of `SERVES`.
        aliases: older names that still find it.
        prepare: None, or `(model, images, hparams) -> None`, run on a sample of the
            training images before training (data-dependent initialisation).
        callbacks: None, or `(hparams, epochs, run_dir) -> list of Keras callbacks` the
            algorithm trains with (a learning-rate schedule, progressive growing).
    """

    name: str
    description: str
    build_fn: object
    options: tuple
    data: str = "images"
    serves: str = "noise"
    aliases: tuple = ()
    prepare: object = None
    callbacks: object = None

    def __post_init__(self):
        if self.data not in DATA_KINDS:
            raise ValueError(f"preset {self.name}: data must be one of {sorted(DATA_KINDS)}, got {self.data!r}")
        if self.serves not in SERVES:
            raise ValueError(f"preset {self.name}: serves must be one of {sorted(SERVES)}, got {self.serves!r}")
        names = [option.name for option in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"preset {self.name}: an option is listed twice in {names}")

    @property
    def conditional(self):
        """True if the model trains on labelled data and needs `num_classes`."""
        return self.data in ("labelled_images", "few_labels")

    @property
    def defaults(self):
        return {option.name: option.default for option in self.options}

    def option(self, name):
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def hparams(self, **overrides):
        """The defaults with `overrides` (checked) in place; None overrides keep the default."""
        overrides = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise ValueError(f"{self.name} has no hyper-parameter(s) {unknown}; known: {sorted(self.defaults)}")
        return {**self.defaults, **{k: self.option(k).check(v, self.name) for k, v in overrides.items()}}

    def build(self, image_shape, num_classes=None, source_channels=None, **overrides):
        """Returns a compiled model for `image_shape`; overrides replace defaults.

        The model is the last of `build_phases`: a preset that pre-trains its nets first (the
        colouriser's L1 phase) returns the model those nets end in, untrained.

        `None` overrides keep the default. `num_classes` (from the data) is required by
        presets that train on labelled images, and ignored by the others. For
        image-to-image presets `image_shape` is the target's (domain B's) and
        `source_channels` the source's (domain A's) channels, default the target's.
        """
        return self.build_phases(image_shape, num_classes, source_channels, **overrides)[-1].model

    def build_phases(self, image_shape, num_classes=None, source_channels=None, **overrides):
        """The phases to train in order, `[Phase(name, compiled model, epochs)]`, for `build`'s arguments.

        Most presets have one phase, `Phase("train", model, None)`; the last phase's epochs are None,
        the training's own (`epochs`). `zoo.training.train_phases` trains them.
        """
        hparams = self.hparams(**overrides)
        if self.conditional:
            if not num_classes:
                raise ValueError(f"{self.name} is class-conditional and needs data with class labels")
            hparams["num_classes"] = num_classes
        if self.data in ("paired", "unpaired", "two_domains"):
            hparams["source_channels"] = source_channels or image_shape[-1]
        built = self.build_fn(tuple(image_shape), hparams)
        return built if isinstance(built, list) else [Phase("train", built, None)]


def int_list(text, name="the value"):
    """`"20,50"` -> `(20, 50)`; a ValueError for anything but comma-separated positive ints."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise ValueError(f"{name} must be comma-separated positive ints such as '20,50', got {text!r}")
    return values


def int_list_option(name, default, help):
    """An option holding comma-separated positive ints (layer widths), checked as such."""
    return Option(name, default, help, validate=lambda text: int_list(text, name))


def training(batch_size, epochs, batch_help="images per step"):
    """The options the training driver reads (`TRAINING_KEYS`), with a preset's defaults."""
    return (
        Option("batch_size", batch_size, batch_help, minimum=1),
        Option("epochs", epochs, "passes over the data", minimum=1),
    )


# WGAN and WGAN-GP presets: `batch_size` is a critic batch, the papers' m.
CRITIC_BATCH = "real images per critic update (the papers' m); a step takes d_steps of these batches"


def images_per_step(batch_size, options):
    """Real images a training step takes: `batch_size`, times `d_steps` where a preset has it.

    A model with `d_steps` critic updates per generator update gives each its own real batch
    (`zoo.models.GAN.real_batches`, the papers' Algorithm 1), so its data is batched by
    `d_steps * batch_size`.

    Args:
        batch_size: int, the preset's `batch_size` (a critic batch where it has `d_steps`).
        options: mapping of the preset's options (hparams), or a namespace with them.
    """
    d_steps = options.get("d_steps", 1) if hasattr(options, "get") else getattr(options, "d_steps", 1)
    return batch_size * d_steps


SEED = Option("seed", None, "seed of the model's noise (None: random; `zoo train` passes --seed)", type=int)


PRESETS = {}
_ALIASES = {}


def register(preset):
    """Adds `preset` to the registry; a name already taken is an error."""
    for name in (preset.name, *preset.aliases):
        if name in PRESETS or name in _ALIASES:
            raise ValueError(f"a preset called {name!r} is already registered")
    PRESETS[preset.name] = preset
    for alias in preset.aliases:
        _ALIASES[alias] = preset.name
    return preset


def get(name):
    """The preset called `name` (or one of its old names); a ValueError lists the known ones."""
    name = _ALIASES.get(name, name)
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


# -- command-line arguments (zoo train NAME, the recipes) ------------------------------


def _add_argument(parser, option):
    """`--name-with-dashes` for a preset `Option`, typed and checked by argparse."""
    flag = "--" + option.name.replace("_", "-")
    default = "none" if option.default is None else option.default
    kwargs = {"dest": option.name, "default": None, "help": f"{option.help} (default: {default})"}
    if option.type is bool:
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
        return
    metavar = option.name.upper()
    if option.choices is not None:
        kwargs["choices"], metavar = option.choices, "{" + ",".join(option.choices) + "}"

    def convert(text):
        try:
            value = option.type(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {option.type.__name__}, got {text!r}") from None
        if option.minimum is not None and value < option.minimum:
            wanted = "a positive integer" if option.type is int and option.minimum == 1 else f"a number >= {option.minimum}"
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        if option.validate is not None:
            try:
                option.validate(value)
            except ValueError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return value

    convert.__name__ = option.type.__name__  # argparse names the type in its messages
    parser.add_argument(flag, type=convert, metavar=metavar, **kwargs)


def add_arguments(parser, preset, skip=("seed",)):
    """Adds `--name` arguments for `preset`'s options (those not in `skip`), typed and checked.

    The defaults are None, which `Preset.build` reads as the paper's value (shown in `--help`);
    `parser.set_defaults` overrides them, as a recipe's smoke settings do. Used by `zoo train
    NAME` and by the recipes, so both take the same options:

    ```python
    preset = zoo.presets.get("stylegan2")
    zoo.presets.add_arguments(parser, preset, skip=("epochs", "seed"))
    args = parser.parse_args()
    model = preset.build(image_shape, **zoo.presets.from_arguments(preset, args))
    ```
    """
    group = parser.add_argument_group(f"{preset.name} options (defaults: the paper's)")
    for option in preset.options:
        if option.name not in skip:
            _add_argument(group, option)


def from_arguments(preset, args, skip=()):
    """`{name: value}` of `preset`'s options parsed into `args` (None: the preset's default)."""
    return {o.name: getattr(args, o.name) for o in preset.options if o.name not in skip and hasattr(args, o.name)}


def add_recipe_arguments(parser, run_dir, steps_per_epoch=None, minutes=True, data_dir=False, precision=True):
    """Adds the options every recipe takes: --steps-per-epoch, --minutes, --data-dir, --precision,
    --run-dir, --base-path, --seed and --smoke (the flags off here are left out)."""
    from zoo.device import PRECISIONS

    parser.add_argument("--steps-per-epoch", type=int, default=steps_per_epoch, help="batches per epoch")
    if minutes:
        parser.add_argument("--minutes", type=float, default=None, help="stop training after this wall time")
    if data_dir:
        parser.add_argument("--data-dir", default=None, help="tfds data_dir (default: tfds' own)")
    if precision:
        parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--run-dir", default=run_dir, help=f"checkpoint, samples and figures (default {run_dir})")
    parser.add_argument("--base-path", default="saved_models", help="export root (default saved_models)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="seconds on a CPU with embedded data")


def power_of_two(text):
    """An argparse type: a power of 2 >= 4 (an image side the style-based and progressive nets take)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 4 or value & (value - 1):
        raise argparse.ArgumentTypeError(f"expected a power of 2 >= 4, got {text!r}")
    return value


def add_face_arguments(parser, resolution):
    """--data (a folder of faces instead of tfds celeb_a) and --resolution, for the face recipes."""
    parser.add_argument("--data", default=None, help="a folder of face images (default: tfds celeb_a)")
    parser.add_argument("--resolution", type=power_of_two, default=resolution,
                        help=f"image side, a power of 2 >= 4 (default {resolution})")


def face_source(args):
    """The face recipes' data: scikit-image's LFW faces with --smoke, else --data or tfds celeb_a."""
    if args.smoke and args.data:
        raise ValueError("--smoke trains on embedded faces: drop --data")
    return "lfw_faces" if args.smoke else args.data or "celeb_a"


def parse_arguments(parser, argv, preset, smoke=None, skip=("seed",), defaults=None):
    """A recipe's arguments with `preset`'s options: `args.options` and `args.hparams` set.

    Adds `preset`'s options (but `skip`) to `parser` and parses `argv`; with `--smoke`, the
    `smoke` values become the defaults (options given on the command line still win);
    `defaults` are the recipe's own defaults for preset options (facades' direction). A
    `--seed` of the recipe is the model's seed too. The training keys parsed here
    (`batch_size`, `epochs`) are set on `args` from the preset's values.

    Returns:
        The namespace, with `options` (the keyword arguments of `preset.build`) and `hparams`
        (every option's value) added.
    """
    add_arguments(parser, preset, skip=skip)
    if defaults:
        parser.set_defaults(**defaults)
    args = parser.parse_args(argv)
    if smoke and getattr(args, "smoke", False):
        parser.set_defaults(**smoke)
        args = parser.parse_args(argv)
    args.options = from_arguments(preset, args)
    if hasattr(args, "seed") and "seed" in preset.defaults:
        args.options["seed"] = args.seed
    args.hparams = preset.hparams(**args.options)
    for key in TRAINING_KEYS:
        if key not in skip and key in preset.defaults:
            setattr(args, key, args.hparams[key])
    return args


# The families register their presets on import.
from zoo.presets import (  # noqa: E402,F401
    adversarial,
    autoencoders,
    coupled,
    image_to_image,
    progressive,
    semi_supervised,
    style,
)
