"""Laying the redrawn genuine sort on the print, and where the two disagree.

The redraw decoder draws a sort in its template pose. For a vignette of the page:

1. **Pose and place.** The redrawing is tried in the four poses (plain, mirrored, flipped, turned
   180 degrees), each at SCALES of the detected box's width and height and slid by up to a quarter
   of the box over the print (normalised cross-correlation of ink): a detector's box is often 10-20%
   off a real vignette's extent, and a redrawing stretched to it puts every outer stroke a few
   pixels wrong. The pose the layout expects is kept unless another fits better by POSE_MARGIN, or
   by the margin the sort's genuine printings call for (a nearly symmetric sort, slid that far, fits
   some other pose almost as well: `redraw_training.pose_margins`); its size and place are then refined by
   FINE_STEP, and the comparison is made around where it was laid (`Laid.placed_box`).
2. **Alignment.** A small smooth warp bends the placed redrawing onto the print: dense optical flow
   (Farneback) from the redrawing to the print, smoothed over a quarter of the vignette and limited
   to MAX_FLOW_PX, so a sub-pixel shift, a tilt or a slightly wider stroke is absorbed and a re-cut
   outline, pushed by several pixels in one place, is not. (The alignment engine's fine stage,
   `alignment.fine.refine_flow`, does the same with an SSIM loss but costs 0.3-0.6 s a vignette on
   2 cores, against about a millisecond.)
3. **Error**, on paper-normalised ink (0 paper, 1 full ink; blind to paper tint and inking level):
   ink printed where the redrawing has none within TOLERANCE_PX (a filled counter, a foreign
   stroke), and ink the redrawing has that the print lacks, either TOLERANCE_PX inside its strokes (a
   crack, a break through a broad stroke) or with no print within TOLERANCE_PX (a thin stroke or a tip
   broken off, a missing piece). A stroke printed a pixel heavier or lighter is neither. From that is
   taken away the error the sort's genuine printings show at each place (learnt at training, laid
   on the print the same way): the edges of a sort whose casts vary are not a change. Ink that a
   neighbour's redrawing, laid on the page, accounts for is the neighbour's (touching casts overlap
   each other's boxes). The map is
   smoothed and the score is the mean of its worst TOP_SHARE, as for the seed decoders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import cv2
import numpy as np

from dea_core.anomaly.heatmaps import ink_darkness

POSES: Final = ("none", "mirrored", "flipped", "rot180")
POSE_MARGIN: Final = 0.08  # NCC a pose must win by over the expected one
SEARCH_SHARE: Final = 0.25  # of the box's side, each way
SCALES: Final = (0.84, 0.92, 1.0, 1.08, 1.16)  # of the box's width and height: a detected box is a few % off
FINE_STEP: Final = 0.03  # of a side: the size and place refined around the best of SCALES
MARGIN_SHARE: Final = 0.15  # context cut around a box, each side
MAX_FLOW_PX: Final = 1.5
TOLERANCE_PX: Final = 1
SMOOTHING_PX: Final = 1.0
TOP_SHARE: Final = 0.03
FLOW_SMOOTHING: Final = 0.25  # of the vignette's smaller side: the Gaussian sigma the flow is smoothed by

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Laid:
    """A vignette's redrawing laid on the print, over `region` (x0, y0, x1, y1) of the page: `observed` and
    `placed` are (h, w) float32 ink in [0, 1] there, the print's and the redrawing's (bent onto it)."""

    pose: str
    pose_scores: dict[str, float]
    region: tuple[int, int, int, int]
    corner: tuple[int, int]  # top-left of the placed redrawing in the region
    size: tuple[int, int]  # its width and height
    observed: np.ndarray = field(repr=False)
    placed: np.ndarray = field(repr=False)

    @property
    def fit(self) -> float:
        """How well the redrawing fits the print where it was laid, in its pose: NCC of ink."""
        return self.pose_scores[self.pose]

    @property
    def placed_box(self) -> Box:
        """Where the redrawing was laid, in page pixels: the vignette's own box, truer than a detected one."""
        x, y = self.region[0] + self.corner[0], self.region[1] + self.corner[1]
        return (float(x), float(y), float(x + self.size[0]), float(y + self.size[1]))


