"""`python -m mnist SUBCOMMAND`: each subcommand lives in its own module under mnist/commands."""
import argparse
import contextlib
import importlib
import os
import sys
from typing import Iterator

from mnist.allocator import keep_freed_memory
from mnist.errors import MnistError, UsageError
from mnist.training.stopping import Interrupted, stop_on_signals

# Each module defines `add_parser(subparsers)` (which sets `func` on its parser) and the function it runs.
COMMAND_MODULES = ["train", "evaluate", "predict", "compare", "graph"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mnist.commands.{name}").add_parser(subparsers)
        subparsers.choices[name].set_defaults(command_parser=subparsers.choices[name])  # for UsageError
    return parser


def main(argv=None) -> int:
    with stop_on_signals(), _outlive_closed_pipes():
        keep_freed_memory()  # temporaries stay mapped between steps (see mnist/allocator.py)
        parser = build_parser()
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
