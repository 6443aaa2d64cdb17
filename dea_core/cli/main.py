"""`dea`: the engine's command line. Each feature is a subcommand."""

from __future__ import annotations

import argparse
import sys

from dea_core import __version__
from dea_core.cli.commands import add_commands
from dea_core.errors import DeaError, MatchCancelled

EXIT_BAD_INPUT = 1
EXIT_INTERRUPTED = 130


def build_parser(argv: list[str] | None = None, *, full: bool = False) -> argparse.ArgumentParser:
    """The command line; only the subcommand named in `argv` (if any) is defined in full, or with
    `full` every one (slow: training and alignment import torch)."""
    parser = argparse.ArgumentParser(
        prog="dea", description="Find, align and check printer's ornaments in early printed books.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    add_commands(subparsers, chosen_command(sys.argv[1:] if argv is None else argv), full=full)
    return parser


def chosen_command(argv: list[str]) -> str | None:
    """The subcommand named: the first word that is not an option (`dea` itself takes no values)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a user-fixable problem is one line on stderr, never a traceback."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    except MatchCancelled as error:
        print(f"dea: {error}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("dea: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DeaError as error:
        print(f"dea: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
