"""`dea merge`: join the per-shard summaries of a batch run into one summary.csv, and say what is missing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dea_core.batch import MergeReport, merge_summaries
from dea_core.cli.commands import command_help

DESCRIPTION = """\
Join the summaries that the shards of a batch run (`dea match`, `dea align`, `dea detect` with
--shard K/N) wrote into OUT, summary-shard-K-of-N.csv, into OUT/summary.csv: one row per input,
sorted by path, with its status (ok, skipped: done by an earlier run, failed, pending: its shard
stopped before reaching it), files and numbers. Prints the shards whose summary is missing and the
inputs that failed or were not reached: rerun those shards (done inputs are skipped).
"""

EPILOG = """\
exit status: 0 every shard present and every input done; 1 shards missing, inputs failed or not
reached (summary.csv is still written), or summaries that do not belong together; 2 wrong
command line.

example (after a SLURM array job):
  dea merge found/
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("merge", help=command_help("merge"),
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, metavar="OUT_FOLDER", help="the -o folder of the sharded run")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = merge_summaries(args.folder)
    print_report(report)
    return 0 if report.complete else 1


def print_report(report: MergeReport) -> None:
    """The counts, then what is missing: absent shards, failed inputs, inputs not reached."""
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items())) or "no inputs"
    print(f"{report.command or 'dea'}: {len(report.found)} of {report.count} shards, {counts}; wrote {report.path}")
    if report.missing:
        print(f"missing shards: {', '.join(map(str, report.missing))} of {report.count}", file=sys.stderr)
    for name in report.failed:
        print(f"failed: {name}", file=sys.stderr)
    for name in report.pending:
        print(f"not reached: {name}", file=sys.stderr)
    sys.stderr.flush()
