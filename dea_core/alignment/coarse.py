"""Coarse stage: SIFT matches at several source scales, homographies, one chosen per pixel.

The source is tried at scale 1 first; only when that gives few inliers are the other scales
tried (SIFT is scale-invariant within about x4, so this is for crops and pages at very different
resolutions, and it keeps the usual case fast). Where several homographies were found, each
reference pixel takes the one under which the warped source agrees best with the reference
locally (local SSIM, smoothed), as RANSAC-Flow does; the first (largest) model wins ties.

Features mislead on rows of identical casts (matches land on the wrong cast and a wrong model,
often a half turn, wins) and fail on pairs with few shared features. So when no model is found,
or the best one is weakly supported or turned far, a dense estimate (`dense.py`) is made too, and
whichever agrees best with the reference over its inked area is kept (the features' on ties).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import cv2
import numpy as np

from dea_core.alignment.dense import agreement_score, dense_homographies
from dea_core.alignment.errors import TooFewMatchesError
from dea_core.alignment.features import DEFAULT_MAX_FEATURES, DEFAULT_RATIO, detect_sift, match_features
from dea_core.alignment.homographies import (
    DEFAULT_MAX_HOMOGRAPHIES,
    DEFAULT_MIN_INLIERS,
    DEFAULT_REPROJECTION_THRESHOLD,
    Homography,
    fit_homographies,
)
from dea_core.alignment.mapping import homography_mapping, inside_source, warp_image
from dea_core.alignment.similarity import local_ssim

# Scales of the source tried after 1.0, when 1.0 gives fewer than `confident_inliers`.
DEFAULT_SOURCE_SCALES: Final = (1.0, 0.5, 2.0)
# Any turn by default: a headpiece may be printed upside down (tests/data: the 1616 f25 printing is).
DEFAULT_MAX_TURN: Final = None
# The long side at which SIFT runs: more is slower and rarely adds inliers on scans.
DEFAULT_FEATURE_SIDE: Final = 1600
# Per-pixel choice runs at this long side, with this window and margin of local SSIM.
_SELECTION_SIDE: Final = 400
_SELECTION_WINDOW: Final = 15
_SELECTION_MARGIN: Final = 0.05
# A feature model turned more than this (degrees), or with fewer inliers than
# `confident_inliers`, is checked against the dense estimate, which must beat it by this margin.
_SUSPECT_TURN: Final = 30.0
_DENSE_MARGIN: Final = 0.05


@dataclass(frozen=True)
class CoarseOptions:
    source_scales: tuple[float, ...] = DEFAULT_SOURCE_SCALES
    confident_inliers: int = 60
    max_homographies: int = DEFAULT_MAX_HOMOGRAPHIES
    min_inliers: int = DEFAULT_MIN_INLIERS
    threshold: float = DEFAULT_REPROJECTION_THRESHOLD
    ratio: float = DEFAULT_RATIO
    max_turn: float | None = DEFAULT_MAX_TURN
    feature_side: int = DEFAULT_FEATURE_SIDE
    max_features: int = DEFAULT_MAX_FEATURES
    dense_fallback: bool = True


@dataclass(frozen=True)
class CoarseModels:
    """Homographies in original pixels (reference to source), best first, the number of
    ratio-tested matches they were fitted on, the source scale that won, for every scale
    tried its (matches, inliers of the best model), and whether the dense estimate replaced the
    features' models (then one homography with no inliers)."""

    homographies: tuple[Homography, ...]
    matches: int
    source_scale: float = 1.0
    tried: dict[float, tuple[int, int]] = field(default_factory=dict)
    dense: bool = False


def fit_coarse_models(reference: np.ndarray, source: np.ndarray, options: CoarseOptions = CoarseOptions(),
                      name: str = "source") -> CoarseModels:
    """Homographies from `reference` to `source` (grayscale uint8 (H, W)); raises TooFewMatchesError."""
    ref_scale = min(1.0, options.feature_side / max(reference.shape))
    src_base = min(1.0, options.feature_side / max(source.shape))
    ref_features = detect_sift(reference, ref_scale, options.max_features)
    if len(ref_features.points) < options.min_inliers:
        raise TooFewMatchesError(f"{name}: not aligned: the reference shows {len(ref_features.points)} features, "
                                 f"fewer than the {options.min_inliers} needed (a blank or almost blank picture?); "
                                 "choose another reference")
    best: CoarseModels | None = None
    tried: dict[float, tuple[int, int]] = {}
    for scale in options.source_scales:
        src_scale = src_base * scale
        if min(source.shape) * src_scale < 32:
            continue
        src_features = detect_sift(source, src_scale, options.max_features)
        matches = match_features(ref_features, src_features, options.ratio, options.max_turn)
        # The reprojection threshold is meant in pixels at the resolution SIFT saw.
        threshold = options.threshold / min(ref_scale, src_scale)
        found = fit_homographies(matches, (reference.shape[1], reference.shape[0]),
                                 max_homographies=options.max_homographies, min_inliers=options.min_inliers,
                                 threshold=threshold)
        inliers = found[0].inliers if found else 0
        tried[scale] = (len(matches), inliers)
        if found and (best is None or inliers > best.homographies[0].inliers):
            best = CoarseModels(tuple(found), len(matches), scale)
        if best is not None and best.homographies[0].inliers >= options.confident_inliers:
            break
    if options.dense_fallback and (best is None or _suspect(best.homographies[0], options)):
        dense = _dense_if_better(reference, source, best)
        if dense is not None:
            return CoarseModels((Homography(dense, np.zeros((0, 2), np.float32)),), best.matches if best else 0,
                                1.0, tried, dense=True)
    if best is None:
        counts = ", ".join(f"x{s:g}: {m} matches" for s, (m, _) in tried.items()) or "the source is too small"
        raise TooFewMatchesError(
            f"{name}: too few matching features with the reference to trust a homography ({counts}; "
            f"{options.min_inliers} agreeing ones needed). Is it the same page or ornament?")
    return CoarseModels(best.homographies, best.matches, best.source_scale, tried)


