"""The original AutoLabelme's matching algorithm, rewritten from the internship report for comparison.

Every pose of the template is correlated (TM_CCOEFF_NORMED) with the full-resolution search
band, every position scoring above the threshold is a candidate, and a greedy NMS on upright
boxes keeps the best of overlapping ones. No pyramid, no pose pruning: the peer we measure
ourselves against, on the same pages and the same poses.
"""

from __future__ import annotations

import cv2
import numpy as np

from dea_core.matching.poses import Pose, pose_quad, render_pose
from dea_core.matching.result import Match
from dea_core.matching.search_region import search_band

# The report's published defaults.
ORIGINAL_SCALES = tuple(float(s) for s in np.linspace(0.5, 2.0, 25))
ORIGINAL_NMS_IOU = 0.3


def original_match(page_gray: np.ndarray, label: str, box: tuple[int, int, int, int], poses: list[Pose],
                   threshold: float, neighbourhood: float | None, max_candidates: int | None = None) -> list[Match]:
    """All matches above `threshold`, the original way. page_gray: (H, W) uint8.

    max_candidates: keep only the best this many positions before NMS (None: all, as the original).
    """
    x0, y0, x1, y1 = box
    template = page_gray[y0:y1, x0:x1]
    band = search_band(page_gray.shape[0], box, neighbourhood)
    candidates: list[tuple[float, Pose, float, float, int, int]] = []
    for pose in poses:
        posed, _ = render_pose(template, pose, border_value=255)
        h, w = posed.shape
        top = max(0, int(band.top - h / 2))
        bottom = min(page_gray.shape[0], int(band.bottom + h / 2) + 1)
        region = page_gray[top:bottom]
        if h > region.shape[0] or w > region.shape[1]:
            continue
        scores = cv2.matchTemplate(region, posed, cv2.TM_CCOEFF_NORMED)
        ys, xs = np.nonzero(scores >= threshold)
        candidates.extend((float(scores[y, x]), pose, x + w / 2, y + top + h / 2, w, h) for y, x in zip(ys, xs))
    if max_candidates is not None and len(candidates) > max_candidates:
        candidates = sorted(candidates, key=lambda c: -c[0])[:max_candidates]
    return _greedy_nms(candidates, label, (x1 - x0, y1 - y0))


def _greedy_nms(candidates: list, label: str, size: tuple[int, int]) -> list[Match]:
    candidates.sort(key=lambda c: -c[0])
    boxes = np.array([[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] for _, _, cx, cy, w, h in candidates])
    alive = np.ones(len(candidates), bool)
    kept: list[Match] = []
    for i, (score, pose, cx, cy, _, _) in enumerate(candidates):
        if not alive[i]:
            continue
        kept.append(Match(label, score, pose, pose_quad(size[0], size[1], pose, (cx, cy))))
        b = boxes[i]
        iw = np.clip(np.minimum(boxes[:, 2], b[2]) - np.maximum(boxes[:, 0], b[0]), 0, None)
        ih = np.clip(np.minimum(boxes[:, 3], b[3]) - np.maximum(boxes[:, 1], b[1]), 0, None)
        inter = iw * ih
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        alive &= inter / (areas + (b[2] - b[0]) * (b[3] - b[1]) - inter) <= ORIGINAL_NMS_IOU
    return kept
