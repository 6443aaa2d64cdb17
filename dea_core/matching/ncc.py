"""Normalized cross-correlation: maps, their peaks, and scores at a few places only."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Centres whose windows are multiplied by the templates in one product (see ncc_near).
PRODUCT_ROWS = 16
# Windows flatter than this (grey levels, std) are blank paper: their NCC is noise, not a match.
FLAT_STD = 2.0


def is_flat(template: np.ndarray) -> bool:
    """True for a template of blank paper: its NCC is noise, so it scores 0 everywhere."""
    return bool(cv2.meanStdDev(template)[1][0, 0] < FLAT_STD)


def ncc_map(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    """NCC (OpenCV TM_CCOEFF_NORMED) of `template` at every top-left position in `image`.

    image: (H, W) float32, template: (h, w) float32 with h <= H, w <= W.
    Returns (H - h + 1, W - w + 1) float32 in [-1, 1]; blank-paper windows (and NaNs) score 0.
    """
    if is_flat(template):
        return np.zeros((image.shape[0] - template.shape[0] + 1, image.shape[1] - template.shape[1] + 1),
                        np.float32)
    scores = _correlated(image, template)
    np.clip(scores, -1.0, 1.0, out=scores)
    return scores


def best_ncc(image: np.ndarray, template: np.ndarray, flat: bool) -> tuple[float, tuple[int, int]]:
    """The best score of ncc_map(image, template) and its top-left (x, y), for a small `image`
    (a window around a candidate); flat: is_flat(template), known beforehand."""
    if flat:
        return 0.0, (0, 0)
    # The best before clipping: of two places over 1 by rounding, the better (ncc_map ties them).
    _, best, _, place = cv2.minMaxLoc(_correlated(image, template))
    return min(1.0, max(-1.0, float(best))), place


def _correlated(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    """OpenCV's TM_CCOEFF_NORMED map with NaNs (flat windows) at 0, in place (numpy's nan_to_num
    costs more than small correlations)."""
    scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    cv2.patchNaNs(scores, 0.0)
    return scores


# Templates of at most this many pixels are correlated directly (cv2.filter2D); larger ones by
# OpenCV's DFT correlation: measured on real pages, direct is up to 4x faster for 10x12 and under.
DIRECT_AREA = 130
# A window flatter than this (std, grey levels) is one grey level with rounding noise: it scores 0.
FLAT_WINDOW_STD = 0.5


class WindowSpread:
    """NCC maps of many templates on one image, sharing each window size's normalisation.

    OpenCV normalises every correlation on its own, which costs twice the correlation itself on
    a page; the windows' spread depends only on the template's size, shared by all its turns and
    flips. image: (H, W) float32.
    """

    def __init__(self, image: np.ndarray) -> None:
        self._image = np.float32(image - float(image.mean()))
        self._squares = self._image * self._image
        self._inverse: dict[tuple[int, int], np.ndarray] = {}

    def prepare(self, size: tuple[int, int]) -> None:
        """Compute the normalisation of (h, w) windows now (before correlating on several threads)."""
        if size in self._inverse:
            return
        h, w = size
        height, width = self._image.shape[0] - h + 1, self._image.shape[1] - w + 1
        sums = _window_sums(self._image, size)[:height, :width]
        squares = _window_sums(self._squares, size)[:height, :width]
        # In OpenCV's own passes: numpy's would each cost as much as a window sum.
        spread = cv2.subtract(squares, cv2.multiply(sums, sums, scale=1.0 / (h * w)))
        flat = spread < FLAT_WINDOW_STD ** 2 * h * w
        inverse = cv2.pow(cv2.max(spread, 1e-6), -0.5)
        inverse[flat] = 0.0
        self._inverse[size] = inverse

    def ncc_map(self, template: np.ndarray) -> np.ndarray:
        """As ncc_map(image, template), to within float rounding; template: (h, w) float32."""
        h, w = template.shape
        shape = (self._image.shape[0] - h + 1, self._image.shape[1] - w + 1)
        unit = _unit(template)
        if not unit.any():
            return np.zeros(shape, np.float32)
        self.prepare((h, w))
        if h * w <= DIRECT_AREA:
            products = cv2.filter2D(self._image, cv2.CV_32F, unit, anchor=(0, 0),
                                    borderType=cv2.BORDER_CONSTANT)[:shape[0], :shape[1]]
        else:
            products = cv2.matchTemplate(self._image, unit, cv2.TM_CCORR)
        scores = cv2.multiply(products, self._inverse[(h, w)])
        np.clip(scores, -1.0, 1.0, out=scores)
        return scores


def _window_sums(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sum over the (h, w) window whose top-left corner is at each pixel (zeros past the edge)."""
    return cv2.boxFilter(image, cv2.CV_32F, (size[1], size[0]), anchor=(0, 0), normalize=False,
                         borderType=cv2.BORDER_CONSTANT)


