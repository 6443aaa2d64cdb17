"""Synthetic printed pages with real ornament pieces at known poses, the ground truth for the matcher.

A page is laid out top to bottom as a printer would: running head, a headpiece of repeated cast
pieces (often mirrored about its centre, sometimes with an upside-down second row), a heading in
capitals, justified body text with a framed initial, mid-page bands, single pieces at other scales
or angles, a vertical band beside the text and a pyramid tailpiece. Every piece is drawn through
`render_pose`, so a pose means here exactly what it means to the matcher. Ink and scanner defects
(`degrade`) follow; the page-wide perspective is applied to the truth quads too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dea_core.io import atomic_write_bytes, atomic_write_text, encode_png
from dea_core.matching.poses import (
    FLIPS,
    Flip,
    Pose,
    is_right_angle,
    normalise_angle,
    pose_bank,
    pose_quad,
    render_pose,
)
from dea_core.synth import degrade
from dea_core.synth.pieces import load_pieces, whiten_paper

Box = tuple[float, float, float, float]
MAX_SIZE = (2000, 2800)
MIN_SIZE = (700, 1000)
LABELME_VERSION = "5.5.0"
PRESETS = ("easy", "standard", "hard")


@dataclass(frozen=True)
class Degradation:
    """Strength in [0, 1] of each defect of paper, printing and scanning; 0 switches it off."""

    paper: float = 0.6
    ink_spread: float = 0.5
    dropouts: float = 0.4
    show_through: float = 0.4
    blur: float = 0.5
    noise: float = 0.4
    jpeg: float = 0.5
    perspective: float = 0.5

    @classmethod
    def off(cls) -> Degradation:
        """A clean page: flat paper, sharp ink, no warp, no compression."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class PageSpec:
    """What a generated page may contain. The defaults are the "standard" preset."""

    width: int = 1400
    height: int = 2000
    pieces: tuple[str, ...] = ()  # names of pieces to draw from; empty = every piece in the folder
    piece_folder: Path | None = None  # None = the bundled resources/ornaments/
    kinds: tuple[int, int] = (2, 4)  # how many different pieces on one page (min, max)
    rotations: tuple[float, ...] = (0.0, 90.0, 180.0, 270.0)
    flips: tuple[Flip, ...] = FLIPS
    scale_range: tuple[float, float] = (0.8, 1.25)
    headpiece_rows: int = 2  # 1 or 2
    repeats: tuple[int, int] = (5, 20)  # pieces per headpiece row (min, max), fewer if the width is short
    bands: int = 1  # mid-page horizontal bands
    vertical_band: bool = True
    tailpiece: bool = True
    singles: int = 3  # single pieces at another scale or angle
    text: bool = True
    clutter: float = 0.5  # 0-1: framed initials, rules and stray specks that can look like ornaments
    degradation: Degradation = field(default_factory=Degradation)

    def __post_init__(self) -> None:
        if not (MIN_SIZE[0] <= self.width <= MAX_SIZE[0] and MIN_SIZE[1] <= self.height <= MAX_SIZE[1]):
            raise ValueError(f"page size {self.width}x{self.height}: choose from {MIN_SIZE[0]}x{MIN_SIZE[1]}"
                             f" to {MAX_SIZE[0]}x{MAX_SIZE[1]}")
        if 0.0 not in {normalise_angle(r) for r in self.rotations} or "none" not in self.flips:
            raise ValueError("rotations must include 0 and flips 'none': every piece needs a plain instance")
        if not self.scale_range[0] <= 1.0 <= self.scale_range[1]:
            raise ValueError(f"scale_range {self.scale_range} must include 1.0 (the template's own size)")
        if not (1 <= self.kinds[0] <= self.kinds[1] and 1 <= self.repeats[0] <= self.repeats[1]):
            raise ValueError(f"kinds {self.kinds} and repeats {self.repeats} must be (min, max) "
                             "with 1 <= min <= max")

    @classmethod
    def preset(cls, name: str, **changes: object) -> PageSpec:
        """The "easy", "standard" or "hard" spec, with any field replaced by `changes`."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
        return replace(_PRESETS[name], **changes)


_PRESETS = {
    "easy": PageSpec(kinds=(2, 3), scale_range=(0.9, 1.1), headpiece_rows=1, singles=2, clutter=0.25,
                     degradation=Degradation(paper=0.4, ink_spread=0.2, dropouts=0.15, show_through=0.15,
                                             blur=0.2, noise=0.15, jpeg=0.2, perspective=0.0)),
    "standard": PageSpec(),
    "hard": PageSpec(kinds=(3, 4), rotations=(0.0, 90.0, 180.0, 270.0, 15.0, 45.0, 330.0),
                     scale_range=(0.7, 1.4), bands=2, singles=4, clutter=1.0,
                     degradation=Degradation(paper=1.0, ink_spread=0.9, dropouts=0.8, show_through=0.8,
                                             blur=0.9, noise=0.8, jpeg=0.9, perspective=1.0)),
}


@dataclass
class PlacedOrnament:
    """One piece on the page: its label, its pose, its corners and their upright bounds.

    quad: (4, 2) float page corners, in the template's own order (top-left, top-right,
    bottom-right, bottom-left); box: (x0, y0, x1, y1), continuous page coordinates.
    """

    label: str
    pose: Pose
    quad: np.ndarray
    box: Box


@dataclass
class SyntheticPage:
    """A generated page and its ground truth.

    image: (H, W, 3) uint8 BGR. templates: for every label, the box of one plain instance
    (rotation 0, no flip, scale 1), the box a user would draw around the template.
    designs: where each occurrence is its own cast (a little turned, inked its own way), each
    label's clean design (H, W) uint8, whose symmetries decide which poses look alike.
    """

    image: np.ndarray
    ornaments: list[PlacedOrnament]
    templates: dict[str, Box]
    designs: dict[str, np.ndarray] = field(default_factory=dict)


def generate_page(rng: np.random.Generator, spec: PageSpec = PageSpec()) -> SyntheticPage:
    """A page drawn at random from `spec`; the same generator state gives the same page."""
    pieces = _select_pieces(spec)
    layout = _Layout(rng, spec, pieces)
    ink, items = layout.compose()
    d = spec.degradation
    ink = degrade.ink_dropouts(degrade.ink_spread(ink, rng, d.ink_spread), rng, d.dropouts)
    page = print_on_paper(degrade.aged_paper(rng, ink.shape, d.paper), ink)
    if d.show_through > 0:
        page = degrade.show_through(page, layout.verso(), rng, d.show_through)
    homography = np.eye(3)
    if d.perspective > 0:
        homography = degrade.perspective_homography(rng, spec.width, spec.height, d.perspective)
        page = degrade.perspective_warp(page, homography)
    page = degrade.blur(page, rng, d.blur)
    page = degrade.jpeg_compress(degrade.sensor_noise(page, rng, d.noise), rng, d.jpeg)
    ornaments = [_place(item, pieces[item.label].shape, homography) for item in items]
    return SyntheticPage(page, ornaments, _template_boxes(ornaments))


def _select_pieces(spec: PageSpec) -> dict[str, np.ndarray]:
    """The pieces the spec allows, paper whitened: name -> (H, W) uint8."""
    pieces = load_pieces(spec.piece_folder)
    names = spec.pieces or tuple(pieces)
    unknown = [n for n in names if n not in pieces]
    if unknown:
        raise ValueError(f"unknown pieces {unknown}; available: {', '.join(pieces)}")
    return {name: whiten_paper(pieces[name]) for name in names}


def print_on_paper(paper: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Ink layer (H, W) uint8 multiplied onto paper (H, W, 3) float: the paper's grain shows through."""
    ink_colour = np.array([0.09, 0.09, 0.11])  # BGR reflectance of full ink: a warm black
    cover = 1.0 - ink.astype(np.float32)[:, :, None] / 255.0
    return np.clip(np.round(paper * (1.0 - cover * (1.0 - ink_colour))), 0, 255).astype(np.uint8)


