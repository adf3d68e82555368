"""`python -m mnist SUBCOMMAND`: each subcommand lives in its own module under mnist/commands."""
import argparse
import importlib
import sys

from mnist.errors import MnistError

# Each module defines `add_parser(subparsers)` (which sets `func` on its parser) and the function it runs.
COMMAND_MODULES = ["train", "evaluate", "predict", "compare", "graph"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mnist.commands.{name}").add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except MnistError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # outside training (loading data, writing the report): nothing to save
        print("\ninterrupted", file=sys.stderr)
        return 130