@dataclass(frozen=True)
class Comparison:
    """One vignette against its laid redrawing. error: (h, w) float32 over `laid.region` of the page."""

    laid: Laid
    error: np.ndarray
    score: float


def posed(picture: np.ndarray, pose: str) -> np.ndarray:
    """A template-pose picture (h, w) turned into `pose` (one of POSES)."""
    turned = {"none": picture, "mirrored": picture[:, ::-1], "flipped": picture[::-1], "rot180": picture[::-1, ::-1]}
    return np.ascontiguousarray(turned[pose])


def to_template_pose(picture: np.ndarray, pose: str) -> np.ndarray:
    """The inverse of `posed` (every pose is its own inverse)."""
    return posed(picture, pose)


def pose_name(flip: str | None) -> str:
    """A LabelMe pose's flip ("none", "mirrored", "flipped"; None for no pose) as one of POSES."""
    return flip if flip in POSES else "none"


def context_region(box: Box, shape: tuple[int, int], share: float = MARGIN_SHARE) -> tuple[int, int, int, int]:
    """The box widened by `share` of its sides (and 2 px) each side, in whole pixels, clipped to the page (H, W)."""
    x0, y0, x1, y1 = box
    mx, my = (x1 - x0) * share + 2, (y1 - y0) * share + 2
    height, width = shape
    return (max(int(np.floor(x0 - mx)), 0), max(int(np.floor(y0 - my)), 0),
            min(int(np.ceil(x1 + mx)), width), min(int(np.ceil(y1 + my)), height))


def lay_vignette(grey: np.ndarray, box: Box, redrawn: np.ndarray, expected_pose: str = "none", align: bool = True,
                 margins: Mapping[str, float] | None = None) -> Laid:
    """The redrawing (S, S) in [0, 1], paper 1, in template pose, laid on the vignette at `box` of a grey page
    (H, W) uint8 (steps 1 and 2 of the module docstring); `margins` as `lay_redrawing`."""
    pose, scores, found = lay_redrawing(grey, box, redrawn, expected_pose, margins)
    region = context_region(found, grey.shape)
    rx0, ry0, rx1, ry1 = region
    observed = ink_darkness(grey[ry0:ry1, rx0:rx1])
    size = (int(round(found[2] - found[0])), int(round(found[3] - found[1])))
    centre = ((found[0] + found[2]) / 2 - rx0, (found[1] + found[3]) / 2 - ry0)
    _, corner, (width, height) = _best_fits(observed, redrawn, (pose,), centre, _around(size), FINE_STEP)[pose]
    template_ink = 1.0 - _resized(redrawn, width, height)
    placed = _paste(observed.shape, posed(template_ink, pose), corner)
    if align:
        placed = smooth_warp(observed, placed, min(width, height))
    return Laid(pose, scores, region, corner, (width, height), observed, placed)


def judge(laid: Laid, typical: np.ndarray | None = None, others: np.ndarray | None = None) -> Comparison:
    """Where the print and its laid redrawing disagree (step 3 of the module docstring), inside the placed
    redrawing: `typical` (S, S) is the sort's genuine error in template pose (none: 0); `others` (h, w) over
    the laid region is the ink of the neighbours' redrawings laid on the page, which explains their ink where
    their boxes and this one's overlap (none: no neighbours)."""
    (width, height), corner = laid.size, laid.corner
    error = tolerance_error(laid.observed, laid.placed, explained=others)
    if typical is not None:
        error = np.clip(error - _paste(error.shape, posed(_resized(typical, width, height), laid.pose), corner), 0, 1)
    inside = _paste(error.shape, np.ones((height, width), np.float32), corner) > 0
    error = error * inside  # ink of the neighbours, in the context around the box, is theirs to explain
    return Comparison(laid, error, top_mean(error[inside]))


