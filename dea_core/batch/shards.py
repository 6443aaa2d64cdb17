"""Split a job's inputs into N shards, one per task of a cluster array job (`--shard K/N`).

The assignment sorts the inputs by their resolved path, as text compared by code point, and gives
shard K every N-th input starting at the K-th. Why sorting rather than hashing each path: shards
then differ in size by at most one input, and neighbouring pages of a book (often alike in size
and work) are spread over all shards. It depends only on the set of inputs, not on the order the
shell or the file system lists them, nor on the machine's locale; every task of one array job must
therefore be given the same inputs (the same folders or the same glob).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dea_core.batch.errors import BatchError

_SPEC = re.compile(r"\s*(-?\d+)\s*/\s*(-?\d+)\s*")
# SLURM's own array limit is in the tens of thousands; beyond this N is a typing or naming slip.
MAX_SHARDS = 100_000


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`, numbered from 1 as SLURM's `--array=1-N` numbers its tasks."""

    index: int = 1
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1:
            raise BatchError(f"shard {self.index}/{self.count}: N must be at least 1")
        if self.count > MAX_SHARDS:
            raise BatchError(f"shard {self.index}/{self.count}: N may be at most {MAX_SHARDS}")
        if not 1 <= self.index <= self.count:
            raise BatchError(f"shard {self.index}/{self.count}: K must be from 1 to {self.count} "
                             "(shards are numbered from 1: use #SBATCH --array=1-N)")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


ALL = Shard()


def parse_shard(text: str) -> Shard:
    """A Shard from "K/N", e.g. "3/10"; BatchError saying what is wrong otherwise."""
    found = _SPEC.fullmatch(text) if len(text) <= 40 else None
    if found is None:
        raise BatchError(f"shard '{text}': write it K/N, e.g. 3/10 for the third of ten shards")
    return Shard(int(found.group(1)), int(found.group(2)))


def ordered_inputs(paths: Iterable[Path]) -> list[Path]:
    """The resolved inputs without duplicates, in the order shards are dealt from."""
    return sorted({Path(p).resolve() for p in paths}, key=lambda p: p.as_posix())


def shard_inputs(paths: Iterable[Path], shard: Shard) -> list[Path]:
    """The inputs (resolved, ordered) that belong to `shard`."""
    return ordered_inputs(paths)[shard.index - 1::shard.count]


def expand_inputs(paths: Sequence[Path], suffixes: tuple[str, ...], skip_suffixes: tuple[str, ...] = ()) -> list[Path]:
    """Files as given, and for each folder its files ending in `suffixes` but not in `skip_suffixes`.

    Folders spare the shell from listing thousands of pages on the command line. A missing path
    is kept, so that it is reported as a failed input rather than silently dropped.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += [p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(suffixes)
                      and not p.name.lower().endswith(skip_suffixes)]
        else:
            files.append(path)
    if not files:
        raise BatchError(f"{paths[0]}: no input files ending in {', '.join(suffixes)} found")
    return files


def check_distinct_stems(paths: Iterable[Path]) -> None:
    """Refuse inputs whose names (without extension) clash, as their results would share a file name.

    Checked on all inputs, before sharding, so that every shard refuses the same job.
    """
    seen: dict[str, Path] = {}
    for path in ordered_inputs(paths):
        other = seen.setdefault(path.stem, path)
        if other != path:
            raise BatchError(f"{other} and {path}: both would write results named '{path.stem}'; "
                             "run them into separate output folders")
