"""Everything that defines a training run, so a checkpoint can rebuild and resume it.

Each setting's type and range is written down once, here: the command line builds its argparse
types from `RANGES` (a bad value exits with status 2), and `TrainConfig.from_dict` checks a
checkpoint's record against the same table, so a record the program could not have written is
refused before it is used.
"""
import math
from dataclasses import asdict, dataclass, fields

from mnist.models.mlp import ACTIVATIONS, DEFAULT_LAYER_SIZES, check_layer_sizes
from mnist.models.registry import KINDS

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine")
MAX_EPOCHS = 1_000_000


@dataclass(frozen=True)
class Range:
    """Integers, or finite floats, between two bounds: Range(float, 0, 1, high_open=True) is [0, 1)."""

    kind: type
    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float) if self.kind is float else int):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        """How messages say it: 'an integer >= 1', 'a finite number > 0', 'a number in [0, 1)'."""
        low, high = (int(bound) if float(bound).is_integer() else bound for bound in (self.low, self.high))
        if self.high == math.inf:
            noun = "an integer" if self.kind is int else "a finite number"
            return f"{noun} {'>' if self.low_open else '>='} {low}"
        noun = "an integer" if self.kind is int else "a number"
        return f"{noun} in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"


RANGES = {
    "dropout": Range(float, 0, 1, high_open=True),
    "epochs": Range(int, 1, MAX_EPOCHS),
    "batch_size": Range(int, 1),
    "lr": Range(float, 0, low_open=True),
    "momentum": Range(float, 0),
    "weight_decay": Range(float, 0),
    "warmup_epochs": Range(float, 0, MAX_EPOCHS),
    "step_size": Range(int, 1, MAX_EPOCHS),
    "gamma": Range(float, 0, 1, low_open=True),  # a decay factor: above 1 the rate would overflow
    "validation_size": Range(int, 0),
    "shift": Range(int, 0, 8),  # pixels; beyond about a third of the 28-pixel image the digit can leave it
    "seed": Range(int, 0),
    "train_limit": Range(int, 1),
    "test_limit": Range(int, 1),
}
CHOICES = {"model": tuple(KINDS), "activation": tuple(sorted(ACTIVATIONS)), "optimizer": OPTIMIZERS,
           "schedule": SCHEDULES}
OPTIONAL = ("train_limit", "test_limit", "data_dir")  # None means: all images, the vendored MNIST


def run_config(**settings) -> "TrainConfig":
    """The settings of a run that sets `settings` itself: the rest come from its model kind's
    recipe (mnist.models.registry), then from TrainConfig's defaults (the MLP's recipe)."""
    kind = settings.get("model", TrainConfig.model)
    return TrainConfig(**{**(KINDS[kind].recipe if kind in KINDS else {}), **settings})


class SettingError(ValueError):
    """A setting outside its range, of the wrong type, or contradicting another; `setting` is its name."""

    def __init__(self, setting: str, problem: str):
        self.setting, self.problem = setting, problem
        super().__init__(f"{setting}: {problem}")


@dataclass
class TrainConfig:
    model: str = "mlp"  # a kind of mnist.models.registry; the settings below that it uses build it
    layer_sizes: tuple = DEFAULT_LAYER_SIZES
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False  # the CNN's: batch norm after each convolution
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    step_size: int = 5
    gamma: float = 0.1
    validation_size: int = 5000
    standardize: bool = False
    shift: int = 0  # data augmentation: move each training image by up to this many pixels, anew each epoch
    seed: int = 0
    data_dir: str | None = None
    train_limit: int | None = None  # use only the first N training images (quick runs, tests)
    test_limit: int | None = None

    def to_dict(self) -> dict:
        record = asdict(self)
        record["layer_sizes"] = list(self.layer_sizes)
        return record

    @classmethod
    def from_dict(cls, record) -> "TrainConfig":
        """The config a checkpoint's record describes; SettingError names the first setting that
        is missing, unknown, of the wrong type or out of range."""
        if not isinstance(record, dict):
            raise SettingError("config", f"must be a mapping of settings, got {type(record).__name__}")
        names = [field.name for field in fields(cls)]
        for name in record:
            if name not in names:
                raise SettingError(str(name), "unknown setting")
        for name in names:
            if name not in record:
                raise SettingError(name, "missing")
        if not isinstance(record["layer_sizes"], list):
            raise SettingError("layer_sizes", f"must be a list of sizes, got {record['layer_sizes']!r}")
        config = cls(**{**record, "layer_sizes": tuple(record["layer_sizes"])})
        config.check()
        return config

    def check(self) -> None:
        """SettingError for the first setting of the wrong type or out of range, or in conflict."""
        try:
            check_layer_sizes(self.layer_sizes)
        except ValueError as error:
            raise SettingError("layer_sizes", str(error)) from None
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise SettingError(name, f"must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        for name in ("nesterov", "standardize", "batch_norm"):
            if not isinstance(getattr(self, name), bool):
                raise SettingError(name, f"must be true or false, got {getattr(self, name)!r}")
        for name, allowed in RANGES.items():
            value = getattr(self, name)
            if not (value is None and name in OPTIONAL) and value not in allowed:
                raise SettingError(name, f"must be {allowed}, got {value!r}")
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise SettingError("data_dir", f"must be a folder name or null, got {self.data_dir!r}")
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            raise SettingError("nesterov", "Nesterov momentum needs a momentum > 0")
        if self.warmup_epochs > self.epochs:
            raise SettingError("warmup_epochs", f"a warm-up of {self.warmup_epochs:g} epochs is longer than "
                                                f"the run ({self.epochs} epochs)")
