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
from dea_core.io.folders import prepare_folder
from dea_core.io.images import encode_png, image_size, read_image
from dea_core.io.labelme_json import LabelFile, label_file_text, load_label_file, new_label_file
from dea_core.io.output_plan import OutputPlan

IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
# What a run writes per source and for the set: never taken for scans when the folder is read again.
PAIR_SUFFIXES: Final = (".aligned.png", ".confidence.png")
SET_PICTURES: Final = ("average.png", "difference.png")
SET_FILES: Final = (*SET_PICTURES, "overlay.gif", "summary.json", "summary.csv")
_CSV_FIELDS: Final = ("source", "status", "ssim_before", "ssim_after", "matchable_share", "ink_agreement",
                      "overlap_share", "homographies", "inliers", "dense_coarse", "seconds", "error")


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
    # A folder that holds a run's summary.json also holds its set pictures: results, not scans.
    results = SET_PICTURES if (folder / "summary.json").is_file() else ()
    pictures = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                      and not p.name.lower().endswith(PAIR_SUFFIXES) and p.name not in results)
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
    if labels is not None:
        check_labels_fit(labels, reference.shape, reference_path)
    names = output_names(source_paths)
    inputs = [reference_path, *source_paths, *([labels_path] if labels_path is not None else [])]
    check_outputs(out_dir, names, inputs, save_mapping, labels is not None)
    prepare_folder(out_dir)
    written: list[Path] = []
    entries: list[dict[str, Any]] = []

    def on_outcome(outcome: PairOutcome) -> None:
        # Outcomes arrive in source order, so the next one belongs to source number len(entries).
        path = source_paths[len(entries)]
        files = write_pair(outcome, path, out_dir / names[len(entries)], labels, save_mapping, inputs=inputs)
        written.extend(files)
        entries.append(summary_entry(outcome, path, files))

    outcomes = align_batch(reference, [(str(p), p) for p in source_paths], options, progress=progress,
                           cancel=cancel, on_outcome=on_outcome)
    written.extend(write_set(reference, outcomes, out_dir, inputs=inputs))
    written.extend(write_summary(reference_path, reference.shape, entries, out_dir, inputs=inputs))
    return AlignReport(reference_path, tuple(outcomes), tuple(written))


def output_names(paths: Sequence[Path]) -> list[str]:
    """A file-name base per source: its stem, or stem_extension where two sources share a stem."""
    stems = [p.stem for p in paths]
    names = [p.stem if stems.count(p.stem) == 1 else f"{p.stem}_{p.suffix.lstrip('.')}" for p in paths]
    first: dict[str, Path] = {}
    for path, name in zip(paths, names):
        other = first.setdefault(name, path)
        if other != path:
            raise DeaError(f"{other} and {path}: both would write results named '{name}'; "
                           "rename one, or align them into separate output folders")
    return names


def pair_files(base: Path, save_mapping: bool, labels: bool) -> list[Path]:
    """The files write_pair writes for one source (`base`: the output folder and the source's name)."""
    suffixes = [*PAIR_SUFFIXES, *([".mapping.npy"] if save_mapping else []),
                *([".json", ".aligned.json"] if labels else [])]
    return [base.with_name(base.name + suffix) for suffix in suffixes]


def check_outputs(out_dir: Path, names: Sequence[str], inputs: Sequence[Path], save_mapping: bool,
                  labels: bool) -> None:
    """Refuse, before any work, a run whose results would replace one of its inputs."""
    plan = OutputPlan(inputs, overwrite=True)
    for name in names:
        for path in pair_files(out_dir / name, save_mapping, labels):
            plan.add(path, within=out_dir)
    for name in SET_FILES:
        plan.add(out_dir / name, within=out_dir)


def check_labels_fit(labels: LabelFile, shape: tuple[int, ...], reference: Path) -> None:
    """Refuse reference labels drawn on a picture of another size than the reference."""
    declared = (labels.image_width, labels.image_height)
    if declared[0] not in (None, shape[1]) or declared[1] not in (None, shape[0]):
        raise DeaError(f"{labels.path}: drawn on a {declared[0]} x {declared[1]} picture, but the reference "
                       f"{reference} is {shape[1]} x {shape[0]}; give the labels of that reference")


def write_pair(outcome: PairOutcome, source_path: Path, base: Path, labels: LabelFile | None,
               save_mapping: bool, *, inputs: Sequence[Path] = ()) -> list[Path]:
    """One source's aligned picture, confidence, mapping (if asked) and carried labels, all or none.

    None of them may replace one of `inputs` (the run's reference, sources and labels).
    """
    alignment = outcome.alignment
    if alignment is None:
        return []
    aligned, confidence, *rest = pair_files(base, save_mapping, labels is not None)
    products: list[tuple[Path, bytes | str]] = [
        (aligned, encode_png(alignment.aligned)),
        (confidence, encode_png(confidence_picture(alignment.confidence, alignment.observed))),
    ]
    if save_mapping:
        products.append((rest.pop(0), _npy_bytes(alignment.mapping)))
    if labels is not None:
        height, width = alignment.mapping.shape[:2]
        source_size = image_size(source_path)
        moved = to_source(labels, alignment.mapping, source_path.resolve(), source_size).label_file
        on_aligned = new_label_file(aligned.resolve(), width, height, list(labels.shapes))
        products += [(path, label_file_text(label_file, path)) for path, label_file in zip(rest, (moved, on_aligned))]
    return _commit(products, inputs)


def write_set(reference: np.ndarray, outcomes: Sequence[PairOutcome], out_dir: Path, *,
              inputs: Sequence[Path] = ()) -> list[Path]:
    """The products of the whole set: average, difference and the animated overlay (all or none)."""
    done = [o.alignment for o in outcomes if o.alignment is not None]
    if not done:
        return []
    aligned, inside = [a.aligned for a in done], [a.inside for a in done]
    return _commit([(out_dir / "average.png", encode_png(average_picture(reference, aligned, inside))),
                    (out_dir / "difference.png", encode_png(difference_picture(reference, aligned, inside))),
                    (out_dir / "overlay.gif", overlay_gif([reference, *aligned]))], inputs)


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
                  out_dir: Path, *, inputs: Sequence[Path] = ()) -> list[Path]:
    """summary.json and summary.csv for the run."""
    summary = {"reference": str(reference_path), "width": shape[1], "height": shape[0], "pairs": entries}
    text = io.StringIO()
    writer = csv.DictWriter(text, _CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(entries)
    return _commit([(out_dir / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n"),
                    (out_dir / "summary.csv", text.getvalue())], inputs)


def _commit(products: Sequence[tuple[Path, bytes | str]], inputs: Sequence[Path]) -> list[Path]:
    """Write the files together (replacing earlier results, never an input): all or none."""
    with OutputPlan(inputs, overwrite=True) as plan:
        for path, _ in products:
            plan.add(path)
        for path, data in products:
            plan.stage(path, data)
        return plan.commit()


def _npy_bytes(array: np.ndarray) -> bytes:
    with io.BytesIO() as buffer:
        np.save(buffer, np.ascontiguousarray(array, np.float32))
        return buffer.getvalue()

