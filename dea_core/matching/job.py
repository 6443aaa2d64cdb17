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
from dea_core.io.label_notes import label_notes_text
from dea_core.io.labelme_json import label_file_text, load_label_file, load_label_image
from dea_core.io.output_plan import OutputPlan
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
    out_dir: Path | None = None  # a folder holding the outputs, made if missing (None: their folders must exist)


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
    """Match every label of `review` with template boxes (or the chosen `labels`) on its page image,
    as the window does (label_jobs). source: the file the review was read from, for messages."""
    jobs = review_jobs(review, options, labels)
    missing = sorted(set(labels or []) - {job.label for job in jobs})
    if missing:
        raise MatchOptionsError(f"{source}: no template box for label(s) {', '.join(missing)}")
    if not jobs and review.total():
        raise MatchOptionsError(f"{source}: no template box, only occurrences already found (matched, or checked by "
                                "`dea score`); draw one box per ornament type as its template")
    if not jobs:
        raise MatchOptionsError(f"{source}: no rectangle to use as a template; draw one box per ornament type")
    height, width = image.shape[:2]
    for job in jobs:
        for x0, y0, x1, y1 in job.boxes:
            inside = max(0.0, min(x1, width) - max(x0, 0.0)) * max(0.0, min(y1, height) - max(y0, 0.0))
            if inside < 0.5 * (x1 - x0) * (y1 - y0):
                raise MatchOptionsError(f"{source}: the template box of {job.label!r} ({x0:g}, {y0:g})-({x1:g}, "
                                        f"{y1:g}) lies mostly outside the {width} x {height} page; draw it around "
                                        "the ornament")
    try:
        return run_jobs(jobs, PageMatcher(image), progress, cancel)
    except MatchOptionsError as error:
        if str(error).startswith(str(source)):
            raise
        raise MatchOptionsError(f"{source}: {error}") from error


def run_match_job(json_path: Path, outputs: MatchOutputs, options: MatchOptions, labels: list[str] | None = None,
                  *, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> MatchReport:
    """Read a LabelMe page, match its templates, and write the matched LabelMe JSON and extras.

    Every output is checked before the matching starts and all are committed together at the end
    (dea_core.io.output_plan): on any error nothing is written.
    """
    with OutputPlan([json_path], overwrite=outputs.overwrite) as plan:
        label_file = load_label_file(json_path)
        if label_file.image_data is None:
            plan.add_input(label_file.image_file())
        review, base = review_from_label_file(label_file)
        notes = review.notes()
        _declare_outputs(plan, outputs, bool(notes))
        image = load_label_image(label_file)
        results = match_review(review, str(label_file.path or json_path), image, options, labels,
                               progress=progress, cancel=cancel)
        # Written as the window writes it: one rule for which match is the template.
        review = review.with_results(results)
        matched = review_to_label_file(base, review, polygon=outputs.polygon)
        chosen = [m for entry in review.labels if entry.label in results for m in entry.accepted()]
        plan.stage(outputs.json_path, label_file_text(matched, outputs.json_path))
        if notes:
            plan.stage(notes_path(outputs.json_path), label_notes_text(notes))
        if outputs.overview_path is not None:
            plan.stage(outputs.overview_path, png_bytes(outputs.overview_path, draw_matches(image, chosen)))
        crops = (stage_crops(plan, image, chosen, outputs.crops_dir, Path(outputs.json_path).stem)
                 if outputs.crops_dir is not None else [])
        written = plan.commit()
    return MatchReport(results, notes, tuple(p for p in written if p not in crops), tuple(crops))


def _declare_outputs(plan: OutputPlan, outputs: MatchOutputs, notes: bool) -> None:
    """Check every destination of a job before the matching: only the JSON may replace the input."""
    plan.add(outputs.json_path, within=outputs.out_dir, replaces_input=True)
    if notes:
        plan.add(notes_path(outputs.json_path), within=outputs.out_dir)
    if outputs.overview_path is not None:
        plan.add(outputs.overview_path, within=outputs.out_dir)
    if outputs.crops_dir is not None:
        plan.add_folder(outputs.crops_dir)


def notes_path(json_path: Path) -> Path:
    """Where the label-to-note file goes: beside the matched JSON, as the original tool did."""
    return json_path.with_name(f"{json_path.stem}.label_notes.json")


def png_bytes(path: Path, image: np.ndarray) -> bytes:
    """A picture encoded as PNG; `path` names it in the error."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise DeaError(f"{path}: could not encode the picture as PNG")
    return data.tobytes()


def safe_folder_name(label: str) -> str:
    """A folder name for a label: letters, digits, dot, dash and underscore kept."""
    name = re.sub(r"[^\w.-]+", "_", label, flags=re.UNICODE).strip("._")
    return name or "label"


def save_crops(image: np.ndarray, matches: list[Match], folder: Path, stem: str) -> list[Path]:
    """Each match's crop in its template's pose, as PNG in a folder per label (replacing earlier ones)."""
    with OutputPlan(overwrite=True) as plan:
        paths = stage_crops(plan, image, matches, Path(folder), stem)
        plan.commit()
    return paths


def stage_crops(plan: OutputPlan, image: np.ndarray, matches: list[Match], folder: Path, stem: str) -> list[Path]:
    """Declare and stage the crops of `save_crops` in `plan`; none may lead out of `folder` by a link."""
    paths: list[Path] = []
    counters: dict[str, int] = {}
    for match in sorted(matches, key=lambda m: (m.label, m.box[1], m.box[0])):
        index = counters[match.label] = counters.get(match.label, 0) + 1
        name = f"{stem}_{index:03d}_{match.pose.describe().replace(', ', '_').replace('°', 'deg')}.png"
        path = plan.add(folder / safe_folder_name(match.label) / name, within=folder)
        paths.append(plan.stage(path, png_bytes(path, crop_in_template_pose(image, match))))
    return paths
