"""argparse types that reject bad values with a message naming the value (exit status 2)."""
import argparse
import math
from pathlib import Path

from mnist.data.dataset import IMAGE_SHAPE, NUM_CLASSES
from mnist.models.mlp import check_layer_sizes
from mnist.training.config import RANGES, Range


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default as a user would write it: "(default: 784 256 128 10)" for a
    list, "(default: off)" for a switch. A default of None is not shown: the help text says what
    happens then. Descriptions keep their line breaks."""

    def _get_help_string(self, action):
        default = action.default
        if default is None or default is argparse.SUPPRESS or action.help is None or "(default" in action.help:
            return action.help
        if isinstance(default, bool):
            shown = "on" if default else "off"
        elif isinstance(default, (tuple, list)):
            shown = " ".join(map(str, default))
        else:
            shown = str(default)
        return f"{action.help} (default: {shown})"


def number(allowed: Range):
    """An argparse type for the numbers in `allowed`; anything else is refused with exit status 2,
    e.g. `argument --lr: '0': must be a finite number > 0`."""
    def parse(text: str):
        try:
            value = allowed.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {allowed.kind.__name__}") from None
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"{text!r}: must be {allowed}")
        return value
    return parse


def setting(name: str):
    """The argparse type of a training setting: the range the checkpoint's record is held to."""
    return number(RANGES[name])


positive_int = number(Range(int, 1))
non_negative_int = number(Range(int, 0))
positive_float = number(Range(float, 0, low_open=True))


def output_folder(text: str) -> Path:
    """A folder that exists or can be created: neither it nor a folder above it is a file or a
    broken symbolic link."""
    path = Path(text)
    existing = next(p for p in (path, *path.parents) if p.exists() or p.is_symlink())
    if not existing.exists():
        raise argparse.ArgumentTypeError(f"{text!r}: {str(existing)!r} is a broken symbolic link")
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: {str(existing)!r} exists and is not a folder")
    return path


def output_file(text: str) -> Path:
    """A file to write whose folder exists or can be created (the command creates it)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder")
    output_folder(str(path.parent))
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
    """`--layers N [N ...]`: the pixel count first and the class count last (unless `mnist_ends`
    is False), within the model's bounds on depth and parameter count; stored as a tuple."""

    mnist_ends = True

    def __call__(self, parser, namespace, values, option_string=None):
        pixels = math.prod(IMAGE_SHAPE)
        if self.mnist_ends and (len(values) < 2 or values[0] != pixels or values[-1] != NUM_CLASSES):
            raise argparse.ArgumentError(self, f"must start with {pixels} (pixels) and end with {NUM_CLASSES} "
                                               f"(classes), got {' '.join(map(str, values))}")
        try:
            check_layer_sizes(values)
        except ValueError as error:
            raise argparse.ArgumentError(self, str(error)) from None
        setattr(namespace, self.dest, tuple(values))