def _suspect(model: Homography, options: CoarseOptions) -> bool:
    turn = np.degrees(np.arctan2(model.matrix[1, 0], model.matrix[0, 0]))
    return model.inliers < options.confident_inliers or abs(turn) > _SUSPECT_TURN


def _dense_if_better(reference: np.ndarray, source: np.ndarray, best: CoarseModels | None) -> np.ndarray | None:
    """The best-agreeing dense homography, if it agrees better than the features' first model
    by `_DENSE_MARGIN` (or there is none) and with at least some of the inked reference."""
    scored = [(agreement_score(reference, source, matrix), matrix) for matrix in dense_homographies(reference, source)]
    if not scored:
        return None
    score, matrix = max(scored, key=lambda pair: pair[0])
    bar = _DENSE_MARGIN if best is None else agreement_score(reference, source, best.homographies[0].matrix) + _DENSE_MARGIN
    return matrix if score > bar else None


def rescaled_homography(matrix: np.ndarray, reference_scale: float, source_scale: float) -> np.ndarray:
    """The homography between a reference resized by `reference_scale` and a source by `source_scale`."""
    def scaling(s: float) -> np.ndarray:
        # Pixel centres at integers: x' = s (x + 0.5) - 0.5.
        return np.array([[s, 0, (s - 1) / 2], [0, s, (s - 1) / 2], [0, 0, 1]], np.float64)
    return scaling(source_scale) @ matrix @ np.linalg.inv(scaling(reference_scale))


def choose_per_pixel(reference: np.ndarray, source: np.ndarray, matrices: list[np.ndarray],
                     inlier_points: list[np.ndarray]) -> np.ndarray:
    """(H, W) uint8: for each reference pixel, the index of the homography that fits it best.

    `reference` and `source` are grayscale (H, W) / (h, w) uint8, `matrices` map the one to the
    other and `inlier_points` (N, 2) are each model's inliers in `reference` pixels. A later model takes a pixel only where more of its inliers lie nearby than of the first's
    (a bent corner, a second ornament) and its warp agrees better there (local SSIM, by a
    margin): symmetric ornaments agree with many wrong models, their inliers do not.
    The choice runs on small copies and is taken back up to (H, W) by nearest neighbour.
    """
    height, width = reference.shape
    if len(matrices) == 1:
        return np.zeros((height, width), np.uint8)
    scale = min(1.0, _SELECTION_SIDE / max(height, width))
    src_scale = min(1.0, _SELECTION_SIDE / max(source.shape))
    small_ref = cv2.resize(reference, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small_src = cv2.resize(source, None, fx=src_scale, fy=src_scale, interpolation=cv2.INTER_AREA)
    h, w = small_ref.shape
    supports = [_inlier_support((points + 0.5) * scale - 0.5, h, w) for points in inlier_points]
    scores = []
    for index, matrix in enumerate(matrices):
        mapping = homography_mapping(rescaled_homography(matrix, scale, src_scale), h, w)
        warped = warp_image(small_src, mapping)
        score = local_ssim(small_ref.astype(np.float32) / 255, warped.astype(np.float32) / 255, _SELECTION_WINDOW)
        score = cv2.blur(score, (_SELECTION_WINDOW, _SELECTION_WINDOW))
        usable = inside_source(mapping, *small_src.shape) & (supports[index] >= supports[0])
        scores.append(np.where(usable, score, -2.0))
    stacked = np.stack(scores)
    stacked[0] += _SELECTION_MARGIN
    labels = np.argmax(stacked, axis=0).astype(np.uint8)
    labels = cv2.medianBlur(labels, 5)
    return cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST)


def _inlier_support(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) float32 density of inlier points (x, y), blurred over a tenth of the picture."""
    splat = np.zeros((height, width), np.float32)
    xs = np.clip(np.round(points[:, 0]).astype(int), 0, width - 1)
    ys = np.clip(np.round(points[:, 1]).astype(int), 0, height - 1)
    np.add.at(splat, (ys, xs), 1.0)
    return cv2.GaussianBlur(splat, (0, 0), max(height, width) / 10)


def coarse_mapping(matrices: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
    """(H, W, 2) float32: each pixel sent through the homography `labels` (H, W) picks for it."""
    height, width = labels.shape
    mapping = homography_mapping(matrices[0], height, width)
    for index, matrix in enumerate(matrices[1:], start=1):
        chosen = labels == index
        if chosen.any():
            mapping[chosen] = homography_mapping(matrix, height, width)[chosen]
    return mapping
