"""Run one command over the inputs of one shard: skip those done, record each, go on after a failure.

An input is done when every output file it should have exists: the suite writes files atomically
(a temporary file renamed into place), so a file that exists is complete. `overwrite` redoes them.
The shard's summary is rewritten after each input, with the inputs not reached yet as pending, so
a task killed by the scheduler's time limit still says how far it got.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dea_core.batch.shards import ALL, Shard, shard_inputs
from dea_core.batch.summary import (
    FAILED,
    OK,
    PENDING,
    SKIPPED,
    Metric,
    SummaryRow,
    previous_metrics,
    shard_summary_path,
    write_shard_summary,
)
from dea_core.errors import DeaError
from dea_core.io.folders import prepare_folder
from dea_core.io.output_plan import OutputPlan


@dataclass(frozen=True)
class BatchJob:
    """A command's run over a shard of its inputs, writing into `out_dir`."""

    command: str
    out_dir: Path
    shard: Shard = ALL
    overwrite: bool = False
    inputs: tuple[Path, ...] = ()  # files read for every input (a model): no result may replace them


@dataclass(frozen=True)
class Processed:
    """What processing one input gave: the files written and the command's numbers."""

    outputs: Sequence[Path]
    metrics: Mapping[str, Metric] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchResult:
    """The rows of one shard's run, in input order, and where its summary was written."""

    shard: Shard
    rows: tuple[SummaryRow, ...]
    summary: Path

    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    @property
    def exit_code(self) -> int:
        """1 when any input failed (the others are done), else 0."""
        return 1 if self.count(FAILED) else 0

    def describe(self) -> str:
        """One line for the log, e.g. "shard 2/3: 40 ok, 100 skipped (done before), 1 failed"."""
        return (f"shard {self.shard}: {self.count(OK)} ok, {self.count(SKIPPED)} skipped (done before), "
                f"{self.count(FAILED)} failed; wrote {self.summary}")


ExpectedOutputs = Callable[[Path], Sequence[Path]]
Process = Callable[[Path], Processed]


def is_done(outputs: Sequence[Path]) -> bool:
    """True when there are outputs and every one exists (atomic writes: existing means complete)."""
    return bool(outputs) and all(Path(path).is_file() for path in outputs)


def run_batch(job: BatchJob, inputs: Iterable[Path], expected_outputs: ExpectedOutputs, process: Process,
              on_row: Callable[[SummaryRow], None] | None = None) -> BatchResult:
    """Process the inputs of `job.shard` in order and write `summary-shard-K-of-N.csv` in `job.out_dir`.

    `expected_outputs(input)` lists the files that show an input is done; `process(input)` does it.
    A failure of one input (any exception but an interrupt) becomes a failed row and the next
    input goes on; `on_row` sees each row as soon as it is known (to print it).
    """
    inputs = list(inputs)
    prepare_folder(Path(job.out_dir))
    guard = OutputPlan([*inputs, *job.inputs], overwrite=True)
    selected = shard_inputs(inputs, job.shard)
    earlier = previous_metrics(shard_summary_path(job.out_dir, job.shard))
    rows = [SummaryRow(path, PENDING) for path in selected]
    summary = write_shard_summary(job.out_dir, job.command, job.shard, rows)
    for index, path in enumerate(selected):
        rows[index] = _run_one(path, job.overwrite, expected_outputs, process, earlier.get(path.as_posix(), {}),
                               guard)
        write_shard_summary(job.out_dir, job.command, job.shard, rows)
        if on_row is not None:
            on_row(rows[index])
    return BatchResult(job.shard, tuple(rows), summary)


def _run_one(path: Path, overwrite: bool, expected_outputs: ExpectedOutputs, process: Process,
             earlier: Mapping[str, Metric], guard: OutputPlan) -> SummaryRow:
    try:
        outputs = tuple(expected_outputs(path))
        for output in outputs:
            guard.check_not_input(output)
        if not overwrite and is_done(outputs):
            return SummaryRow(path, SKIPPED, outputs, earlier)
        done = process(path)
        return SummaryRow(path, OK, tuple(done.outputs), done.metrics)
    except Exception as error:  # noqa: BLE001  (one odd page must not stop a shard of thousands)
        return SummaryRow(path, FAILED, error=_message(path, error))


def _message(path: Path, error: Exception) -> str:
    if isinstance(error, DeaError):
        return str(error)
    return f"{path}: unexpected {type(error).__name__}: {error}"
