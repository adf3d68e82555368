"""The command line: `python -m mnist SUBCOMMAND`, or `tinygrad-mnist SUBCOMMAND` once installed.
Each subcommand lives in its own module under mnist/commands."""
import argparse
import contextlib
import importlib
import os
import sys
from typing import Iterator

from mnist.errors import MnistError, UsageError
from mnist.training.stopping import Interrupted, stop_on_signals
from tinygrad_np import __version__, memory

# Each module defines `add_parser(subparsers)` (which sets `func` on its parser) and the function it runs.
COMMAND_MODULES = ["train", "evaluate", "predict", "compare", "graph"]
DESCRIPTION = """\
Handwritten-digit classifiers built on tinygrad_np, a small autograd library in NumPy: train one
on MNIST (shipped with the program) or any MNIST-format dataset such as Fashion-MNIST, evaluate
it, classify your own images, check autograd's gradients against backprop derived by hand, and
draw the computation graph of a training step."""


def build_parser(prog: str = "python -m mnist") -> argparse.ArgumentParser:
    """The parser; `prog` is how usage lines and help name the program."""
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION,
                                     epilog="Run '%(prog)s SUBCOMMAND --help' for the options of a subcommand.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mnist.commands.{name}").add_parser(subparsers)
        subparsers.choices[name].set_defaults(command_parser=subparsers.choices[name])  # for UsageError
    return parser


def main(argv=None, prog: str = "python -m mnist") -> int:
    memory.keep_freed_memory()  # a CNN step otherwise faults its temporaries in again: 1.7x slower
    with stop_on_signals(), _outlive_closed_pipes():
        parser = build_parser(prog)
        args = parser.parse_args(argv)
        try:
            return args.func(args) or 0
        except UsageError as error:  # arguments that do not go together: reported as argparse reports its own
            args.command_parser.print_usage(sys.stderr)
            print(f"{args.command_parser.prog}: error: {error}", file=sys.stderr)
            return 2
        except MnistError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except MemoryError as error:  # settings within every bound can still ask for more than there is
            print(f"error: out of memory: {error}", file=sys.stderr)
            return 1
        except Interrupted as stop:  # outside training (loading data, writing a report): nothing to save
            print(f"\n{stop}", file=sys.stderr)
            return stop.exit_code


def console_script() -> int:
    """The `tinygrad-mnist` command that `pip install` creates: help and errors name it as typed."""
    return main(prog=os.path.basename(sys.argv[0]))


class _OutlivesClosedPipe:
    """stdout or stderr whose reader may go away (`python -m mnist train | head -1`): the
    command goes on, and what it writes after that goes to /dev/null instead of raising."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard_from_now_on()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard_from_now_on()

    def _discard_from_now_on(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())  # what is still buffered goes there too
        os.close(devnull)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _outlive_closed_pipes() -> Iterator[None]:
    streams = sys.stdout, sys.stderr
    wrappers = sys.stdout, sys.stderr = tuple(_OutlivesClosedPipe(stream) for stream in streams)
    try:
        yield
    finally:
        for wrapper in wrappers:
            wrapper.flush()  # now, while a closed pipe is still handled, not at interpreter exit
        sys.stdout, sys.stderr = streams
