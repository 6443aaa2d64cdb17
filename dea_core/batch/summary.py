"""One CSV per shard (`summary-shard-K-of-N.csv`), one row per input, and their merge (`summary.csv`).

Rows hold the command, the shard, the input's resolved path, its status (ok, skipped, failed), the
files written (relative to the output folder when inside it, separated by ";"), the error message
of a failure, then the command's numbers, one column each ("matches 1", "ssim_after" ...), in name
order so that a merge of shards and an unsharded run give the same file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from dea_core.batch.errors import BatchError
from dea_core.batch.shards import Shard
from dea_core.io.atomic import atomic_write_text

OK: Final = "ok"
SKIPPED: Final = "skipped"
FAILED: Final = "failed"
PENDING: Final = "pending"  # not reached yet: the shard is running, or was stopped before the end
FIXED_COLUMNS: Final = ("command", "shard", "input", "status", "outputs", "error")
MERGED_NAME: Final = "summary.csv"
_SHARD_FILE = re.compile(r"summary-shard-(\d+)-of-(\d+)\.csv")
_STATUS_RANK: Final = {OK: 0, SKIPPED: 1, FAILED: 2, PENDING: 3}

Metric = str | int | float


@dataclass(frozen=True)
class SummaryRow:
    """What became of one input: its status, the files it has, its numbers or its error."""

    input: Path
    status: str
    outputs: tuple[Path, ...] = ()
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    error: str = ""


def shard_summary_path(out_dir: Path, shard: Shard) -> Path:
    """Where shard K of N writes its summary in `out_dir`."""
    return Path(out_dir) / f"summary-shard-{shard.index}-of-{shard.count}.csv"


def write_shard_summary(out_dir: Path, command: str, shard: Shard, rows: Sequence[SummaryRow]) -> Path:
    """Write (atomically, replacing the previous one) the summary of `shard` into `out_dir`."""
    records = [_record(row, command, shard, Path(out_dir)) for row in rows]
    path = shard_summary_path(out_dir, shard)
    atomic_write_text(path, _csv_text(records))
    return path


def read_summary(path: Path) -> list[dict[str, str]]:
    """The rows of a summary CSV as text, keyed by column name."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not set(FIXED_COLUMNS) <= set(reader.fieldnames):
                raise BatchError(f"{path}: not a shard summary (its first line must name the columns "
                                 f"{', '.join(FIXED_COLUMNS)})")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BatchError(f"{path}: cannot be read as a summary CSV ({error})") from error
    for number, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise BatchError(f"{path}: line {number} has {'more' if None in row else 'fewer'} fields than the "
                             "header; the file was cut or edited: rerun that shard")
        if row["status"] not in _STATUS_RANK:
            raise BatchError(f"{path}: line {number} has the unknown status {row['status'][:40]!r} (expected "
                             f"{', '.join(_STATUS_RANK)}); rerun that shard")
    return rows


def previous_metrics(path: Path) -> dict[str, dict[str, str]]:
    """Numbers of the inputs done in an earlier run of the same shard, so a resumed run keeps them."""
    if not Path(path).is_file():
        return {}
    try:
        rows = read_summary(path)
    except BatchError:
        return {}  # a damaged summary is rewritten by this run; its numbers are lost, the files are not
    return {row["input"]: {key: value for key, value in row.items() if key not in FIXED_COLUMNS and value}
            for row in rows if row["status"] != FAILED}


@dataclass(frozen=True)
class MergeReport:
    """What `merge_summaries` found: the shards present and missing, the inputs failed or not reached."""

    path: Path
    command: str
    count: int
    found: tuple[int, ...]
    missing: tuple[int, ...]
    statuses: dict[str, int]
    failed: tuple[str, ...]
    pending: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not (self.missing or self.failed or self.pending)


def merge_summaries(out_dir: Path) -> MergeReport:
    """Merge the shard summaries of `out_dir` into `summary.csv`, one row per input in input order.

    All shards must come from the same command and the same N; an input found in two shards (the
    inputs changed between runs) keeps its best row: ok, then skipped, failed, pending.
    """
    shards = _shard_files(Path(out_dir))
    count = int(_single((str(shard.count) for shard in shards), "shard counts N"))
    tables = {shard: read_summary(path) for shard, path in shards.items()}
    rows = [row for table in tables.values() for row in table]
    command = _single((row["command"] for row in rows), "commands") if rows else ""
    best: dict[str, dict[str, str]] = {}
    for row in rows:
        kept = best.get(row["input"])
        if kept is None or _STATUS_RANK.get(row["status"], 4) < _STATUS_RANK.get(kept["status"], 4):
            best[row["input"]] = row
    merged = [best[name] for name in sorted(best)]
    path = Path(out_dir) / MERGED_NAME
    atomic_write_text(path, _csv_text(merged))
    statuses: dict[str, int] = {}
    for row in merged:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    found = sorted(shard.index for shard in shards)
    return MergeReport(path, command, count, tuple(found), tuple(k for k in range(1, count + 1) if k not in found),
                       statuses, _inputs_with(merged, FAILED), _inputs_with(merged, PENDING))


def _inputs_with(rows: Sequence[Mapping[str, str]], status: str) -> tuple[str, ...]:
    return tuple(row["input"] for row in rows if row["status"] == status)


def _shard_files(out_dir: Path) -> dict[Shard, Path]:
    if not out_dir.is_dir():
        raise BatchError(f"{out_dir}: not a folder")
    files = {}
    for path in out_dir.iterdir():
        found = _SHARD_FILE.fullmatch(path.name)
        if found is not None:
            try:
                files[Shard(int(found.group(1)), int(found.group(2)))] = path
            except (BatchError, ValueError) as error:
                raise BatchError(f"{path}: not a summary of ours ({error})") from None
    if not files:
        raise BatchError(f"{out_dir}: no shard summaries (summary-shard-K-of-N.csv) to merge")
    return files


def _single(items: Iterable[str], what: str) -> str:
    values = sorted(set(items))
    if len(values) > 1:
        raise BatchError(f"the summaries mix {what} ({', '.join(values)}): keep one run's summaries in the "
                         "folder, or merge each run in its own folder")
    return values[0]


def _record(row: SummaryRow, command: str, shard: Shard, out_dir: Path) -> dict[str, Metric]:
    record: dict[str, Metric] = {"command": command, "shard": str(shard), "input": row.input.as_posix(),
                                 "status": row.status, "error": row.error,
                                 "outputs": ";".join(_relative(p, out_dir) for p in row.outputs)}
    record.update(row.metrics)
    return record


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def _csv_text(records: Sequence[Mapping[str, Metric]]) -> str:
    numbers = sorted({key for record in records for key in record} - set(FIXED_COLUMNS))
    text = io.StringIO()
    writer = csv.DictWriter(text, [*FIXED_COLUMNS, *numbers], lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return text.getvalue()