def ncc_near(image: np.ndarray, centres: np.ndarray, templates: Sequence[np.ndarray | None],
             offsets: range) -> tuple[np.ndarray, np.ndarray]:
    """Each template's best NCC around each of a few centres, and where the best template peaks.

    What the NCC maps of many templates give at a few hundred places, without correlating the
    whole image: the page's windows there times the templates, one matrix product per size.
    image: (H, W) float32; centres: (N, 2) int as (x, y), a template of (h, w) lying from
    (x - w // 2, y - h // 2) and then each (dx, dy) of `offsets` x `offsets`. Returns (N, P)
    best scores over the offsets (-1 where a template fits nowhere, 0 for blank paper or a
    blank template, as ncc_map) and (N, 2) the centres moved to where the best template peaks.
    """
    side = len(offsets)
    scores = np.full((len(centres), len(templates), side, side), -1.0, np.float32)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for index, template in enumerate(templates):
        if template is not None and template.shape[0] <= image.shape[0] and template.shape[1] <= image.shape[1]:
            by_shape.setdefault(template.shape, []).append(index)
    pad = max(abs(offsets[0]), abs(offsets[-1])) + max((max(shape) for shape in by_shape), default=0)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    sums, squares = cv2.integral2(padded, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
    steps = np.arange(side)
    for (h, w), members in by_shape.items():
        units = np.stack([_unit(templates[i]) for i in members]).reshape(len(members), -1)
        corners = centres - np.array([w // 2, h // 2]) + offsets[0]
        blocks = sliding_window_view(padded, (h + side - 1, w + side - 1))[corners[:, 1] + pad, corners[:, 0] + pad]
        # Copied once per column offset: the windows of every row offset then lie in one piece
        # of each copy's rows, so each offset's product reads them in place. The products are
        # taken PRODUCT_ROWS centres at a time: one large product starts BLAS's threads, which
        # then spin on the cores the rest of matching needs.
        found = np.empty((len(blocks), side, side, len(members)), np.float32)
        whole = len(blocks) - len(blocks) % PRODUCT_ROWS
        for dx in range(side):
            columns = np.ascontiguousarray(blocks[:, :, dx:dx + w]).reshape(len(blocks), -1)
            for dy in range(side):
                windows = columns[:, dy * w:(dy + h) * w]
                found[:whole, dy, dx] = (windows[:whole].reshape(whole // PRODUCT_ROWS, PRODUCT_ROWS, h * w)
                                          @ units.T).reshape(whole, len(members))
                found[whole:, dy, dx] = windows[whole:] @ units.T
        ys = corners[:, 1, None] + steps
        xs = corners[:, 0, None] + steps
        found *= _inverse_spread(sums, squares, ys + pad, xs + pad, (h, w))[..., None]
        np.clip(found, -1.0, 1.0, out=found)
        # Windows past the image's edge (its border repeated) fit nowhere.
        outside = ((ys < 0) | (ys > image.shape[0] - h))[:, :, None] | ((xs < 0) | (xs > image.shape[1] - w))[:, None, :]
        found[outside] = -1.0
        scores[:, members] = found.transpose(0, 3, 1, 2)
    best = scores.max(axis=1).reshape(len(centres), -1).argmax(axis=1)
    moved = centres + np.stack([np.asarray(offsets)[best % side], np.asarray(offsets)[best // side]], axis=1)
    return scores.max(axis=(2, 3)), moved


def _inverse_spread(sums: np.ndarray, squares: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                    size: tuple[int, int]) -> np.ndarray:
    """(N, S, S) one over the spread (root of the centred sum of squares) of the (h, w) windows
    with top-left corners ys[n, i], xs[n, j], 0 for flat ones (blank paper); sums, squares: the
    image's integral images."""
    h, w = size
    y0, x0 = ys[:, :, None], xs[:, None, :]

    def window(integral: np.ndarray) -> np.ndarray:
        return integral[y0 + h, x0 + w] - integral[y0, x0 + w] - integral[y0 + h, x0] + integral[y0, x0]

    total = window(sums)
    spread = window(squares) - total * total / (h * w)
    inverse = np.zeros(spread.shape, np.float32)
    live = spread >= FLAT_WINDOW_STD ** 2 * h * w
    inverse[live] = 1.0 / np.sqrt(spread[live])
    return inverse


def _unit(template: np.ndarray) -> np.ndarray:
    """The template centred, of norm 1; zeros for blank paper (which scores 0 everywhere)."""
    centred = np.float32(template - float(template.mean()))
    norm = float(np.sqrt((centred * centred).sum()))
    # The norm is the standard deviation times the root of the pixel count.
    if norm < FLAT_STD * np.sqrt(template.size):
        return np.zeros(template.shape, np.float32)
    return centred / norm


def local_peaks(scores: np.ndarray, radius: tuple[int, int], floor: float) -> np.ndarray:
    """Positions (N, 2) as (x, y) of local maxima of `scores` at or above `floor`.

    radius: (rx, ry) half-size of the neighbourhood a peak must dominate, so one ornament
    gives one peak and not a plateau of them.
    """
    kernel = np.ones((2 * radius[1] + 1, 2 * radius[0] + 1), np.uint8)
    dilated = cv2.dilate(scores, kernel)
    # In OpenCV's passes, row by row as numpy's nonzero lists them, at a third of its cost on a page.
    peaks = cv2.findNonZero(cv2.bitwise_and(cv2.compare(scores, dilated, cv2.CMP_GE),
                                            cv2.compare(scores, float(floor), cv2.CMP_GE)))
    if peaks is None:
        return np.zeros((0, 2), np.int64)
    return peaks.reshape(-1, 2).astype(np.int64)


# Renderings whose sides differ by more than this share cannot be compared: a long ornament
# turned a quarter is a different picture, a nearly square one is almost the same frame.
SIZE_TOLERANCE = 0.1


def self_similarity(a: np.ndarray, b: np.ndarray, shift: int = 2) -> float:
    """Best NCC of two nearly equally sized images over shifts of up to `shift` pixels.

    How alike a template looks in two poses: a hand-drawn box is rarely centred on the
    ornament's axis of symmetry, so the mirrored picture is a few pixels off, and a nearly square
    rosette turned a quarter is a pixel or two wider than tall. a, b: (H, W); returns -1 when
    their sides differ by more than SIZE_TOLERANCE.
    """
    if any(abs(p - q) > SIZE_TOLERANCE * max(p, q) for p, q in zip(a.shape[:2], b.shape[:2])):
        return -1.0
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = _centre_crop(np.float32(a), h, w), _centre_crop(np.float32(b), h, w)
    shift = min(shift, (min(h, w) - 1) // 2)
    core = b[shift:h - shift, shift:w - shift]
    if core.std() < FLAT_STD:
        return 1.0 if np.allclose(a, b) else 0.0
    return float(ncc_map(a, core).max())


def _centre_crop(image: np.ndarray, h: int, w: int) -> np.ndarray:
    top, left = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
    return image[top:top + h, left:left + w]
