"""What a checkpoint's run record must hold, checked before any of the checkpoint's arrays is read.

The record is the JSON that Trainer.save writes next to the arrays: the model's and the run's
settings, the progress with its history, the dropout generator's state, the standardizer, the
class names and the optimizer's hyperparameters. `expected_arrays(record)` checks every field
against the settings' own types and ranges and returns each array the record implies with its
shape and dtype, so a reader can refuse an array by its header, before reading its data. A
problem is a RecordError naming the field (`config.lr`, `progress.history[3].val_loss`).
"""
import math
from dataclasses import dataclass, field, fields

import numpy as np

from mnist.models.registry import model_kind, model_record
from mnist.report.history import COLUMNS
from mnist.training.config import Range, SettingError, TrainConfig
from mnist.training.optimizers import build_optimizer
from tinygrad_np import Tensor

PARAMETER_DTYPE = np.dtype(np.float32)
KEYS = ("format_version", "optimizer", "model", "config", "progress", "dropout_rng", "standardizer",
        "class_names")


@dataclass
class Progress:
    """Where the run stands, saved in every checkpoint."""
    epoch: int = 0            # epochs completed
    batch: int = 0            # batches completed inside the current epoch
    step: int = 0             # optimizer steps overall
    loss_sum: float = 0.0     # running sums over the current epoch's batches
    correct: int = 0
    seen: int = 0
    train_seconds: float = 0.0
    history: list = field(default_factory=list)


COUNT, AMOUNT, FRACTION = Range(int, 0), Range(float, 0), Range(float, 0, 1)
PROGRESS_RANGES = {"epoch": COUNT, "batch": COUNT, "step": COUNT, "loss_sum": AMOUNT, "correct": COUNT,
                   "seen": COUNT, "train_seconds": AMOUNT}
HISTORY_RANGES = {"lr": AMOUNT, "train_loss": AMOUNT, "train_accuracy": FRACTION, "val_loss": AMOUNT,
                  "val_accuracy": FRACTION, "train_seconds": AMOUNT}
VALIDATION_COLUMNS = ("val_loss", "val_accuracy")  # None when the run held no images out
STANDARDIZER_RANGES = {"mean": FRACTION, "std": Range(float, 0, 1, low_open=True)}  # of pixels in [0, 1]
# The dropout generator's state, as NumPy's PCG64 (what default_rng makes) gives and takes it.
GENERATOR_KEYS = ("bit_generator", "state", "has_uint32", "uinteger")
GENERATOR_RANGES = {"has_uint32": Range(int, 0, 1), "uinteger": Range(int, 0, 2**32 - 1)}
PCG64_RANGES = {"state": Range(int, 0, 2**128 - 1), "inc": Range(int, 0, 2**128 - 1)}


class RecordError(ValueError):
    """A field of the record is missing, unknown, of the wrong type or out of range."""

    def __init__(self, field_name: str, problem: str):
        self.field = field_name
        super().__init__(f"{field_name}: {problem}")


def expected_arrays(record) -> dict:
    """{entry name: (shape, dtype)} of every array the record refers to, after checking the record."""
    _check_keys(record, KEYS, "record")
    try:
        config = TrainConfig.from_dict(record["config"])
    except SettingError as error:
        raise RecordError(f"config.{error.setting}", error.problem) from None
    model = model_record(config)
    if record["model"] != model:
        raise RecordError("model", f"must be the model the settings describe, {model}, got {_shown(record['model'])}")
    kind = model_kind(config.model)
    _check_class_names(record["class_names"], kind.num_classes(model["settings"]))
    _check_optional("standardizer", record["standardizer"], config.standardize)
    if record["standardizer"] is not None:
        _check_numbers(record["standardizer"], STANDARDIZER_RANGES, "standardizer")
    _check_optional("dropout_rng", record["dropout_rng"], config.dropout > 0)
    if record["dropout_rng"] is not None:
        _check_generator_state(record["dropout_rng"])
    _check_progress(record["progress"], config)
    shapes = kind.parameter_shapes(model["settings"])
    arrays = {f"param/{name}": (shape, PARAMETER_DTYPE) for name, shape in shapes.items()}
    arrays.update({f"param/{name}": spec for name, spec in kind.buffer_shapes(model["settings"]).items()})
    arrays.update(_optimizer_arrays(record["optimizer"], config, list(shapes.values())))
    return arrays


def _check_keys(value, keys, name: str) -> None:
    if not isinstance(value, dict):
        raise RecordError(name, f"must be a mapping, got {_shown(value)}")
    for key in keys:
        if key not in value:
            raise RecordError(f"{name}.{key}", "missing")
    for key in value:
        if key not in keys:
            raise RecordError(f"{name}.{key}", "unknown field")