def _place(item: _Item, piece_shape: tuple[int, int], homography: np.ndarray) -> PlacedOrnament:
    """The truth for a drawn item: its quad moved by the page's perspective, and its bounds."""
    h, w = piece_shape
    quad = degrade.warp_points(pose_quad(w, h, item.pose, item.centre), homography)
    box = (float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max()))
    return PlacedOrnament(item.label, item.pose, quad, box)


def _template_boxes(ornaments: list[PlacedOrnament]) -> dict[str, Box]:
    """For every label, the box of its first plain instance."""
    boxes: dict[str, Box] = {}
    for ornament in ornaments:
        if ornament.pose == Pose() and ornament.label not in boxes:
            boxes[ornament.label] = ornament.box
    return boxes


# --- Layout ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """A piece to draw in `pose` with its canvas's top-left pixel at (left, top)."""

    label: str
    pose: Pose
    left: int
    top: int
    size: tuple[int, int]  # canvas (width, height)

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.size[0] / 2, self.top + self.size[1] / 2)

    def moved(self, dx: int, dy: int) -> _Item:
        return replace(self, left=self.left + dx, top=self.top + dy)


@dataclass
class _Block:
    """A horizontal slice of the page: ornaments (relative to its top) or a drawing, `height` px tall.

    Text sections get their height once the page is measured; one of them may carry a vertical
    band of pieces `beside` it, and the first one a framed initial.
    """

    height: int
    items: list[_Item] = field(default_factory=list)
    draw: Callable[[int], None] | None = None
    text: bool = False
    min_lines: int = 0
    initial: bool = False
    beside: _Block | None = None


# What to give up, in order, when the page is too short for everything asked: (what, down to).
_SHRINK = (("bands", 1), ("vertical", 4), ("singles", 2), ("tail", 0), ("bands", 0), ("vertical", 0),
           ("singles", 0), ("rows", 1))


