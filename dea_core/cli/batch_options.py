"""The options and messages every batch command shares (`--shard K/N`, `--overwrite`), defined once.

A command over many inputs adds them with `add_batch_arguments(parser)`, builds its job with
`batch_job(command, out_dir, args)`, runs it with dea_core.batch.run_batch(..., on_row=print_row)
and returns `finish(result)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dea_core.batch import ALL, FAILED, BatchError, BatchJob, BatchResult, Shard, SummaryRow, parse_shard

SHARD_HELP = """\
do only shard K of N of the inputs (K from 1 to N), e.g. in a SLURM array job
--shard ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}; each shard writes
OUT/summary-shard-K-of-N.csv, and `dea merge OUT` joins them (default: all inputs, as 1/1)"""


def shard_argument(text: str) -> Shard:
    """argparse type for K/N: a wrong one is a command-line error (exit 2) with the reason."""
    try:
        return parse_shard(text)
    except BatchError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --shard K/N and --overwrite to a command that runs over many inputs."""
    parser.add_argument("--shard", type=shard_argument, metavar="K/N", help=SHARD_HELP)
    parser.add_argument("--overwrite", action="store_true",
                        help="redo inputs whose results exist, replacing them (default: skip them, so that a "
                             "rerun resumes where the last one stopped)")


def batch_job(command: str, out_dir: Path, args: argparse.Namespace, inputs: tuple[Path, ...] = ()) -> BatchJob:
    """The job of a command from its parsed --shard and --overwrite; `inputs`: files read for every input."""
    return BatchJob(command, out_dir, args.shard or ALL, args.overwrite, inputs)


def print_row(row: SummaryRow) -> None:
    """A failed input gets its line on stderr, as soon as it is known (cluster logs show it)."""
    if row.status == FAILED:
        print(f"dea: failed: {row.error}", file=sys.stderr, flush=True)


def finish(result: BatchResult) -> int:
    """Print the shard's counts; exit status 1 when an input failed, else 0."""
    print(result.describe(), flush=True)
    return result.exit_code
