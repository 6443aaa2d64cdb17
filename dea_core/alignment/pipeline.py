"""The alignment API the command line and the window call: one pair, or a batch against one reference.

Pictures are BGR uint8 (H, W, 3) as `dea_core.io.images.read_image` gives them. The fine stage runs
on copies whose long side is at most `AlignOptions.work_side`; the mapping is brought back to the
reference's own resolution at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from dea_core.alignment.coarse import (
    CoarseOptions,
    choose_per_pixel,
    coarse_mapping,
    fit_coarse_models,
    rescaled_homography,
)
from dea_core.alignment.errors import AlignmentCancelled, NoOverlapError
from dea_core.alignment.fine import refine_flow
from dea_core.alignment.fine_options import FineOptions
from dea_core.alignment.mapping import identity_mapping, inside_source, resize_mapping, warp_image
from dea_core.alignment.quality import (
    MATCHABLE_CONFIDENCE,
    MIN_INK_AGREEMENT,
    AlignmentQuality,
    confidence_map,
    ink_agreement,
    mean_ssim,
    unaligned_view,
)
from dea_core.errors import DeaError
from dea_core.io.images import read_image

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

DEFAULT_WORK_SIDE: Final = 1200
# Progress steps per pair: the coarse stage, then the fine stage, then the products.
PAIR_STEPS: Final = 20
_COARSE_STEPS: Final = 4
_FINE_STEPS: Final = 14


@dataclass(frozen=True)
class AlignOptions:
    """Everything that decides an alignment; `fine=None` keeps the coarse homographies only."""

    coarse: CoarseOptions = field(default_factory=CoarseOptions)
    fine: FineOptions | None = field(default_factory=FineOptions)
    work_side: int = DEFAULT_WORK_SIDE


@dataclass(frozen=True)
class PairAlignment:
    """One source aligned to the reference; every array is on the reference's pixel grid.

    mapping (H, W, 2) float32: (x, y) in the source for each reference pixel.
    aligned (H, W, 3) uint8: the source resampled there (white where it has no pixel).
    confidence (H, W) float32 in [0, 1]; inside (H, W) bool: the mapping falls in the source.
    observed (H, W) float32 in [0, 1]: 1 where the fine stage measured the mapping from the
    pictures, 0 where it interpolated it from around (blank paper); 0 everywhere without it.
    homographies: the coarse models (3, 3), reference to source pixels, best first.
    """

    mapping: np.ndarray
    aligned: np.ndarray
    confidence: np.ndarray
    inside: np.ndarray
    observed: np.ndarray
    quality: AlignmentQuality
    homographies: tuple[np.ndarray, ...]
    seconds: float


@dataclass(frozen=True)
class PairOutcome:
    """A batch entry: the alignment, or the message saying why this source failed."""

    name: str
    alignment: PairAlignment | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.alignment is not None


def align_pair(reference: np.ndarray, source: np.ndarray, options: AlignOptions = AlignOptions(), *,
               name: str = "source", progress: Callable[[float], None] | None = None,
               cancel: CancelCheck | None = None) -> PairAlignment:
    """Align `source` (h, w, 3) to `reference` (H, W, 3); both BGR uint8.

    Raises TooFewMatchesError or NoOverlapError (message starting with `name`) when the pair does
    not align, AlignmentCancelled when `cancel()` turns true. `progress(fraction)` reports 0 to 1.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction: None)
    _check_cancel(cancel)
    ref_gray, src_gray = _gray(reference), _gray(source)
    models = fit_coarse_models(ref_gray, src_gray, options.coarse, name)
    report(_COARSE_STEPS / PAIR_STEPS)
    _check_cancel(cancel)

    height, width = ref_gray.shape
    ref_scale = min(1.0, options.work_side / max(height, width))
    src_scale = min(1.0, options.work_side / max(src_gray.shape))
    ref_work, src_work = _resize(ref_gray, ref_scale), _resize(src_gray, src_scale)
    matrices = [rescaled_homography(h.matrix, ref_scale, src_scale) for h in models.homographies]
    inliers = [(h.inlier_points + 0.5) * ref_scale - 0.5 for h in models.homographies]
    labels = choose_per_pixel(ref_work, src_work, matrices, inliers)
    work_mapping = coarse_mapping(matrices, labels)
    ref_unit = ref_work.astype(np.float32) / 255
    src_unit = src_work.astype(np.float32) / 255
    warped = warp_image(src_unit, work_mapping, border_value=1)
    inside = inside_source(work_mapping, *src_work.shape)
    if not inside.any():
        raise NoOverlapError(f"{name}: the homography found puts the source outside the reference")

    cycle_error = None
    observed = np.zeros(ref_work.shape, np.float32)
    if options.fine is not None:
        flow = refine_flow(ref_unit, warped, inside, options.fine, cancel=cancel,
                           progress=lambda f: report((_COARSE_STEPS + f * _FINE_STEPS) / PAIR_STEPS))
        follow = identity_mapping(*ref_work.shape) + flow.forward
        work_mapping = cv2.remap(work_mapping, follow[..., 0], follow[..., 1], cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        warped = warp_image(src_unit, work_mapping, border_value=1)
        inside = inside_source(work_mapping, *src_work.shape)
        # Interpolated pixels are judged by their likeness alone: their measured flow was not used.
        cycle_error = flow.cycle_error * (flow.observed > 0.5)
        observed = flow.observed
    _check_cancel(cancel)

    confidence = confidence_map(ref_unit, warped, inside, cycle_error)
    agreement = ink_agreement(ref_unit, warped, inside)
    if agreement < MIN_INK_AGREEMENT:
        raise NoOverlapError(
            f"{name}: after alignment only {agreement:.0%} of the reference's inked area agrees with the source "
            f"(at least {MIN_INK_AGREEMENT:.0%} expected); it does not show the same page or ornament")
    quality = AlignmentQuality(
        ssim_before=mean_ssim(ref_unit, unaligned_view(src_unit, *ref_unit.shape)),
        ssim_after=mean_ssim(ref_unit, warped, inside),
        matchable_share=float((confidence >= MATCHABLE_CONFIDENCE).mean()),
        ink_agreement=agreement,
        overlap_share=float(inside.mean()),
        homographies=len(models.homographies),
        inliers=models.homographies[0].inliers,
        dense_coarse=models.dense,
    )
    mapping = resize_mapping(work_mapping, height, width, src_scale)
    full_inside = inside_source(mapping, *src_gray.shape)
    confidence = cv2.resize(confidence, (width, height), interpolation=cv2.INTER_LINEAR) * full_inside
    observed = cv2.resize(observed, (width, height), interpolation=cv2.INTER_LINEAR) * full_inside
    report(1.0)
    return PairAlignment(mapping=mapping, aligned=warp_image(source, mapping), confidence=confidence,
                         inside=full_inside, observed=observed, quality=quality,
                         homographies=tuple(h.matrix for h in models.homographies),
                         seconds=time.perf_counter() - started)


def align_batch(reference: np.ndarray, sources: Sequence[tuple[str, np.ndarray | Path]],
                options: AlignOptions = AlignOptions(), *, progress: ProgressCallback | None = None,
                cancel: CancelCheck | None = None,
                on_outcome: Callable[[PairOutcome], None] | None = None) -> list[PairOutcome]:
    """Align each (name, picture or path) of `sources` to `reference`, one after another.

    A source that cannot be read or aligned becomes a failed PairOutcome with its message and the
    others go on; cancelling raises AlignmentCancelled. `progress(done, total)` counts
    PAIR_STEPS per source; `on_outcome` sees each outcome as soon as it is known.
    """
    total = PAIR_STEPS * len(sources)
    outcomes: list[PairOutcome] = []
    for index, (name, source) in enumerate(sources):
        def report(fraction: float, index: int = index) -> None:
            if progress is not None:
                progress(index * PAIR_STEPS + int(round(fraction * PAIR_STEPS)), total)
        try:
            image = read_image(source) if isinstance(source, Path) else source
            outcome = PairOutcome(name, align_pair(reference, image, options, name=name, progress=report,
                                                   cancel=cancel))
        except AlignmentCancelled:
            raise
        except DeaError as error:
            outcome = PairOutcome(name, None, str(error))
        report(1.0)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def _check_cancel(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise AlignmentCancelled("alignment cancelled")


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
