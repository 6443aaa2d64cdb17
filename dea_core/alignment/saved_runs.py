"""Alignments kept in memory, written as a job's output folder; and such a folder read back.

The RANSAC window aligns first and saves when asked (a cancelled batch keeps what was done), so it
writes outcomes it already holds: the same files, names and summary as `run_align_job`, by the same
helpers. `read_run` opens a folder written either way, to look at its results again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from dea_core.alignment.annotations import to_source
from dea_core.alignment.job import (
    AlignReport,
    output_names,
    summary_entry,
    write_pair,
    write_set,
    write_summary,
)
from dea_core.alignment.mapping import inside_source
from dea_core.alignment.pipeline import PairOutcome
from dea_core.alignment.products import observed_from_picture
from dea_core.alignment.quality import AlignmentQuality
from dea_core.errors import DeaError
from dea_core.io.folders import prepare_folder
from dea_core.io.images import image_size, read_image
from dea_core.io.labelme_json import LabelFile, new_label_file, save_label_file

SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class SavedAlignment:
    """One aligned source read back; arrays on the reference's grid as in PairAlignment.

    aligned (H, W, 3) uint8, confidence (H, W) float32, inside (H, W) bool, mapping (H, W, 2) float32
    or None when the run was saved without mappings (then `inside` is where confidence > 0);
    observed (H, W) float32, 1 where the fine stage measured the mapping, 0 where it interpolated it.
    """

    aligned: np.ndarray
    confidence: np.ndarray
    inside: np.ndarray
    mapping: np.ndarray | None
    observed: np.ndarray


@dataclass(frozen=True)
class SavedPair:
    """One source of a saved run: its quality or its error, and its files in the run folder."""

    source: Path
    quality: AlignmentQuality | None
    error: str | None
    seconds: float | None
    aligned: Path | None
    confidence: Path | None
    mapping: Path | None

    @property
    def ok(self) -> bool:
        return self.quality is not None and self.aligned is not None

    def load(self) -> SavedAlignment:
        """The arrays of this pair; raises DeaError when a file is missing or unreadable."""
        if self.aligned is None or self.confidence is None:
            raise DeaError(f"{self.source.name}: this source was not aligned in the saved run")
        aligned = read_image(self.aligned)
        confidence_image = read_image(self.confidence)
        confidence = confidence_image[..., 1].astype(np.float32) / 255
        mapping = None
        if self.mapping is not None:
            try:
                mapping = np.load(self.mapping)
            except (OSError, ValueError) as error:
                raise DeaError(f"{self.mapping}: cannot read the mapping ({error})") from error
            if mapping.shape != (*aligned.shape[:2], 2):
                raise DeaError(f"{self.mapping}: mapping of shape {mapping.shape} does not fit "
                               f"the aligned picture ({aligned.shape[1]}x{aligned.shape[0]})")
        inside = confidence > 0
        if mapping is not None:
            try:
                width, height = image_size(self.source)
            except DeaError:  # the source was moved since: the confidence still marks its footprint
                pass
            else:
                inside = inside_source(mapping, height, width)
        return SavedAlignment(aligned, confidence, inside, mapping, observed_from_picture(confidence_image))


@dataclass(frozen=True)
class SavedRun:
    """A run folder: its reference picture and one SavedPair per source, in the order aligned."""

    folder: Path
    reference: Path
    pairs: tuple[SavedPair, ...]


def write_run(reference_path: Path, reference: np.ndarray, source_paths: Sequence[Path],
              outcomes: Sequence[PairOutcome | None], out_dir: Path, *, save_mapping: bool = False,
              progress: Callable[[int, int], None] | None = None) -> AlignReport:
    """Write what `run_align_job` writes, from outcomes already computed (None: not aligned, skipped).

    `outcomes[i]` belongs to `source_paths[i]`; sources without an outcome (a cancelled batch) are
    left out of every file. `progress(done, total)` is called after each source and after the set's
    pictures (a window shows it).
    """
    if len(outcomes) != len(source_paths):
        raise ValueError("one outcome (or None) per source path")
    prepare_folder(out_dir)
    kept = [(path, outcome) for path, outcome in zip(source_paths, outcomes) if outcome is not None]
    names = output_names([path for path, _ in kept])
    written: list[Path] = []
    entries = []
    steps = len(kept) + 1
    for done, ((path, outcome), name) in enumerate(zip(kept, names), start=1):
        files = write_pair(outcome, path, out_dir / name, None, save_mapping)
        written.extend(files)
        entries.append(summary_entry(outcome, path, files))
        if progress is not None:
            progress(done, steps)
    written.extend(write_set(reference, [outcome for _, outcome in kept], out_dir))
    written.extend(write_summary(reference_path, reference.shape, entries, out_dir))
    if progress is not None:
        progress(steps, steps)
    return AlignReport(reference_path, tuple(outcome for _, outcome in kept), tuple(written))


def read_run(folder: Path) -> SavedRun:
    """The run saved in `folder` (its summary.json); raises DeaError when it is not a run folder."""
    summary_path = folder / SUMMARY_NAME
    if not summary_path.is_file():
        raise DeaError(f"{folder}: no {SUMMARY_NAME} here; choose a folder written by 'Save Results' or 'dea align'")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        reference = Path(summary["reference"])
        raw_pairs = list(summary["pairs"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DeaError(f"{summary_path}: not a readable alignment summary ({error})") from error
    pairs = tuple(_saved_pair(folder, entry, summary_path) for entry in raw_pairs)
    return SavedRun(folder, reference, pairs)


def transfer_labels(labels: LabelFile, sources: Sequence[tuple[Path, np.ndarray]], out_dir: Path) -> list[Path]:
    """Write the reference's shapes onto each (source path, mapping): `<stem>.json` on the source picture
    and, where `<stem>.aligned.png` is in `out_dir`, `<stem>.aligned.json` on the aligned picture.

    Returns the files written, the source-side JSON files first in source order.
    """
    prepare_folder(out_dir)
    names = output_names([path for path, _ in sources])
    on_sources, on_aligned = [], []
    for (path, mapping), name in zip(sources, names):
        moved = to_source(labels, mapping, path.resolve(), image_size(path)).label_file
        on_sources.append(save_label_file(moved, out_dir / f"{name}.json", overwrite=True))
        aligned_png = out_dir / f"{name}.aligned.png"
        if aligned_png.is_file():
            height, width = mapping.shape[:2]
            flat = new_label_file(aligned_png.resolve(), width, height, list(labels.shapes))
            on_aligned.append(save_label_file(flat, out_dir / f"{name}.aligned.json", overwrite=True))
    return on_sources + on_aligned


def _saved_pair(folder: Path, entry: dict, summary_path: Path) -> SavedPair:
    try:
        source = Path(entry["source"])
        files = {Path(name).name for name in entry.get("files", [])}
        quality = None
        if entry.get("status") == "aligned":
            quality = AlignmentQuality(**{f.name: entry[f.name] for f in fields(AlignmentQuality) if f.name in entry})
    except (KeyError, TypeError) as error:
        raise DeaError(f"{summary_path}: a pair's entry is incomplete ({error})") from error

    def named(suffix: str) -> Path | None:
        found = [name for name in files if name.endswith(suffix)]
        return folder / found[0] if found else None

    return SavedPair(source=source, quality=quality, error=entry.get("error"), seconds=entry.get("seconds"),
                     aligned=named(".aligned.png"), confidence=named(".confidence.png"), mapping=named(".mapping.npy"))

