"""A whole matching job on one LabelMe file: read, match every label, write results.

The command line and the AutoLabelme window both run this; everything is computed before
anything is written, so bad input leaves the disk as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dea_core.errors import DeaError, MatchOptionsError
from dea_core.io.atomic import atomic_write_bytes
from dea_core.io.label_notes import write_label_notes
from dea_core.io.labelme_json import LabelFile, load_label_file, load_label_image, save_label_file
from dea_core.matching.crops import crop_in_template_pose
from dea_core.matching.label_jobs import review_jobs, run_jobs
from dea_core.matching.matcher import CancelCheck, MatchOptions, PageMatcher, ProgressCallback
from dea_core.matching.overview import draw_matches
from dea_core.matching.result import Match, MatchResult
from dea_core.matching.review import PageReview, review_from_label_file, review_to_label_file


@dataclass(frozen=True)
class MatchOutputs:
    """Where a job should write; None means do not write that product."""

    json_path: Path
    overwrite: bool = False
    polygon: bool = False
    crops_dir: Path | None = None
    overview_path: Path | None = None


@dataclass(frozen=True)
class MatchReport:
    """What a job found and wrote."""

    results: dict[str, MatchResult]
    notes: dict[str, str]
    written: tuple[Path, ...]
    crops: tuple[Path, ...] = ()

    def counts(self) -> dict[str, int]:
        return {label: len(r.above()) for label, r in self.results.items()}


def match_review(review: PageReview, source: str, image: np.ndarray, options: MatchOptions,
                 labels: list[str] | None = None, *, progress: ProgressCallback | None = None,
                 cancel: CancelCheck | None = None) -> dict[str, MatchResult]:
    """Match every label of `review` with template boxes (or the chosen `labels`) on its page image.

    source: the file the review was read from, for messages.
    """
    jobs = review_jobs(review, options, labels)
    missing = sorted(set(labels or []) - {job.label for job in jobs})
    if missing:
        raise MatchOptionsError(f"{source}: no template box for label(s) {', '.join(missing)}")
    if not jobs:
        raise MatchOptionsError(f"{source}: no rectangle to use as a template; draw one box per ornament type")
    return run_jobs(jobs, PageMatcher(image), progress, cancel)


def run_match_job(json_path: Path, outputs: MatchOutputs, options: MatchOptions, labels: list[str] | None = None,
                  *, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> MatchReport:
    """Read a LabelMe page, match its templates, and write the matched LabelMe JSON and extras."""
    _check_destination(json_path, outputs)
    label_file = load_label_file(json_path)
    image = load_label_image(label_file)
    review, base = review_from_label_file(label_file)
    results = match_review(review, str(label_file.path or json_path), image, options, labels, progress=progress,
                           cancel=cancel)
    review = review.with_results(results)
    matched = review_to_label_file(base, review, polygon=outputs.polygon)
    chosen = [m for entry in review.labels if entry.label in results for m in entry.accepted()]
    notes = review.notes()
    written = _write_outputs(matched, image, chosen, notes, outputs)
    crops = save_crops(image, chosen, outputs.crops_dir, Path(outputs.json_path).stem) if outputs.crops_dir else []
    return MatchReport(results, notes, tuple(written), tuple(crops))


def _check_destination(json_path: Path, outputs: MatchOutputs) -> None:
    if Path(json_path).resolve() == Path(outputs.json_path).resolve() and not outputs.overwrite:
        raise DeaError(f"{outputs.json_path}: this is the input file; choose another output name "
                       "or pass --overwrite to replace it")


def notes_path(json_path: Path) -> Path:
    """Where the label-to-note file goes: beside the matched JSON, as the original tool did."""
    return json_path.with_name(f"{json_path.stem}.label_notes.json")


def _write_outputs(matched: LabelFile, image: np.ndarray, chosen: list[Match], notes: dict[str, str],
                   outputs: MatchOutputs) -> list[Path]:
    written = [save_label_file(matched, outputs.json_path, overwrite=outputs.overwrite)]
    if notes:
        written.append(write_label_notes(notes, notes_path(outputs.json_path), overwrite=True))
    if outputs.overview_path is not None:
        written.append(write_png(outputs.overview_path, draw_matches(image, chosen)))
    return written


def write_png(path: Path, image: np.ndarray) -> Path:
    """Encode and save a PNG atomically."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise DeaError(f"{path}: could not encode the picture as PNG")
    atomic_write_bytes(Path(path), data.tobytes())
    return Path(path)


def safe_folder_name(label: str) -> str:
    """A folder name for a label: letters, digits, dot, dash and underscore kept."""
    name = re.sub(r"[^\w.-]+", "_", label, flags=re.UNICODE).strip("._")
    return name or "label"


def save_crops(image: np.ndarray, matches: list[Match], folder: Path, stem: str) -> list[Path]:
    """Each match's crop in its template's pose, as PNG in a folder per label."""
    paths: list[Path] = []
    counters: dict[str, int] = {}
    for match in sorted(matches, key=lambda m: (m.label, m.box[1], m.box[0])):
        index = counters[match.label] = counters.get(match.label, 0) + 1
        target = Path(folder) / safe_folder_name(match.label)
        target.mkdir(parents=True, exist_ok=True)
        name = f"{stem}_{index:03d}_{match.pose.describe().replace(', ', '_').replace('°', 'deg')}.png"
        paths.append(write_png(target / name, crop_in_template_pose(image, match)))
    return paths