def neighbours_ink(laid: Laid, page: Sequence[Laid]) -> np.ndarray | None:
    """The ink of the redrawings of `page` (the vignettes laid on one page) other than `laid`, over its region;
    None when none reaches it."""
    x0, y0, x1, y1 = laid.region
    canvas = np.zeros((y1 - y0, x1 - x0), np.float32)
    reached = False
    for other in page:
        ox0, oy0, ox1, oy1 = other.region
        cx0, cy0, cx1, cy1 = max(x0, ox0), max(y0, oy0), min(x1, ox1), min(y1, oy1)
        if other is laid or cx1 <= cx0 or cy1 <= cy0:
            continue
        reached = True
        view = canvas[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        np.maximum(view, other.placed[cy0 - oy0:cy1 - oy0, cx0 - ox0:cx1 - ox0], out=view)
    return canvas if reached else None


def lay_redrawing(grey: np.ndarray, box: Box, redrawn: np.ndarray, expected_pose: str = "none",
                  margins: Mapping[str, float] | None = None) -> tuple[str, dict[str, float], Box]:
    """(pose, NCC of each pose, box in page pixels) where the redrawing (S, S) in template pose best fits the
    vignette detected at `box` of a grey page: each pose at SCALES of the box's width and height, slid by up
    to SEARCH_SHARE of its side. The expected pose is kept unless another fits better by its margin: POSE_MARGIN,
    or more where `margins` (pose: NCC) says so."""
    x0, y0, x1, y1 = box
    rx0, ry0, rx1, ry1 = context_region(box, grey.shape, SEARCH_SHARE + MARGIN_SHARE)
    observed = ink_darkness(grey[ry0:ry1, rx0:rx1])
    centre = ((x0 + x1) / 2 - rx0, (y0 + y1) / 2 - ry0)
    sizes = [(max(int(round((x1 - x0) * sx)), 3), max(int(round((y1 - y0) * sy)), 3)) for sx in SCALES for sy in SCALES]
    placements = _best_fits(observed, redrawn, POSES, centre, sizes, SEARCH_SHARE)
    scores = {pose: p[0] for pose, p in placements.items()}
    margins = margins or {}
    winners = [p for p in POSES if scores[p] > scores[expected_pose] + max(margins.get(p, 0.0), POSE_MARGIN)]
    pose = max(winners, key=scores.get) if winners else expected_pose
    _, (x, y), (width, height) = placements[pose]
    return pose, scores, (float(rx0 + x), float(ry0 + y), float(rx0 + x + width), float(ry0 + y + height))


def error_in_template_pose(comparison: Comparison, side: int) -> np.ndarray:
    """The comparison's error over the placed redrawing, turned back to template pose, side x side."""
    (x, y), (width, height) = comparison.laid.corner, comparison.laid.size
    window = np.zeros((height, width), np.float32)
    h, w = comparison.error.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + width, w), min(y + height, h)
    window[y0 - y:y1 - y, x0 - x:x1 - x] = comparison.error[y0:y1, x0:x1]
    return _resized(to_template_pose(window, comparison.laid.pose), side, side)


