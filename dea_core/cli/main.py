"""`dea`: the engine's command line. Each feature is a subcommand."""

from __future__ import annotations

import argparse
import sys

from dea_core import __version__
from dea_core.cli import (
    align_command,
    dea_commands,
    demo_command,
    detection_commands,
    match_command,
    merge_command,
)
from dea_core.errors import DeaError, MatchCancelled

EXIT_BAD_INPUT = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dea", description="Find, align and check printer's ornaments in early printed books.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    match_command.add_parser(subparsers)
    align_command.add_parser(subparsers)
    demo_command.add_parser(subparsers)
    detection_commands.add_parser(subparsers)
    dea_commands.add_parser(subparsers)
    merge_command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a user-fixable problem is one line on stderr, never a traceback."""
    parser = build_parser()
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
