"""The "rows" preset: headpieces of small cast pieces set touching in rows, with rules between
them and pieces that share motifs, over lines of text.

The standard pages set pieces apart; real headpieces often set small sorts edge to edge, so that
half of one piece and half of its neighbour, mirrored, look like a third piece, and two sorts cut
from one pattern (a piece and a variant whose right half repeats its left half mirrored) match
each other in part. These are the cases where a matcher's non-overlap rule and label competition
are needed; the page format and truth are those of pages.generate_page.
"""

from __future__ import annotations

import cv2
import numpy as np

from dea_core.matching.poses import Pose, pose_quad, render_pose
from dea_core.synth import degrade
from dea_core.synth.pages import (
    Degradation,
    PlacedOrnament,
    SyntheticPage,
    _template_boxes,
    _Typesetter,
    print_on_paper,
)
from dea_core.synth.pieces import load_pieces, load_symmetry, whiten_paper

# Pieces are cut down to this height range (pixels): small sorts, as in the real headpieces.
PIECE_HEIGHT = (30, 46)
# Poses a row is set in: plain, upside down, mirrored, mirrored upside down.
ROW_POSES = (Pose(), Pose(180.0), Pose(0.0, "mirrored"), Pose(0.0, "flipped"))
RULE_EVERY = (3, 6)  # a thin rule after every k pieces of a row
# Each occurrence is its own cast, set by hand: turned up to this many degrees, sized up to this
# share either way, inked lighter or heavier, and nicked in places. Real casts of one sort differ
# less than this (about half a degree, 1%): the preset is meant to be harder than the real rows.
CAST_TURN = 1.5
CAST_SIZE = 0.03
CAST_INK = (0.7, 1.1)
CAST_NICKS = (0, 4)
ROWS_DEGRADATION = Degradation(paper=0.5, ink_spread=0.4, dropouts=0.3, show_through=0.0, blur=0.4, noise=0.3,
                               jpeg=0.4, perspective=0.0)


def generate_rows_page(rng: np.random.Generator, width: int = 1400, height: int = 2000,
                       degradation: Degradation = ROWS_DEGRADATION) -> SyntheticPage:
    """A page of 3 or 4 headpieces of touching rows over text; the same generator state gives the same page."""
    pieces = _row_pieces(rng)
    ink = np.full((height, width), 255, np.uint8)
    items: list[PlacedOrnament] = []
    x0, x1 = round(width * 0.1), round(width * 0.9)
    y = round(height * 0.05)
    labels = list(pieces)
    for band in range(int(rng.integers(3, 5))):
        rows = int(rng.integers(1, 3))
        _rule(ink, x0, x1, y)
        y += 6
        for row in range(rows):
            # The first row of the first band is plain and holds every label: the templates.
            pose = Pose() if band == row == 0 else ROW_POSES[int(rng.integers(len(ROW_POSES)))]
            order = labels if band == row == 0 else list(rng.permutation(labels))
            y += _set_row(rng, ink, items, pieces, order, pose, x0, x1, y) + int(rng.integers(1, 4))
        _rule(ink, x0, x1, y)
        y += 12
        text_lines = int(rng.integers(3, 7))
        typesetter = _Typesetter(rng, ink, body_size=28)
        typesetter.section(y, text_lines, x0, x1, [])
        y += text_lines * typesetter.line_height + 20
        if y > height * 0.85:
            break
    d = degradation
    ink = degrade.ink_dropouts(degrade.ink_spread(ink, rng, d.ink_spread), rng, d.dropouts)
    page = print_on_paper(degrade.aged_paper(rng, ink.shape, d.paper), ink)
    page = degrade.jpeg_compress(degrade.sensor_noise(degrade.blur(page, rng, d.blur), rng, d.noise), rng, d.jpeg)
    return SyntheticPage(page, items, _template_boxes(items), pieces)


