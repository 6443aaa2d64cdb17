"""Fine stage: a residual flow on top of the coarse warp, observed near ink and filled on blank paper.

DIS optical flow (Kroeger et al., ECCV 2016, OpenCV's implementation: coarse-to-fine patch search
then variational refinement) runs both ways between the reference and the coarse-warped source.
The flow is trusted where the reference has texture (its structure tensor is strong), or where
the two pictures share the paper's grain (`grain.shared_grain`: the same sheet), and going there
and back returns to the same pixel; elsewhere, on blank paper or where the two flows disagree, it
is filled in from the trusted flow around (`fill.fill_unobserved`), so the grain of two different
sheets, and noise, move nothing. docs/alignment.md gives the measurements behind this choice
and the optimisation it replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from dea_core.alignment.errors import AlignmentCancelled
from dea_core.alignment.fill import fill_unobserved
from dea_core.alignment.fine_options import FineOptions
from dea_core.alignment.grain import shared_grain
from dea_core.alignment.mapping import identity_mapping
from dea_core.alignment.similarity import local_ncc

CancelCheck = Callable[[], bool]
FractionCallback = Callable[[float], None]

_STRUCTURE_WINDOW: Final = 7
# Pixels this close to the edge of the picture or of the source's footprint are never observed.
_EDGE_MARGIN: Final = 8
# A flow is trusted only where it leaves the local correlation at most this much below the coarse warp's.
_LIKENESS_SLACK: Final = 0.02
# Blank paper: within this of the paper's tone (pictures in [0, 1]) all over a 7x7 window; when
# less than `_LEAST_PAPER_SHARE` of the picture is, the 20th percentile of all pixels stands in.
_PAPER_TONE_SPREAD: Final = 0.15
_LEAST_PAPER_SHARE: Final = 0.05
_PAPER_PERCENTILE: Final = 20


@dataclass(frozen=True)
class FineFlow:
    """(H, W, 2) float32 forward flow in working pixels (reference pixel to coarse-warped source),
    (H, W) float32 `observed` in [0, 1] (1: measured from the pictures, 0: interpolated), and
    (H, W) float32 cycle error of the measured flows (pixels)."""

    forward: np.ndarray
    observed: np.ndarray
    cycle_error: np.ndarray


def refine_flow(reference: np.ndarray, warped: np.ndarray, valid: np.ndarray, options: FineOptions = FineOptions(),
                *, progress: FractionCallback | None = None, cancel: CancelCheck | None = None) -> FineFlow:
    """Flows between `reference` and the coarse-`warped` source, both (H, W) float32 in [0, 1].

    `valid` (H, W) bool marks the reference pixels the coarse warp filled from the source; the
    flow is observed only there.
    """
    report = progress or (lambda fraction: None)
    ref8, warped8 = _to_uint8(reference), _to_uint8(warped)
    flow = _dis(options, max(reference.shape))
    forward = flow.calc(ref8, warped8, None)
    _check_cancel(cancel)
    report(0.4)
    backward = flow.calc(warped8, ref8, None)
    _check_cancel(cancel)
    report(0.8)
    cycle = cycle_error(forward, backward)
    consistent = np.exp(-0.5 * (cycle / options.cycle_tolerance) ** 2)
    # Near the edge of the source's footprint, or of the picture, DIS's patches reach past it.
    margin = np.ones((2 * _EDGE_MARGIN + 1, 2 * _EDGE_MARGIN + 1), np.uint8)
    inner = cv2.erode(valid.astype(np.uint8), margin, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    moved = _follow(warped, forward)
    texture = texture_weight(reference, options)
    if options.follow_grain:
        # Verified grain shows both components of a shift, as texture does.
        texture = np.maximum(texture, shared_grain(reference, moved, options)[..., None])
    weights = texture * (consistent * inner * _improves(reference, warped, moved))[..., None]
    filled = fill_unobserved(forward, weights)
    report(1.0)
    return FineFlow(filled, weights.min(axis=2), cycle.astype(np.float32))


def texture_weight(reference: np.ndarray, options: FineOptions = FineOptions()) -> np.ndarray:
    """(H, W, 2) float32 in [0, 1]: how well the reference (H, W) in [0, 1] shows, at each pixel, the
    x and the y component of a shift.

    The 7x7 means of gx^2 and gy^2: along a vertical rule only x is seen (the aperture problem),
    so its y is filled in from the letters around, as blank paper is.
    """
    gx = cv2.Sobel(reference, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(reference, cv2.CV_32F, 0, 1, ksize=3) / 8
    window = (_STRUCTURE_WINDOW, _STRUCTURE_WINDOW)
    energy = np.dstack([cv2.blur(gx * gx, window), cv2.blur(gy * gy, window)])
    floor = paper_energy(reference, energy) * options.paper_multiple
    return np.clip((energy - floor) / max(options.texture_span, 1e-12), 0.0, 1.0).astype(np.float32)


def paper_energy(reference: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """(2,): the median of `energy` (H, W, 2) over blank paper, the grain that no flow should follow.

    Blank paper is where the 7x7 darkest pixel is still within 0.15 of the paper's tone (the 95th
    percentile of grey); a picture with hardly any (a photograph, a dense crop) takes the 20th
    percentile of all pixels instead.
    """
    paper_tone = float(np.percentile(reference[::4, ::4], 95))
    window = np.ones((_STRUCTURE_WINDOW, _STRUCTURE_WINDOW), np.uint8)
    blank = cv2.erode(reference, window) > paper_tone - _PAPER_TONE_SPREAD
    if blank.mean() >= _LEAST_PAPER_SHARE:
        return np.median(energy[blank].reshape(-1, 2)[::7], axis=0)
    return np.percentile(energy[::4, ::4].reshape(-1, 2), _PAPER_PERCENTILE, axis=0)


def cycle_error(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """(H, W): |f(x) + b(x + f(x))| for flows (H, W, 2): zero where there and back is the same pixel."""
    follow = identity_mapping(*forward.shape[:2]) + forward
    back = cv2.remap(backward, follow[..., 0], follow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.linalg.norm(forward + back, axis=2)


def _follow(warped: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """The coarse-warped source (H, W) moved along the flow (H, W, 2) onto the reference."""
    follow = identity_mapping(*flow.shape[:2]) + flow
    return cv2.remap(warped, follow[..., 0], follow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _improves(reference: np.ndarray, warped: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """(H, W) bool: the flow (which makes `moved` of `warped`) makes the source correlate with the
    reference at least as well as before."""
    before, _ = local_ncc(reference, warped, _STRUCTURE_WINDOW)
    after, _ = local_ncc(reference, moved, _STRUCTURE_WINDOW)
    return after >= before - _LIKENESS_SLACK


def _dis(options: FineOptions, side: int) -> cv2.DISOpticalFlow:
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    finest = options.finest_scale
    if finest is None:
        finest = max(0, int(np.floor(np.log2(max(side, 1) / options.dis_side))))
    flow.setFinestScale(finest)
    flow.setVariationalRefinementIterations(options.refinement_iterations)
    return flow


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def _check_cancel(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise AlignmentCancelled("alignment cancelled")
