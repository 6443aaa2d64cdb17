"""A whole alignment job on files: read the reference and sources, align, write every product.

The command line and the RANSAC window both run this. Per source (by its file stem):
`<stem>.aligned.png`, `<stem>.confidence.png`, with `save_mapping` `<stem>.mapping.npy`
(float32 (H, W, 2) on the reference's grid), and with reference labels `<stem>.json` (the shapes
on the source) and `<stem>.aligned.json` (on the aligned picture). For the set: `average.png`,
`difference.png`, `overlay.gif` and `summary.json` / `summary.csv` with each pair's quality or
error. A source that fails is reported there and the others are still done.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from dea_core.alignment.annotations import to_source
from dea_core.alignment.pipeline import (
    AlignOptions,
    CancelCheck,
    PairOutcome,
    ProgressCallback,
    align_batch,
)
from dea_core.alignment.products import (
    average_picture,
    confidence_picture,
    difference_picture,
    overlay_gif,
)
from dea_core.errors import DeaError
from dea_core.io.atomic import atomic_write_bytes, atomic_write_text
from dea_core.io.folders import prepare_folder
from dea_core.io.images import encode_png, image_size, read_image
from dea_core.io.labelme_json import LabelFile, load_label_file, new_label_file, save_label_file

IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
_CSV_FIELDS: Final = ("source", "status", "ssim_before", "ssim_after", "matchable_share", "ink_agreement",
                      "overlap_share", "homographies", "inliers", "seconds", "error")


@dataclass(frozen=True)
class AlignReport:
    """What a job did: one outcome per source, in order, and every file written."""

    reference: Path
    outcomes: tuple[PairOutcome, ...]
    written: tuple[Path, ...]

    @property
    def failures(self) -> list[PairOutcome]:
        return [o for o in self.outcomes if not o.ok]


def folder_inputs(folder: Path) -> tuple[Path, list[Path]]:
    """The pictures of `folder` in name order: the last is the reference (as the original tool did)."""
    if not folder.is_dir():
        raise DeaError(f"{folder}: not a folder")
    pictures = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if len(pictures) < 2:
        raise DeaError(f"{folder}: needs at least two pictures (sources, then the reference last in name order)")
    return pictures[-1], pictures[:-1]


def run_align_job(reference_path: Path, source_paths: Sequence[Path], out_dir: Path,
                  options: AlignOptions = AlignOptions(), *, save_mapping: bool = False,
                  labels_path: Path | None = None, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> AlignReport:
    """Align every source to the reference and write the products into `out_dir` (created if needed)."""
    reference = read_image(reference_path)
    labels = load_label_file(labels_path) if labels_path is not None else None
    prepare_folder(out_dir)
    names = output_names(source_paths)
    written: list[Path] = []
    entries: list[dict[str, Any]] = []

    def on_outcome(outcome: PairOutcome) -> None:
        # Outcomes arrive in source order, so the next one belongs to source number len(entries).
        path = source_paths[len(entries)]
        files = write_pair(outcome, path, out_dir / names[len(entries)], labels, save_mapping)
        written.extend(files)
        entries.append(summary_entry(outcome, path, files))

    outcomes = align_batch(reference, [(str(p), p) for p in source_paths], options, progress=progress,
                           cancel=cancel, on_outcome=on_outcome)
    written.extend(write_set(reference, outcomes, out_dir))
    written.extend(write_summary(reference_path, reference.shape, entries, out_dir))
    return AlignReport(reference_path, tuple(outcomes), tuple(written))


def output_names(paths: Sequence[Path]) -> list[str]:
    """A file-name base per source: its stem, or stem_extension where two sources share a stem."""
    stems = [p.stem for p in paths]
    return [p.stem if stems.count(p.stem) == 1 else f"{p.stem}_{p.suffix.lstrip('.')}" for p in paths]


def write_pair(outcome: PairOutcome, source_path: Path, base: Path, labels: LabelFile | None,
               save_mapping: bool) -> list[Path]:
    """One source's aligned picture, confidence, mapping (if asked) and carried labels."""
    alignment = outcome.alignment
    if alignment is None:
        return []
    files = [_write_png(base.with_name(base.name + ".aligned.png"), alignment.aligned),
             _write_png(base.with_name(base.name + ".confidence.png"), confidence_picture(alignment.confidence,
                                                                                        alignment.observed))]
    if save_mapping:
        files.append(_write_npy(base.with_name(base.name + ".mapping.npy"), alignment.mapping))
    if labels is not None:
        height, width = alignment.mapping.shape[:2]
        source_size = image_size(source_path)
        moved = to_source(labels, alignment.mapping, source_path.resolve(), source_size).label_file
        files.append(save_label_file(moved, base.with_name(base.name + ".json"), overwrite=True))
        on_aligned = new_label_file(files[0].resolve(), width, height, list(labels.shapes))
        files.append(save_label_file(on_aligned, base.with_name(base.name + ".aligned.json"), overwrite=True))
    return files


def write_set(reference: np.ndarray, outcomes: Sequence[PairOutcome], out_dir: Path) -> list[Path]:
    """The products of the whole set: average, difference and the animated overlay."""
    done = [o.alignment for o in outcomes if o.alignment is not None]
    if not done:
        return []
    aligned, inside = [a.aligned for a in done], [a.inside for a in done]
    return [_write_png(out_dir / "average.png", average_picture(reference, aligned, inside)),
            _write_png(out_dir / "difference.png", difference_picture(reference, aligned, inside)),
            _write_bytes(out_dir / "overlay.gif", overlay_gif([reference, *aligned]))]


def summary_entry(outcome: PairOutcome, source: Path, files: list[Path]) -> dict[str, Any]:
    """One source's line of the summary: status, quality and files written."""
    entry: dict[str, Any] = {"source": str(source), "status": "aligned" if outcome.ok else "failed"}
    if outcome.alignment is not None:
        entry.update(outcome.alignment.quality.as_dict())
        entry["seconds"] = round(outcome.alignment.seconds, 2)
        entry["homography"] = [[round(v, 6) for v in row] for row in outcome.alignment.homographies[0].tolist()]
        entry["files"] = [f.name for f in files]
    else:
        entry["error"] = outcome.error
    return entry


def write_summary(reference_path: Path, shape: tuple[int, ...], entries: list[dict[str, Any]],
                   out_dir: Path) -> list[Path]:
    """summary.json and summary.csv for the run."""
    summary = {"reference": str(reference_path), "width": shape[1], "height": shape[0], "pairs": entries}
    json_path = out_dir / "summary.json"
    atomic_write_text(json_path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    text = io.StringIO()
    writer = csv.DictWriter(text, _CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(entries)
    csv_path = out_dir / "summary.csv"
    atomic_write_text(csv_path, text.getvalue())
    return [json_path, csv_path]


def _write_png(path: Path, image: np.ndarray) -> Path:
    atomic_write_bytes(path, encode_png(image))
    return path


def _write_bytes(path: Path, data: bytes) -> Path:
    atomic_write_bytes(path, data)
    return path


def _write_npy(path: Path, array: np.ndarray) -> Path:
    with io.BytesIO() as buffer:
        np.save(buffer, np.ascontiguousarray(array, np.float32))
        return _write_bytes(path, buffer.getvalue())