def _check_numbers(values: dict, ranges: dict, name: str, optional=()) -> None:
    _check_keys(values, ranges, name)
    for key, allowed in ranges.items():
        if not (values[key] is None and key in optional) and values[key] not in allowed:
            raise RecordError(f"{name}.{key}", f"must be {allowed}, got {_shown(values[key])}")


def _check_optional(name: str, value, present: bool) -> None:
    """A mapping where the settings call for one (dropout, --standardize), null elsewhere."""
    if present and not isinstance(value, dict):
        raise RecordError(name, f"must be a mapping for these settings, got {_shown(value)}")
    if not present and value is not None:
        raise RecordError(name, f"must be null for these settings, got {_shown(value)}")


def _check_generator_state(state: dict) -> None:
    _check_keys(state, GENERATOR_KEYS, "dropout_rng")
    if state["bit_generator"] != "PCG64":
        raise RecordError("dropout_rng.bit_generator", f"must be 'PCG64', got {_shown(state['bit_generator'])}")
    _check_numbers(state["state"], PCG64_RANGES, "dropout_rng.state")
    _check_numbers({key: state[key] for key in GENERATOR_RANGES}, GENERATOR_RANGES, "dropout_rng")


def _check_class_names(names, count: int) -> None:
    if not isinstance(names, list) or len(names) != count or not all(isinstance(n, str) and n for n in names):
        raise RecordError("class_names", f"must be {count} names, one per output, got {_shown(names)}")


def _check_progress(progress, config: TrainConfig) -> None:
    _check_keys(progress, [f.name for f in fields(Progress)], "progress")
    _check_numbers({key: progress[key] for key in PROGRESS_RANGES}, PROGRESS_RANGES, "progress")
    if progress["epoch"] > config.epochs:
        raise RecordError("progress.epoch", f"{progress['epoch']} epochs done of a run of {config.epochs}")
    if progress["correct"] > progress["seen"]:
        raise RecordError("progress.correct", f"{progress['correct']} correct of {progress['seen']} seen")
    history = progress["history"]
    if not isinstance(history, list) or len(history) != progress["epoch"]:
        raise RecordError("progress.history", f"must be a list of {progress['epoch']} epochs, got {_shown(history)}")
    for number, row in enumerate(history, start=1):
        name = f"progress.history[{number - 1}]"
        _check_keys(row, COLUMNS, name)
        if row["epoch"] != number or isinstance(row["epoch"], bool):
            raise RecordError(f"{name}.epoch", f"must be {number}, got {_shown(row['epoch'])}")
        _check_numbers({key: row[key] for key in HISTORY_RANGES}, HISTORY_RANGES, name, optional=VALIDATION_COLUMNS)


def _optimizer_arrays(state, config: TrainConfig, shapes: list) -> dict:
    """The optimizer's buffers as arrays, each of its parameter's shape. What to expect comes from
    the optimizer these settings build, on one-element stand-ins for the parameters: its keys,
    its hyperparameters (which the settings fix), which entries are buffers and their dtype."""
    stand_ins = [Tensor(np.zeros(1, PARAMETER_DTYPE), requires_grad=True) for _ in shapes]
    expected = build_optimizer(config, stand_ins).state_dict()
    _check_keys(state, expected, "optimizer")
    arrays = {}
    for key, value in expected.items():
        name, given = f"optimizer.{key}", state[key]
        if isinstance(value, np.ndarray):  # key 'state.{parameter index}.{buffer}'
            if given != {"__array__": f"optim/{key}"}:
                raise RecordError(name, f"must refer to the array optim/{key}, got {_shown(given)}")
            arrays[f"optim/{key}"] = (shapes[int(key.split(".")[1])], value.dtype)
        elif key == "lr" or key.endswith(".step"):  # the only values a run changes
            allowed = AMOUNT if key == "lr" else COUNT
            if given not in allowed:
                raise RecordError(name, f"must be {allowed}, got {_shown(given)}")
        elif not _same(given, value):
            raise RecordError(name, f"must be {value!r} for these settings, got {_shown(given)}")
    return arrays


def _same(given, expected) -> bool:
    """JSON `given` holds `expected` (a number, a bool, or a tuple of them as a list)."""
    if isinstance(expected, tuple):
        return (isinstance(given, list) and len(given) == len(expected)
                and all(_same(g, e) for g, e in zip(given, expected, strict=True)))
    return (type(given) in (bool, int, float) and isinstance(given, bool) == isinstance(expected, bool)
            and given == expected and not (isinstance(given, float) and math.isnan(given)))


def _shown(value) -> str:
    """A value for a message, cut short: a record may hold anything, of any length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