def _resized(picture: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(picture.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)


def _best_fits(observed: np.ndarray, redrawn: np.ndarray, poses: tuple[str, ...], centre: tuple[float, float],
               sizes: list[tuple[int, int]], reach_share: float) -> dict[str, tuple[float, tuple[int, int],
                                                                              tuple[int, int]]]:
    """For each pose: (NCC, top-left, (width, height)) of the redrawing in that pose, at the one of `sizes` and
    the place within `reach_share` of its side around `centre` that fit `observed` best. The redrawing is
    resized once a size, for every pose."""
    best = {pose: (-2.0, (0, 0), sizes[0]) for pose in poses}
    for w, h in sizes:
        ink = 1.0 - _resized(redrawn, w, h)
        origin = (int(round(centre[0] - w / 2)), int(round(centre[1] - h / 2)))
        reach = max(2, int(round(reach_share * max(w, h))))
        flat = float(ink.std()) < 1e-6
        for pose in poses:
            value, corner = (0.0, origin) if flat else _best_place(observed, posed(ink, pose), origin, reach)
            if value > best[pose][0]:
                best[pose] = (value, corner, (w, h))
    return best


def _around(size: tuple[int, int]) -> list[tuple[int, int]]:
    """The sizes FINE_STEP of a side either way of `size` (width, height)."""
    step_w, step_h = (max(1, int(round(FINE_STEP * side))) for side in size)
    return [(max(size[0] + dw, 3), max(size[1] + dh, 3)) for dw in (-step_w, 0, step_w) for dh in (-step_h, 0, step_h)]


def _best_place(observed: np.ndarray, template: np.ndarray, origin: tuple[int, int],
                reach: int) -> tuple[float, tuple[int, int]]:
    """(NCC, top-left) of the template's best position within `reach` px of `origin` in `observed`."""
    h, w = template.shape
    ox, oy = origin
    x0, y0 = max(ox - reach, 0), max(oy - reach, 0)
    x1, y1 = min(ox + reach + w, observed.shape[1]), min(oy + reach + h, observed.shape[0])
    window = observed[y0:y1, x0:x1]
    if window.shape[0] < h or window.shape[1] < w:
        return 0.0, (ox, oy)
    response = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, value, _, (px, py) = cv2.minMaxLoc(response)
    return float(value), (x0 + px, y0 + py)


def _paste(shape: tuple[int, int], picture: np.ndarray, top_left: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, np.float32)
    x, y = top_left
    h, w = picture.shape
    cx0, cy0, cx1, cy1 = max(x, 0), max(y, 0), min(x + w, shape[1]), min(y + h, shape[0])
    if cx1 > cx0 and cy1 > cy0:
        canvas[cy0:cy1, cx0:cx1] = picture[cy0 - y:cy1 - y, cx0 - x:cx1 - x]
    return canvas


def smooth_warp(observed: np.ndarray, placed: np.ndarray, side: int) -> np.ndarray:
    """`placed` (h, w) ink bent onto `observed` (h, w) ink by a smoothed optical flow limited to MAX_FLOW_PX."""
    flow = cv2.calcOpticalFlowFarneback(_bytes(observed), _bytes(placed), None, 0.5, 2, 9, 3, 5, 1.1, 0)
    flow = cv2.GaussianBlur(flow, (0, 0), max(FLOW_SMOOTHING * side, 1.0))
    length = np.linalg.norm(flow, axis=2, keepdims=True)
    flow = flow * np.minimum(1.0, MAX_FLOW_PX / np.maximum(length, 1e-6))
    ys, xs = np.mgrid[0:observed.shape[0], 0:observed.shape[1]].astype(np.float32)
    return cv2.remap(placed, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=0)


def _bytes(ink: np.ndarray) -> np.ndarray:
    return np.round(np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)


def tolerance_error(observed: np.ndarray, expected: np.ndarray, radius: int = TOLERANCE_PX,
                    explained: np.ndarray | None = None) -> np.ndarray:
    """(h, w) float32 in [0, 1]: ink of `observed` beyond `radius` px of `expected`'s ink (and of `explained`'s, ink
    that something else accounts for); and ink of `expected` that `observed` lacks, either deeper than `radius` px
    inside its strokes (a crack or a break through a broad stroke, which the print's ink either side would
    otherwise cover) or with no printed ink within `radius` px (a thin stroke or a tip gone, which has no inside
    deeper than `radius`); all (h, w) ink in [0, 1]."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    accounted = expected if explained is None else np.maximum(expected, explained)
    extra = observed - cv2.dilate(accounted, kernel)
    missing = np.maximum(cv2.erode(expected, kernel) - observed, expected - cv2.dilate(observed, kernel))
    error = np.clip(np.maximum(extra, missing), 0.0, 1.0)
    return cv2.GaussianBlur(error, (0, 0), SMOOTHING_PX).astype(np.float32)


def top_mean(values: np.ndarray, share: float = TOP_SHARE) -> float:
    """The mean of the largest `share` of `values` (any shape); 0 for none."""
    flat = np.ravel(values)
    if flat.size == 0:
        return 0.0
    count = max(1, int(round(flat.size * share)))
    return float(np.partition(flat, flat.size - count)[-count:].mean())
