"""How good an alignment is: SSIM before and after, a per-pixel confidence, and an overlap check."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from dea_core.alignment.similarity import local_ncc, local_ssim

# A reference pixel is matchable when its confidence reaches this.
MATCHABLE_CONFIDENCE: Final = 0.5
# Cycle error (pixels) at which confidence falls to exp(-1/2).
CYCLE_TOLERANCE: Final = 1.0
# Inked pixels are those whose neighbourhood varies by this much (std, pictures in [0, 1]).
INK_STD: Final = 0.05
# Below this share of inked pixels that correlate after alignment, the pair is not the same thing.
MIN_INK_AGREEMENT: Final = 0.25
_NCC_WINDOW: Final = 15
_NCC_AGREES: Final = 0.5


@dataclass(frozen=True)
class AlignmentQuality:
    """Quality numbers of one pair (all in [0, 1] except the counts); `dense_coarse` is true where
    the coarse stage's features were set aside for the dense estimate (no inliers then)."""

    ssim_before: float
    ssim_after: float
    matchable_share: float
    ink_agreement: float
    overlap_share: float
    homographies: int
    inliers: int
    dense_coarse: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def mean_ssim(reference: np.ndarray, other: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM (Wang et al., Gaussian window, scikit-image) of two (H, W) float pictures in [0, 1]."""
    _, full = structural_similarity(reference, other, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, full=True)
    if mask is None:
        return float(full.mean())
    return float(full[mask].mean()) if mask.any() else 0.0


def unaligned_view(source: np.ndarray, height: int, width: int) -> np.ndarray:
    """The source as a viewer would lay it on the reference without aligning: stretched to (H, W)."""
    return cv2.resize(source, (width, height), interpolation=cv2.INTER_AREA)


def confidence_map(reference: np.ndarray, aligned: np.ndarray, inside: np.ndarray,
                   cycle_error: np.ndarray | None) -> np.ndarray:
    """(H, W) float32 in [0, 1]: inside the source, cycle-consistent, and locally alike.

    Alike is SSIM where either picture has ink; paper facing paper is alike (its SSIM would only
    measure the grain and the scanner's noise).
    """
    similarity = np.clip(local_ssim(reference, aligned, 7), 0.0, 1.0)
    _, spread_ref = local_ncc(reference, aligned, 7)
    _, spread_aligned = local_ncc(aligned, reference, 7)
    inked = np.maximum(spread_ref, spread_aligned) > INK_STD / 2
    confidence = np.where(inked, similarity, 1.0) * inside
    if cycle_error is not None:
        confidence = confidence * np.exp(-0.5 * (cycle_error / CYCLE_TOLERANCE) ** 2)
    return confidence.astype(np.float32)


def ink_share(reference: np.ndarray, inside: np.ndarray) -> float:
    """Share of the inked reference pixels (H, W) that fall `inside` (H, W) bool the source."""
    _, spread = local_ncc(reference, reference, _NCC_WINDOW)
    inked = spread > INK_STD
    return float(inside[inked].mean()) if inked.any() else 0.0


def ink_agreement(reference: np.ndarray, aligned: np.ndarray, inside: np.ndarray) -> float:
    """Share of inked reference pixels (inside the source) whose neighbourhood correlates after alignment.

    Flat paper agrees with anything; only the inked parts tell a true alignment from a false one.
    """
    ncc, spread = local_ncc(reference, aligned, _NCC_WINDOW)
    inked = (spread > INK_STD) & inside
    if inked.sum() < 100:
        return 0.0
    return float((ncc[inked] > _NCC_AGREES).mean())
