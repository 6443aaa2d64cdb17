"""The `dea` subcommands: which module defines each, and its one-line help.

Kept apart from the modules so that `dea --help` and `dea match` import only the command asked
for: training, detection and alignment import torch, which takes seconds to load.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    help: str


COMMANDS = (
    Command("match", "match_command", "match template boxes of a LabelMe page"),
    Command("align", "align_command", "align scans or ornament crops to a reference"),
    Command("demo", "demo_command", "match the bundled sample page (a 1696 headpiece)"),
    Command("prepare", "detection_commands", "cut boxed LabelMe pages into training crops for the detector"),
    Command("train-detector", "detection_commands", "train the ornament detector on a prepared dataset"),
    Command("detect", "detection_commands", "find ornaments on pages with a trained detector"),
    Command("evaluate", "detection_commands", "measure a detector's average precision"),
    Command("train-dea", "dea_commands", "train the anomaly model (DEA) over a trained detector"),
    Command("score", "dea_commands", "flag changed or unknown vignettes on pages with a trained DEA"),
    Command("merge", "merge_command", "join the shard summaries of a batch run into summary.csv"),
)


def command_help(name: str) -> str:
    """The one-line help of subcommand `name`."""
    return next(c.help for c in COMMANDS if c.name == name)


def add_commands(subparsers: argparse._SubParsersAction, chosen: str | None, *, full: bool = False) -> None:
    """Every subcommand, in COMMANDS order: the module of `chosen` (with `full`, every module)
    defines its own in full; the others get a name and help line only, enough for `dea --help`
    and "invalid choice"."""
    wanted = {c.module for c in COMMANDS if full or c.name == chosen}
    loaded: set[str] = set()
    for command in COMMANDS:
        if command.module not in wanted:
            subparsers.add_parser(command.name, help=command.help, add_help=False)
        elif command.module not in loaded:
            importlib.import_module(f"dea_core.cli.{command.module}").add_parser(subparsers)
            loaded.add(command.module)
