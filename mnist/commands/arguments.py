"""argparse types that reject bad values with a message naming the value (exit status 2)."""
import argparse
import math
from pathlib import Path

from mnist.data import IMAGE_SHAPE, NUM_CLASSES


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except None: the help text says what happens then."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def _number(kind, text, test, requirement):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
    if not test(value):
        raise argparse.ArgumentTypeError(f"{text!r}: must be {requirement}")
    return value


def positive_int(text: str) -> int:
    return _number(int, text, lambda v: v >= 1, "an integer >= 1")


def non_negative_int(text: str) -> int:
    return _number(int, text, lambda v: v >= 0, "an integer >= 0")


def positive_float(text: str) -> float:
    return _number(float, text, lambda v: 0 < v < float("inf"), "a finite number > 0")


def non_negative_float(text: str) -> float:
    return _number(float, text, lambda v: 0 <= v < float("inf"), "a finite number >= 0")


def probability(text: str) -> float:
    return _number(float, text, lambda v: 0 <= v < 1, "a probability in [0, 1)")


def output_folder(text: str) -> Path:
    """A folder that exists or can be created: neither it nor a folder above it is a file."""
    path = Path(text)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: {str(existing)!r} exists and is not a folder")
    return path


def existing_folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return path


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return path


class LayerSizes(argparse.Action):
    """`--layers N [N ...]`: the pixel count first and the class count last, as a tuple."""

    def __call__(self, parser, namespace, values, option_string=None):
        pixels = math.prod(IMAGE_SHAPE)
        if len(values) < 2 or values[0] != pixels or values[-1] != NUM_CLASSES:
            raise argparse.ArgumentError(self, f"must start with {pixels} (pixels) and end with {NUM_CLASSES} "
                                               f"(classes), got {' '.join(map(str, values))}")
        setattr(namespace, self.dest, tuple(values))