class _Layout:
    """Places blocks down the page and draws text and ornaments into one ink layer."""

    def __init__(self, rng: np.random.Generator, spec: PageSpec, pieces: dict[str, np.ndarray]) -> None:
        self.rng, self.spec, self.pieces = rng, spec, pieces
        self.ink = np.full((spec.height, spec.width), 255, np.uint8)
        margin_x = round(spec.width * rng.uniform(0.11, 0.15))
        self.x0, self.x1 = margin_x, spec.width - margin_x
        self.top, self.bottom = round(spec.height * rng.uniform(0.05, 0.07)), round(spec.height * 0.93)
        x_height = float(np.clip(rng.uniform(15, 21) * (spec.width / 1400) ** 0.5, 11, 25))
        self.type = _Typesetter(rng, self.ink, body_size=max(24, round(x_height / 0.53)))
        self.gap = max(10, self.type.line_height // 2)
        self.obstacles: list[tuple[int, int, int, int]] = []
        self.kinds: list[str] = []
        self._canvas: dict[tuple[str, Pose], np.ndarray] = {}

    def compose(self) -> tuple[np.ndarray, list[_Item]]:
        """Lay out and draw the page. Returns the ink layer (H, W) uint8 and the placed items."""
        items = self._stack(self._fitting_plan())
        for item in items:
            canvas = self._render(item.label, item.pose)
            region = self.ink[item.top:item.top + item.size[1], item.left:item.left + item.size[0]]
            np.minimum(region, canvas, out=region)
        if self.spec.clutter > 0:
            self._specks(items)
        return self.ink, items

    def verso(self) -> np.ndarray:
        """The text of the other side of the leaf as an ink layer (H, W) uint8, not mirrored yet."""
        layer = np.full_like(self.ink, 255)
        typesetter = _Typesetter(self.rng, layer, self.type.body_size)
        shift = int(self.rng.integers(-30, 31))
        lines = (self.bottom - self.top) // typesetter.line_height
        typesetter.section(self.top + shift, lines, self.x0, self.x1, [])
        return layer

    # Plan: which blocks, and whether they fit.

    def _fitting_plan(self) -> list[_Block]:
        """Blocks from top to bottom; optional ones are dropped until every text section has room."""
        spec = self.spec
        count = int(self.rng.integers(spec.kinds[0], spec.kinds[1] + 1))
        self.kinds = [str(k) for k in self.rng.permutation(sorted(self.pieces))[:count]]
        vertical = int(self.rng.integers(5, 11)) if spec.vertical_band else 0
        wanted = {"singles": spec.singles, "vertical": vertical, "bands": spec.bands,
                  "tail": int(spec.tailpiece), "rows": spec.headpiece_rows}
        while True:
            blocks = self._plan(wanted)
            step = next(((k, f) for k, f in _SHRINK if wanted[k] > f), None)
            if self._text_lines(blocks) >= sum(b.min_lines for b in blocks) or step is None:
                return blocks
            key, floor = step
            # A vertical band shorter than four pieces is no band: drop it whole.
            wanted[key] = floor if key == "vertical" and wanted[key] <= 4 else wanted[key] - 1

    def _plan(self, wanted: dict[str, int]) -> list[_Block]:
        kinds = self.kinds
        head = self._headpiece(kinds, max(1, wanted["rows"]))
        covered = {i.label for i in head.items if i.pose == Pose()}
        middle: list[_Block] = []
        for index in range(wanted["bands"]):
            # Each band or tailpiece shows a piece not yet seen plain, so that every label has a template.
            label = next((k for k in kinds if k not in covered), kinds[(index + 1) % len(kinds)])
            middle.append(self._band(label))
            covered.add(label)
        tail = []
        if wanted["tail"]:
            label = next((k for k in kinds if k not in covered), kinds[-1])
            tail.append(self._tailpiece(label))
            covered.add(label)
        middle += self._singles(wanted["singles"], [k for k in kinds if k not in covered])
        blocks = [self._running_head(), head, self._heading(),
                  _Block(0, text=True, min_lines=3, initial=self.spec.clutter > 0)]
        for index in self.rng.permutation(len(middle)):
            blocks += [middle[index], _Block(0, text=True, min_lines=3)]
        if wanted["vertical"]:
            self._attach_vertical_band([b for b in blocks if b.text], wanted["vertical"])
        return [*blocks, *tail, self._signature()]

    def _text_lines(self, blocks: list[_Block]) -> int:
        fixed = sum(b.height for b in blocks) + self.gap * (len(blocks) - 1)
        return (self.bottom - self.top - fixed) // self.type.line_height

    def _stack(self, blocks: list[_Block]) -> list[_Item]:
        """Give each block its place and draw it; text sections share the room that is left."""
        sections = [b for b in blocks if b.text]
        for section, n in zip(sections, self._share_lines(self._text_lines(blocks), sections)):
            section.height = n * self.type.line_height
        items: list[_Item] = []
        y = self.top
        for block in blocks:
            if block.text:
                skip = 0
                if block.initial:
                    self._initial(y)
                    skip = 3 * self.type.line_height
                if block.beside is not None:
                    items += self._place_beside(block.beside, y + skip)
                if self.spec.text:
                    lines = block.height // self.type.line_height
                    self.type.section(y, lines, self.x0, self.x1, self.obstacles, indent=not block.initial)
            elif block.draw is not None:
                block.draw(y)
            items += [item.moved(0, y) for item in block.items]
            y += block.height + self.gap
        return items

    def _share_lines(self, total: int, sections: list[_Block]) -> list[int]:
        """`total` lines split at random between `sections`, each getting at least its minimum."""
        minimums = np.array([s.min_lines for s in sections], dtype=int)
        if minimums.sum() > total:
            minimums = minimums * max(total, 0) // max(int(minimums.sum()), 1)
        weights = self.rng.uniform(0.5, 1.5, len(sections))
        spare = total - int(minimums.sum())
        extra = np.floor(weights / weights.sum() * spare).astype(int)
        extra[: spare - int(extra.sum())] += 1  # the lines lost to rounding go to the first sections
        return [int(m + e) for m, e in zip(minimums, extra)]

    # Ornament blocks.

    def _render(self, label: str, pose: Pose) -> np.ndarray:
        key = (label, pose)
        if key not in self._canvas:
            self._canvas[key] = render_pose(self.pieces[label], pose, border_value=255)[0]
        return self._canvas[key]

    def _size(self, label: str, pose: Pose) -> tuple[int, int]:
        h, w = self._render(label, pose).shape
        return w, h

    def _pose(self, rotation: float = 0.0, flip: Flip = "none") -> Pose | None:
        """The pose at true size if the spec allows it, else None."""
        rotations = {normalise_angle(r) for r in self.spec.rotations}
        if normalise_angle(rotation) not in rotations or flip not in self.spec.flips:
            return None
        return Pose(normalise_angle(rotation), flip)

    def _row(self, label: str, count: int, left: Pose, right: Pose, gap: int | None = None) -> list[_Item]:
        """`count` pieces side by side from x = 0, the left half in `left`, the right half in `right`."""
        gap = int(self.rng.integers(3, 9)) if gap is None else gap
        items, x = [], 0
        for index in range(count):
            pose = left if index < math.ceil(count / 2) else right
            size = self._size(label, pose)
            items.append(_Item(label, pose, x, 0, size))
            x += size[0] + gap
        return items

    def _row_block(self, rows: list[list[_Item]], spacing: bool = False) -> _Block:
        """Rows stacked and centred on the text column; `spacing` spreads pieces of one row apart."""
        items, y = [], 0
        row_gap = int(self.rng.integers(3, 7))
        for row in rows:
            if spacing:
                row = self._spread(row, 2 * self.type.line_height)
            width = max(i.left + i.size[0] for i in row)
            height = max(i.size[1] for i in row)
            dx = (self.x0 + self.x1 - width) // 2
            items += [i.moved(dx, y + (height - i.size[1]) // 2) for i in row]
            y += height + row_gap
        return _Block(y - row_gap, items)

    @staticmethod
    def _spread(row: list[_Item], spacing: int) -> list[_Item]:
        out, x = [], 0
        for item in row:
            out.append(replace(item, left=x))
            x += item.size[0] + spacing
        return out

    def _fit_count(self, label: str, pose: Pose, wanted: int, width: int) -> int:
        piece_w = self._size(label, pose)[0]
        return max(1, min(wanted, (width + 3) // (piece_w + 8)))

    def _repeat_count(self, label: str, low: float, high: float) -> int:
        """How many pieces make a row spanning `low` to `high` of the text width, within spec.repeats."""
        width = self.x1 - self.x0
        wanted = round(self.rng.uniform(low, high) * width / (self._size(label, Pose())[0] + 6))
        return self._fit_count(label, Pose(), int(np.clip(wanted, *self.spec.repeats)), width)

    def _mirror_pair(self) -> tuple[Pose, Pose]:
        """Left and right half poses of a row: often symmetric about the centre."""
        mirrored = self._pose(flip="mirrored")
        return (Pose(), mirrored) if mirrored is not None and self.rng.random() < 0.7 else (Pose(), Pose())

    def _headpiece(self, kinds: list[str], rows: int) -> _Block:
        """One or two rows of repeated pieces; the second upside-down, turned 180 or of another piece."""
        label = kinds[0]
        left, right = self._mirror_pair()
        count = self._repeat_count(label, 0.7, 1.0)
        rows_items = [self._row(label, count, left, right)]
        if rows > 1:
            rows_items.append(self._second_row(kinds, label, count, rows_items[0]))
        block = self._row_block(rows_items)
        return self._ruled(block) if self.rng.random() < self.spec.clutter else block

    def _second_row(self, kinds: list[str], label: str, count: int, first: list[_Item]) -> list[_Item]:
        gap = first[1].left - first[0].left - first[0].size[0] if len(first) > 1 else 4
        # The first row reflected top to bottom: flipped pieces, and under mirrored ones flipped +
        # mirrored, which is turned 180. Without both poses allowed, a plain upside-down row.
        flipped, turned = self._pose(flip="flipped"), self._pose(180.0)
        choices = [p for p in (flipped, turned) if p is not None]
        if len(kinds) == 1 or (choices and self.rng.random() < 0.6):
            if not choices:
                return self._row(label, count, first[0].pose, first[-1].pose, gap)
            left = choices[int(self.rng.integers(len(choices)))]
            right = left
            if first[-1].pose != first[0].pose and flipped is not None and turned is not None:
                right = turned if left == flipped else flipped
            return self._row(label, count, left, right, gap)
        other = kinds[1]
        width = first[-1].left + first[-1].size[0]
        left, right = self._mirror_pair()
        return self._row(other, self._fit_count(other, Pose(), 99, width), left, right)

    def _ruled(self, block: _Block) -> _Block:
        """A thin rule above and below the block, as printers framed headpieces."""
        space, thick = 8, int(self.rng.integers(2, 4))
        items = [i.moved(0, space + thick) for i in block.items]
        height = block.height + 2 * (space + thick)

        def draw(top: int) -> None:
            for y in (top + thick // 2, top + height - 1 - thick // 2):
                cv2.line(self.ink, (self.x0, y), (self.x1, y), 30, thick)

        return _Block(height, items, draw)

    def _band(self, label: str) -> _Block:
        """A mid-page band of one piece, then a sub-heading under it."""
        left, right = self._mirror_pair()
        count = self._repeat_count(label, 0.4, 0.9)
        band = self._row_block([self._row(label, count, left, right)])
        size = round(self.type.body_size * 1.2)
        words = self.type.words.capitals(int(self.rng.integers(1, 3)))
        caption_top = band.height + self.gap
        height = caption_top + self.type.box_height(size)

        def draw(top: int) -> None:
            self.type.centred(words, top + caption_top, (self.x0 + self.x1) // 2, size, tracking=0.25)

        return _Block(height, band.items, draw)

    def _singles(self, count: int, plain: list[str]) -> list[_Block]:
        """Rows of up to three single pieces: a plain and a mirrored one for each of the `plain` labels
        (so that they have a template and more than one instance), then `count` at other scales and,
        when allowed, other angles."""
        pair = (Pose(), self._pose(flip="mirrored") or Pose())
        row = [_Item(label, pose, 0, 0, self._size(label, pose)) for label in plain for pose in pair]
        for _ in range(count):
            label = self.kinds[int(self.rng.integers(len(self.kinds)))]
            pose = self._single_pose()
            row.append(_Item(label, pose, 0, 0, self._size(label, pose)))
        return [self._row_block([row[i:i + 3]], spacing=True) for i in range(0, len(row), 3)]

    def _single_pose(self) -> Pose:
        """A pose the matcher's pose bank lists (its name for each transform), at another scale."""
        scale = self._single_scale()
        rotations = tuple(self.spec.rotations)
        poses = [p for p in pose_bank(rotations, True, (scale,)) if p.flip in self.spec.flips]
        odd = [p for p in poses if not is_right_angle(p.rotation)]
        pool = odd if odd and self.rng.random() < 0.6 else poses
        return pool[int(self.rng.integers(len(pool)))]

    def _single_scale(self) -> float:
        """A scale in the spec's range at least 8% away from 1 when the range allows it, else 1."""
        low, high = (math.log(v) for v in self.spec.scale_range)
        parts = [(a, b) for a, b in ((low, math.log(0.92)), (math.log(1.08), high)) if b > a]
        if not parts:
            return 1.0
        lengths = np.array([b - a for a, b in parts])
        a, b = parts[int(self.rng.choice(len(parts), p=lengths / lengths.sum()))]
        return round(math.exp(self.rng.uniform(a, b)), 3)

    def _tailpiece(self, label: str) -> _Block:
        """A cul-de-lampe: a pyramid of rows of one piece, each row symmetric about the centre."""
        left, right = self._mirror_pair()
        piece_h = self._size(label, Pose())[1]
        rows = max(1, min(int(self.rng.integers(2, 5)), int(0.13 * self.spec.height) // (piece_h + 5)))
        return self._row_block([self._row(label, n, left, right) for n in range(rows + 1, 1, -1)])

    def _attach_vertical_band(self, sections: list[_Block], count: int) -> None:
        """Pieces turned 90 (left) or 270 (right) stacked beside one text section; it grows to hold them."""
        turns = [(side, pose) for side, angle in (("left", 90.0), ("right", 270.0))
                 if (pose := self._pose(angle)) is not None]
        if not turns or not sections:
            return
        side, pose = turns[int(self.rng.integers(len(turns)))]
        narrow = [k for k in self.kinds if self._size(k, pose)[0] <= 0.12 * (self.x1 - self.x0)]
        if not narrow:
            return
        label = narrow[int(self.rng.integers(len(narrow)))]
        w, h = self._size(label, pose)
        step = h + int(self.rng.integers(3, 9))
        x = self.x0 if side == "left" else self.x1 - w
        band = _Block(count * step, [_Item(label, pose, x, i * step, (w, h)) for i in range(count)])
        host = sections[int(self.rng.integers(len(sections)))]
        host.beside = band
        skip = 3 if host.initial else 0
        host.min_lines = max(host.min_lines, skip + math.ceil(band.height / self.type.line_height) + 1)

    def _place_beside(self, band: _Block, top: int) -> list[_Item]:
        """The vertical band's pieces from `top` down; the text is set beside them."""
        items = [item.moved(0, top) for item in band.items]
        left = min(i.left for i in items)
        right = max(i.left + i.size[0] for i in items)
        self.obstacles.append((left, top, right, top + band.height))
        return items

    # Text furniture.

    def _running_head(self) -> _Block:
        size = round(self.type.body_size * 0.85)
        words = self.type.words.title(int(self.rng.integers(1, 4)))
        number = str(int(self.rng.integers(2, 400)))
        outer = self.rng.random() < 0.5

        def draw(top: int) -> None:
            centre = (self.x0 + self.x1) // 2
            self.type.centred(words, top, centre, size, italic=True)
            self.type.place(number, top, self.x1 - self.type.width(number, size) if outer else self.x0, size)

        return _Block(self.type.box_height(size), draw=draw)

    def _heading(self) -> _Block:
        """One or two lines of spaced capitals, the second smaller."""
        big = round(self.type.body_size * self.rng.uniform(1.7, 2.3))
        small = round(self.type.body_size * 1.3)
        lines = [(self.type.words.capitals(int(self.rng.integers(1, 3))), big)]
        if self.rng.random() < 0.6:
            lines.append((self.type.words.capitals(int(self.rng.integers(1, 4))), small))
        height = sum(self.type.box_height(s) for _, s in lines) + self.gap * (len(lines) - 1)

        def draw(top: int) -> None:
            y = top
            for words, size in lines:
                fitted = self.type.fit_words(words, size, 0.2, self.x1 - self.x0)
                self.type.centred(fitted, y, (self.x0 + self.x1) // 2, size, tracking=0.2)
                y += self.type.box_height(size) + self.gap

        return _Block(height, draw=draw)

    def _signature(self) -> _Block:
        """The signature mark and the catchword at the foot of the page."""
        size = self.type.body_size
        mark = f"{chr(65 + int(self.rng.integers(0, 20)))} {'i' * int(self.rng.integers(1, 4))}j"
        catchword = self.type.words.word()

        def draw(top: int) -> None:
            self.type.place(mark, top, (self.x0 + self.x1) // 2, size)
            self.type.place(catchword, top, self.x1 - self.type.width(catchword, size), size)

        return _Block(self.type.line_height, draw=draw)

    def _initial(self, top: int) -> None:
        """A framed, hatched initial two lines high at the start of the first paragraph: clutter."""
        size = 2 * self.type.line_height - 4
        square = Image.new("L", (size, size), 255)
        draw = ImageDraw.Draw(square)
        for offset in range(-size, size, 6):
            draw.line([(offset, size), (offset + size, 0)], fill=170, width=1)
        draw.rectangle([0, 0, size - 1, size - 1], outline=40, width=2)
        letter = chr(65 + int(self.rng.integers(0, 26)))
        font = _font(round(size * 0.95))
        x0, y0, x1, y1 = draw.textbbox((0, 0), letter, font=font)
        draw.rectangle([(size - x1 + x0) // 2 - 3, (size - y1 + y0) // 2 - 3, (size + x1 - x0) // 2 + 3,
                        (size + y1 - y0) // 2 + 3], fill=255)
        draw.text(((size - x1 - x0) / 2, (size - y1 - y0) / 2), letter, font=font, fill=0)
        _darken(self.ink, np.asarray(square), self.x0, top + 2)
        self.obstacles.append((self.x0, top + 2, self.x0 + size, top + 2 + size))

    def _specks(self, items: list[_Item]) -> None:
        """Stray ink specks on the page, kept off the ornaments so the truth stays clean."""
        near = np.zeros(self.ink.shape, bool)
        for i in items:
            near[max(0, i.top - 6):i.top + i.size[1] + 6, max(0, i.left - 6):i.left + i.size[0] + 6] = True
        h, w = self.ink.shape
        for _ in range(int(40 * self.spec.clutter)):
            x, y = int(self.rng.integers(8, w - 8)), int(self.rng.integers(8, h - 8))
            axes = (int(self.rng.integers(1, 3)), int(self.rng.integers(1, 3)))
            angle, tone = float(self.rng.uniform(0, 180)), int(self.rng.integers(20, 120))
            if not near[y, x]:
                cv2.ellipse(self.ink, (x, y), axes, angle, 0, 360, tone, -1)


# --- Text --------------------------------------------------------------------------------------


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's built-in font at `size` px: the same glyphs on every machine."""
    return ImageFont.load_default(size=size)


class _Words:
    """Random words with French letter frequencies: text that reads like text at a glance."""

    LETTERS = ("eeeeeeeeeeeeeeesssssssaaaaaaaaiiiiiiiittttttnnnnnnnrrrrrrruuuuuu"
               "lllllloooooddddcccmmmpppvvqfbghjxyz")
    LENGTHS = np.array([1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11])

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.sentence_left = 0

    def word(self) -> str:
        length = int(self.rng.choice(self.LENGTHS))
        return "".join(self.LETTERS[i] for i in self.rng.integers(0, len(self.LETTERS), length))

    def next(self) -> str:
        """The next word of running text, with capitals and punctuation."""
        word = self.word()
        if self.sentence_left <= 0:
            self.sentence_left = int(self.rng.integers(6, 22))
            word = word.capitalize()
        self.sentence_left -= 1
        if self.sentence_left == 0:
            return word + str(self.rng.choice(list("..;:?!"), p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05]))
        return word + ("," if self.rng.random() < 0.08 else "")

    def capitals(self, count: int) -> list[str]:
        return [self.word().upper() for _ in range(count)]

    def title(self, count: int) -> list[str]:
        return [self.word().capitalize() for _ in range(count)]


class _Typesetter:
    """Draws text into an ink layer (H, W) uint8, 255 = no ink, with Pillow's built-in font."""

    SHEAR = 0.21  # italic slant

    def __init__(self, rng: np.random.Generator, ink: np.ndarray, body_size: int) -> None:
        self.rng, self.ink, self.body_size = rng, ink, body_size
        self.words = _Words(rng)
        ascent, descent = _font(body_size).getmetrics()
        self.line_height = ascent + descent + max(2, body_size // 8)

    def width(self, text: str, size: int) -> int:
        return math.ceil(_font(size).getlength(text))

    def cap_height(self, size: int) -> int:
        return _font(size).getmetrics()[0]

    def box_height(self, size: int) -> int:
        """Height of a drawn line of `size` px type, ascender to descender."""
        return sum(_font(size).getmetrics())

    def place(self, text: str, top: int, left: int, size: int) -> None:
        """`text` with its ascender line at `top` and its left edge at `left`."""
        self._draw([(text, 0.0)], top, left, size, italic=False)

    def centred(self, words: list[str], top: int, centre: int, size: int, *, tracking: float = 0.0,
                italic: bool = False) -> None:
        """Words centred on `centre`, letters spread by `tracking` ems (spaced capitals)."""
        spaced = [self._track(w, size, tracking) for w in words]
        space = self.width(" ", size) * (1 + 2 * tracking)
        total = sum(self._tracked_width(w, size, tracking) for w in words) + space * (len(words) - 1)
        x = centre - total / 2
        pieces = []
        for word, letters in zip(words, spaced):
            pieces += [(ch, x + dx) for ch, dx in letters]
            x += self._tracked_width(word, size, tracking) + space
        left = math.floor(min((p[1] for p in pieces), default=centre))
        self._draw([(ch, px - left) for ch, px in pieces], top, left, size, italic)

    def fit_words(self, words: list[str], size: int, tracking: float, width: int) -> list[str]:
        """As many of `words` as fit on one line of `width` px (at least one)."""
        space = self.width(" ", size) * (1 + 2 * tracking)
        kept, total = [], 0.0
        for word in words:
            extra = self._tracked_width(word, size, tracking) + (space if kept else 0)
            if kept and total + extra > width:
                break
            kept.append(word)
            total += extra
        return kept

    def section(self, top: int, lines: int, x0: int, x1: int, obstacles: list[tuple[int, int, int, int]],
                *, indent: bool = True) -> None:
        """`lines` lines of justified body text; paragraphs indented, their last lines short."""
        size, lh = self.body_size, self.line_height
        paragraph_left, italic = int(self.rng.integers(4, 12)), False
        for index in range(lines):
            y = top + index * lh
            left, right = _free_span(x0, x1, y, y + lh, obstacles, gap=12)
            if italic:
                right -= math.ceil(self.SHEAR * self.cap_height(size))
            last = paragraph_left == 1 or index == lines - 1
            target = (right - left) * (self.rng.uniform(0.2, 0.8) if last else 1.0)
            start = left + (2 * size if indent else 0)
            words = self._take_words(size, target - (start - left))
            self._set_line(words, y, start, right, size, justify=not last, italic=italic)
            paragraph_left -= 1
            indent = paragraph_left == 0
            if indent:
                paragraph_left, italic = int(self.rng.integers(3, 14)), bool(self.rng.random() < 0.15)

    def _take_words(self, size: int, width: float) -> list[str]:
        space = self.width(" ", size)
        words, total = [], -space
        while True:
            word = self.words.next()
            if words and total + space + self.width(word, size) > width:
                self.words.sentence_left += 1  # the word goes unused; keep the sentence length honest
                return words
            words.append(word)
            total += space + self.width(word, size)

    def _set_line(self, words: list[str], top: int, left: int, right: int, size: int, *, justify: bool,
                  italic: bool) -> None:
        widths = [_font(size).getlength(w) for w in words]
        space = self.width(" ", size)
        if justify and len(words) > 1:
            space = max(space, (right - left - sum(widths)) / (len(words) - 1))
        pieces, x = [], 0.0
        for word, w in zip(words, widths):
            pieces.append((word, x))
            x += w + space
        self._draw(pieces, top, left, size, italic)

    def _draw(self, pieces: list[tuple[str, float]], top: int, left: int, size: int, italic: bool) -> None:
        """Text runs at x offsets from `left`, drawn on a strip and darkened into the ink layer."""
        font = _font(size)
        ascent, descent = font.getmetrics()
        width = math.ceil(max(x + font.getlength(t) for t, x in pieces)) + size
        strip = Image.new("L", (width, ascent + descent), 255)
        draw = ImageDraw.Draw(strip)
        for text, x in pieces:
            draw.text((x, ascent), text, font=font, fill=0, anchor="ls")
        if italic:
            shear = (1, self.SHEAR, -self.SHEAR * ascent, 0, 1, 0)
            strip = strip.transform(strip.size, Image.Transform.AFFINE, shear,
                                    resample=Image.Resampling.BILINEAR, fillcolor=255)
        _darken(self.ink, np.asarray(strip), left, top)

    def _track(self, word: str, size: int, tracking: float) -> list[tuple[str, float]]:
        step = tracking * size
        out, x = [], 0.0
        for ch in word:
            out.append((ch, x))
            x += _font(size).getlength(ch) + step
        return out

    def _tracked_width(self, word: str, size: int, tracking: float) -> float:
        return _font(size).getlength(word) + tracking * size * (len(word) - 1)


def _free_span(x0: int, x1: int, y0: int, y1: int, obstacles: list[tuple[int, int, int, int]],
               gap: int) -> tuple[int, int]:
    """The part of [x0, x1) a text line at rows [y0, y1) may use beside side obstacles."""
    left, right = x0, x1
    for ox0, oy0, ox1, oy1 in obstacles:
        if oy0 - gap < y1 and y0 < oy1 + gap:
            if ox0 - x0 <= x1 - ox1:
                left = max(left, ox1 + gap)
            else:
                right = min(right, ox0 - gap)
    return left, right


def _darken(ink: np.ndarray, patch: np.ndarray, left: int, top: int) -> None:
    """ink = min(ink, patch) with `patch` (h, w) placed at (left, top), clipped to the layer."""
    h, w = ink.shape
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(w, left + patch.shape[1]), min(h, top + patch.shape[0])
    if x1 > x0 and y1 > y0:
        region = ink[y0:y1, x0:x1]
        np.minimum(region, patch[y0 - top:y1 - top, x0 - left:x1 - left], out=region)


# --- Files -------------------------------------------------------------------------------------


def write_labelme(page: SyntheticPage, folder: Path | str, stem: str) -> Path:
    """Write `<stem>.png`, `<stem>.json` (LabelMe, one template rectangle per label) and `<stem>.truth.json`.

    The PNG is lossless, so the page's own JPEG step is its only compression. Returns the
    LabelMe JSON's path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    height, width = page.image.shape[:2]
    atomic_write_bytes(folder / f"{stem}.png", encode_png(page.image))
    shapes = [{"label": label, "points": [[x0, y0], [x1, y1]], "group_id": None, "description": "",
               "shape_type": "rectangle", "flags": {}, "mask": None}
              for label, (x0, y0, x1, y1) in page.templates.items()]
    labelme = {"version": LABELME_VERSION, "flags": {}, "shapes": shapes, "imagePath": f"{stem}.png",
               "imageData": None, "imageHeight": height, "imageWidth": width}
    truth = {"imagePath": f"{stem}.png", "imageHeight": height, "imageWidth": width,
             "templates": {label: list(box) for label, box in page.templates.items()},
             "ornaments": [_ornament_to_dict(o) for o in page.ornaments]}
    path = folder / f"{stem}.json"
    atomic_write_text(path, json.dumps(labelme, indent=2) + "\n")
    atomic_write_text(folder / f"{stem}.truth.json", json.dumps(truth, indent=1) + "\n")
    return path


def read_truth(path: Path | str) -> list[PlacedOrnament]:
    """The ornaments of a `<stem>.truth.json` written by `write_labelme`."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [_ornament_from_dict(o) for o in raw["ornaments"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a synthetic-page truth file ({exc})") from exc


def _ornament_to_dict(ornament: PlacedOrnament) -> dict:
    pose = ornament.pose
    return {"label": ornament.label, "box": list(ornament.box), "quad": ornament.quad.tolist(),
            "pose": {"rotation": pose.rotation, "flip": pose.flip, "scale": pose.scale}}


def _ornament_from_dict(raw: dict) -> PlacedOrnament:
    pose = raw["pose"]
    flip = pose["flip"]
    if flip not in FLIPS:
        raise ValueError(f"flip {flip!r} is not one of {FLIPS}")
    return PlacedOrnament(str(raw["label"]), Pose(float(pose["rotation"]), flip, float(pose["scale"])),
                          np.asarray(raw["quad"], dtype=float).reshape(4, 2),
                          tuple(float(v) for v in raw["box"]))