def _row_pieces(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Four kinds for the page, cut from two patterns: two pieces, a variant of the first whose
    right half repeats its left half mirrored, and a hybrid of the first's left half and the
    second's right half (each shares half its ink with another label).

    The first is a piece that is not mirror-symmetric: the variant of a symmetric one would be
    the piece itself.
    """
    pieces = {name: whiten_paper(p) for name, p in load_pieces().items()}
    symmetry = load_symmetry()
    asymmetric = sorted(n for n in pieces if not (n in symmetry and symmetry[n].mirror_symmetric))
    first = str(rng.choice(asymmetric))
    names = [first, str(rng.choice(sorted(n for n in pieces if n != first)))]
    target = int(rng.integers(*PIECE_HEIGHT))
    small = {name: _to_height(_trimmed(pieces[name]), target) for name in names}
    base = small[names[0]]
    half = base.shape[1] // 2
    variant = base.copy()
    variant[:, base.shape[1] - half:] = base[:, :half][:, ::-1]
    other = cv2.resize(small[names[1]], (base.shape[1], base.shape[0]), interpolation=cv2.INTER_AREA)
    hybrid = np.concatenate([base[:, :half], other[:, half:]], axis=1)
    return {names[0]: base, names[1]: small[names[1]], f"{names[0]}_variant": variant,
            f"{names[0]}_hybrid": hybrid}


def _trimmed(piece: np.ndarray) -> np.ndarray:
    """The piece cut to its ink, so that neighbours in a row touch."""
    ys, xs = np.nonzero(piece < 200)
    return piece[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _to_height(piece: np.ndarray, height: int) -> np.ndarray:
    width = max(8, round(piece.shape[1] * height / piece.shape[0]))
    return cv2.resize(piece, (width, height), interpolation=cv2.INTER_AREA)


def _set_row(rng: np.random.Generator, ink: np.ndarray, items: list[PlacedOrnament], pieces: dict[str, np.ndarray],
             order: list[str], pose: Pose, x0: int, x1: int, top: int) -> int:
    """Pieces in `pose` edge to edge from x0, labels cycling through `order`, a rule every few;
    the row's height."""
    x, index = x0, 0
    every = int(rng.integers(*RULE_EVERY))
    tallest = 0
    while True:
        label = order[index % len(order)]
        image, _ = render_pose(_cast(rng, pieces[label]), pose, border_value=255)
        h, w = image.shape
        if x + w > x1 or top + h >= ink.shape[0]:
            break
        region = ink[top:top + h, x:x + w]
        np.minimum(region, image, out=region)
        centre = (x + w / 2, top + h / 2)
        quad = pose_quad(pieces[label].shape[1], pieces[label].shape[0], pose, centre)
        items.append(PlacedOrnament(label, pose, quad, (float(x), float(top), float(x + w), float(top + h))))
        tallest = max(tallest, h)
        x += w + int(rng.integers(0, 2))
        index += 1
        if index % every == 0 and x + 3 < x1:
            ink[top:top + h, x:x + 2] = 40
            x += 3
    return tallest


def _cast(rng: np.random.Generator, piece: np.ndarray) -> np.ndarray:
    """One occurrence of `piece` (H, W) uint8 as its own cast prints it: a little turned and
    resized about its centre, inked lighter or heavier, with a few worn nicks; same size."""
    h, w = piece.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-CAST_TURN, CAST_TURN)),
                                     float(1 + rng.uniform(-CAST_SIZE, CAST_SIZE)))
    matrix[:, 2] += rng.uniform(-0.5, 0.5, 2)
    image = cv2.warpAffine(piece, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    darkness = (255.0 - image) * rng.uniform(*CAST_INK)
    image = np.clip(255.0 - darkness, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        image = cv2.erode(image, np.ones((2, 2), np.uint8))
    for _ in range(int(rng.integers(*CAST_NICKS))):
        cv2.circle(image, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(1, 3)), 255, -1)
    return image


def _rule(ink: np.ndarray, x0: int, x1: int, y: int) -> None:
    ink[y:y + 2, x0:x1] = 30
