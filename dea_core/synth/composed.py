"""Composed headpieces of small cast vignettes, genuine or with one known change: the DEA's benchmark data.

A design is a fixed sequence of catalogue pieces in fixed poses, set once by a compositor and
reprinted: genuine samples vary only as hand-set type and printing vary (scale, spacing, a tiny
tilt, wear, paper, blur, noise, JPEG, misregistration). A changed sample alters one vignette
(replaced by a foreign piece, re-cut, broken, filled, mirrored or cracked) and records where: the
mask is where its clean ink differs from the genuine rendering of the same instance, dilated.

Every sample draws its layout, its change and its printing from three generators spawned from the
one it is given, so a changed sample and a genuine one made from equal generators share layout and
printing: they differ by the change alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from dea_core.errors import DeaError
from dea_core.io import (
    Shape,
    atomic_write_bytes,
    atomic_write_text,
    encode_png,
    new_label_file,
    read_image,
    save_label_file,
)
from dea_core.matching.poses import Flip
from dea_core.synth import degrade
from dea_core.synth.pages import print_on_paper
from dea_core.synth.pieces import load_pieces, load_symmetry, whiten_paper

CATALOGUE: Final = ("holberg1741_rosette", "holberg1741_tulip", "corneille1643_scroll", "regnard1696_fleuron")
FOREIGN: Final = ("larmes1608_interlace", "quinault1682_half_arch")
GENUINE: Final = "none"
CHANGE_KINDS: Final = ("replaced", "recut", "broken", "filled", "mirrored", "crack")
MANIFEST: Final = "change_set.json"

SCALE_RANGE: Final = (0.9, 1.1)
JITTER_PX: Final = (2.0, 1.0)  # hand-set spacing: +- x, +- y
TILT_DEG: Final = 0.4  # per vignette, and again for the whole headpiece
MISREGISTRATION_PX: Final = 2.0
MARGIN_PX: Final = 18
# Normal printing and scanning of a genuine copy: (low, high) strength of each degrade.py defect.
PRINTING: Final = {"ink_spread": (0.2, 0.6), "dropouts": (0.1, 0.5), "paper": (0.3, 0.8), "blur": (0.2, 0.6),
                   "noise": (0.1, 0.35), "jpeg": (0.1, 0.5)}
INK_CHANGE: Final = 32  # grey levels of clean ink that count as changed (fainter is invisible in print)
MASK_DILATION_PX: Final = 3
MIN_CHANGED_PX: Final = 30  # a smaller change is redrawn: it would not be visible
_ATTEMPTS: Final = 60

Box = tuple[float, float, float, float]


class ChangeSetError(DeaError):
    """A change-set folder that cannot be read (missing or broken manifest, missing picture)."""


@dataclass(frozen=True)
class Design:
    """A headpiece: rows of (piece, flip) vignettes `height` px tall, `gap` px apart, on a `frame` (w, h) image."""

    id: str
    rows: tuple[tuple[tuple[str, Flip], ...], ...]
    height: int
    gap: int
    frame: tuple[int, int]


@dataclass(frozen=True)
class Vignette:
    """One printed vignette: piece name, its design pose, its box (x0, y0, x1, y1) and drawn height / piece height."""

    label: str
    flip: Flip
    box: Box
    scale: float


@dataclass
class ChangeSample:
    """A composed headpiece. image: (H, W, 3) uint8 BGR; mask: (H, W) bool, empty for genuine ones.

    kind is GENUINE ("none") or one of CHANGE_KINDS; `changed` indexes the altered vignette.
    """

    image: np.ndarray
    mask: np.ndarray
    kind: str
    design: str
    vignettes: list[Vignette]
    changed: int | None = None


@dataclass(frozen=True)
class _Placement:
    """A vignette to draw: piece, pose, centre (x, y) in pixel-centre coordinates, height, tilt in degrees."""

    label: str
    flip: Flip
    centre: tuple[float, float]
    height: float
    angle: float


@dataclass(frozen=True)
class _Instance:
    """A drawn vignette: its placement, its own ink layer (H, W) uint8 (255 = no ink) and its box."""

    placement: _Placement
    layer: np.ndarray
    box: Box


# --- Designs -----------------------------------------------------------------------------------


@cache
def _pieces() -> dict[str, np.ndarray]:
    """Catalogue and foreign pieces, paper whitened: name -> (h, w) uint8."""
    pieces = load_pieces()
    return {name: whiten_paper(pieces[name]) for name in (*CATALOGUE, *FOREIGN)}


def _aspect(label: str) -> float:
    h, w = _pieces()[label].shape
    return w / h


def _canonical(label: str, flip: Flip) -> Flip:
    """The pose a person would name: a flip that leaves the piece unchanged is no flip."""
    symmetry = load_symmetry().get(label)
    if symmetry is not None and ((flip == "mirrored" and symmetry.mirror_symmetric)
                                 or (flip == "flipped" and symmetry.flip_symmetric)):
        return "none"
    return flip


def _symmetric_row(left: Sequence[str], centre: str) -> tuple[tuple[str, Flip], ...]:
    """left, centre, then left reversed and mirrored: a row symmetric about its centre."""
    right = [(label, _canonical(label, "mirrored")) for label in reversed(left)]
    return (*((label, "none") for label in left), (centre, "none"), *right)


def _row_width(row: Sequence[tuple[str, Flip]], height: float, gap: float) -> float:
    return sum(_aspect(label) * height for label, _ in row) + gap * (len(row) - 1)


def standard_designs(seed: int = 0, count: int = 4) -> list[Design]:
    """`count` fixed designs using every catalogue piece: one symmetric row of 7, or a row of 5 over a flipped row.

    The same seed gives the same designs; every design has a plain asymmetric vignette (so
    "mirrored" applies) and fits its frame at the largest scale with MARGIN_PX to spare.
    """
    rng = np.random.default_rng(seed)
    symmetric = [p for p in CATALOGUE if load_symmetry()[p].mirror_symmetric]
    designs = []
    for index in range(count):
        centre = str(rng.choice(symmetric))
        others = [str(p) for p in rng.permutation([p for p in CATALOGUE if p != centre])]
        gap = int(rng.integers(4, 7))
        if index % 2 == 0:
            rows = (_symmetric_row(others, centre),)
            height = int(rng.integers(44, 51))
        else:
            lower = [(p, _canonical(p, "flipped")) for p in (others[2], centre) * 2 + (others[2],)]
            rows = (_symmetric_row(others[:2], centre), tuple(lower))
            height = int(rng.integers(44, 55))
        top = SCALE_RANGE[1]
        width = max(_row_width(row, height, gap) for row in rows) * top
        tall = (len(rows) * height + (len(rows) - 1) * gap) * top
        frame = (int(np.ceil(width)) + 2 * MARGIN_PX, int(np.ceil(tall)) + 2 * MARGIN_PX)
        designs.append(Design(f"design{index}", rows, height, gap, frame))
    return designs


# --- Drawing -----------------------------------------------------------------------------------


def _layout(design: Design, rng: np.random.Generator) -> list[_Placement]:
    """Where each vignette of `design` falls in one printing: scale, spacing jitter, tilt, misregistration."""
    scale = rng.uniform(*SCALE_RANGE)
    height, gap = design.height * scale, design.gap * scale
    frame_w, frame_h = design.frame
    tilt = np.radians(rng.uniform(-TILT_DEG, TILT_DEG))
    shift = rng.uniform(-MISREGISTRATION_PX, MISREGISTRATION_PX, 2)
    middle = np.array([(frame_w - 1) / 2, (frame_h - 1) / 2])
    rotation = np.array([[np.cos(tilt), np.sin(tilt)], [-np.sin(tilt), np.cos(tilt)]])
    total = len(design.rows) * height + (len(design.rows) - 1) * gap
    placements = []
    for r, row in enumerate(design.rows):
        y = middle[1] - total / 2 + r * (height + gap) + height / 2
        x = middle[0] - _row_width(row, height, gap) / 2
        for label, flip in row:
            width = _aspect(label) * height
            jitter = rng.uniform(-1.0, 1.0, 2) * JITTER_PX
            centre = rotation @ (np.array([x + width / 2, y]) + jitter - middle) + middle + shift
            placements.append(_Placement(label, flip, (float(centre[0]), float(centre[1])), height,
                                         float(np.degrees(tilt) + rng.uniform(-TILT_DEG, TILT_DEG))))
            x += width + gap
    return placements


def _draw(placement: _Placement, shape: tuple[int, int]) -> _Instance:
    """The vignette alone on a blank ink layer of `shape` (H, W), with the box of its piece's rectangle."""
    layer, box = draw_piece(_pieces()[placement.label], placement.flip, placement.centre, placement.height,
                            placement.angle, shape)
    return _Instance(placement, layer, box)


def draw_piece(piece: np.ndarray, flip: Flip, centre: tuple[float, float], height: float, angle: float,
               shape: tuple[int, int]) -> tuple[np.ndarray, Box]:
    """A piece (h, w) uint8 (255 = no ink) in `flip`, scaled to `height` px, tilted by `angle` degrees and
    centred at `centre` (x, y) on a blank ink layer of `shape` (H, W); returns the layer and the piece's box."""
    if flip == "mirrored":
        piece = piece[:, ::-1]
    elif flip == "flipped":
        piece = piece[::-1, :]
    ph, pw = piece.shape
    middle = ((pw - 1) / 2, (ph - 1) / 2)
    matrix = cv2.getRotationMatrix2D(middle, angle, height / ph)
    matrix[:, 2] += np.asarray(centre) - middle
    layer = cv2.warpAffine(np.ascontiguousarray(piece), matrix, (shape[1], shape[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    corners = np.array([[-0.5, -0.5, 1], [pw - 0.5, -0.5, 1], [pw - 0.5, ph - 0.5, 1], [-0.5, ph - 0.5, 1]])
    points = corners @ matrix.T + 0.5  # pixel centres to continuous coordinates
    h, w = shape
    box = (max(0.0, points[:, 0].min()), max(0.0, points[:, 1].min()),
           min(float(w), points[:, 0].max()), min(float(h), points[:, 1].max()))
    return layer, tuple(float(v) for v in box)


def _compose(instances: Sequence[_Instance], shape: tuple[int, int]) -> np.ndarray:
    """The ink layer (H, W) uint8 of all instances together (darkest wins, as overprinted ink)."""
    ink = np.full(shape, 255, np.uint8)
    for instance in instances:
        np.minimum(ink, instance.layer, out=ink)
    return ink


def _print(ink: np.ndarray, rng: np.random.Generator, degraded: bool) -> np.ndarray:
    return print_ink(ink, rng, PRINTING if degraded else {})


def print_ink(ink: np.ndarray, rng: np.random.Generator, printing: dict[str, tuple[float, float]]) -> np.ndarray:
    """Ink (H, W) uint8 printed on paper and scanned with the defects of `printing` (name -> strength band,
    see PRINTING; a defect left out is not applied); (H, W, 3) uint8 BGR."""
    s = {name: rng.uniform(*printing[name]) if name in printing else 0.0 for name in PRINTING}
    ink = degrade.ink_dropouts(degrade.ink_spread(ink, rng, s["ink_spread"]), rng, s["dropouts"])
    page = print_on_paper(degrade.aged_paper(rng, ink.shape, s["paper"]), ink)
    page = degrade.sensor_noise(degrade.blur(page, rng, s["blur"]), rng, s["noise"])
    return degrade.jpeg_compress(page, rng, s["jpeg"])


# --- Changes -----------------------------------------------------------------------------------


def _edge_points(layer: np.ndarray) -> np.ndarray:
    """(N, 2) x, y of ink pixels next to paper."""
    ink = (layer < 128).astype(np.uint8)
    edge = ink & (cv2.erode(ink, np.ones((3, 3), np.uint8)) == 0)
    ys, xs = np.nonzero(edge)
    return np.stack([xs, ys], axis=1)


def _with_layer(instance: _Instance, layer: np.ndarray) -> _Instance:
    return replace(instance, layer=layer)


def _replaced(instance: _Instance, rng: np.random.Generator) -> _Instance:
    """A foreign piece in the vignette's place, scaled to fit its box."""
    p = instance.placement
    label = str(rng.choice(FOREIGN))
    height = p.height * min(1.0, _aspect(p.label) / _aspect(label))
    return _draw(replace(p, label=label, height=height), instance.layer.shape)


def _mirrored(instance: _Instance, rng: np.random.Generator) -> _Instance | None:
    """The vignette mirrored, where the design has it plain and mirroring shows."""
    p = instance.placement
    if p.flip != "none" or _canonical(p.label, "mirrored") == "none":
        return None
    return _draw(replace(p, flip="mirrored"), instance.layer.shape)


def _broken(instance: _Instance, rng: np.random.Generator) -> _Instance:
    """An outer part of the vignette broken off: the ink inside a ragged blob around an extreme point is gone."""
    points = _edge_points(instance.layer)
    direction = rng.normal(size=2)
    tip = points[np.argmax(points @ direction)]
    angles = np.sort(rng.uniform(0, 2 * np.pi, 10))
    radii = instance.placement.height * rng.uniform(0.14, 0.24) * rng.uniform(0.7, 1.3, 10)
    blob = np.round(tip + np.stack([np.cos(angles), np.sin(angles)], 1) * radii[:, None]).astype(np.int32)
    layer = instance.layer.copy()
    cv2.fillPoly(layer, [blob], 255)
    return _with_layer(instance, layer)


def _filled(instance: _Instance, rng: np.random.Generator) -> _Instance | None:
    """A counter (a hole or a deep notch of paper inside the vignette) filled with ink."""
    x0, y0, x1, y1 = (int(v) for v in instance.box)
    ink = (instance.layer[y0:y1, x0:x1] < 128).astype(np.uint8)
    size = max(3, int(instance.placement.height * 0.16) | 1)
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed & (1 - ink))
    area = ink.size
    candidates = [i for i in range(1, count) if 8 <= stats[i, cv2.CC_STAT_AREA] <= 0.06 * area]
    if not candidates:
        return None
    region = (labels == rng.choice(candidates)).astype(np.uint8)
    region = cv2.dilate(region, np.ones((3, 3), np.uint8))
    layer = instance.layer.copy()
    layer[y0:y1, x0:x1][region > 0] = 0
    return _with_layer(instance, layer)


def _crack(instance: _Instance, rng: np.random.Generator) -> _Instance:
    """A thin wavering white line across the vignette."""
    p = instance.placement
    ys, xs = np.nonzero(instance.layer < 128)
    centre = np.array([xs.mean(), ys.mean()]) + rng.normal(0, 0.08 * p.height, 2)
    angle = rng.uniform(0, np.pi)
    along, across = np.array([np.cos(angle), np.sin(angle)]), np.array([-np.sin(angle), np.cos(angle)])
    t = np.linspace(-0.5, 0.5, 9)[:, None] * p.height * rng.uniform(0.8, 1.2)
    wobble = np.cumsum(rng.normal(0, 0.5, 9))[:, None]
    line = np.round((centre + t * along + wobble * across) * 4).astype(np.int32)  # 2 fractional bits
    layer = instance.layer.copy()
    cv2.polylines(layer, [line], False, 255, max(1, round(0.035 * p.height)), cv2.LINE_AA, shift=2)
    return _with_layer(instance, layer)


def _recut(instance: _Instance, rng: np.random.Generator) -> _Instance:
    """A re-cut: the outline pushed a few pixels somewhere (a local warp), or a few strokes added or removed."""
    if rng.random() < 0.5:
        return _with_layer(instance, _local_warp(instance, rng))
    layer = instance.layer.copy()
    points = _edge_points(layer)
    h = instance.placement.height
    for _ in range(int(rng.integers(1, 4))):
        start = points[rng.integers(len(points))].astype(np.float64)
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.35, 4))
        steps = np.stack([np.cos(heading), np.sin(heading)], 1) * h * rng.uniform(0.04, 0.07)
        stroke = np.round((start + np.vstack([np.zeros((1, 2)), np.cumsum(steps, 0)])) * 4).astype(np.int32)
        value = 0 if rng.random() < 0.5 else 255
        cv2.polylines(layer, [stroke], False, value, max(2, round(0.05 * h)), cv2.LINE_AA, shift=2)
    return _with_layer(instance, layer)


def _local_warp(instance: _Instance, rng: np.random.Generator) -> np.ndarray:
    """The layer with its outline pushed by 5-9% of the height around one edge point (Gaussian bump)."""
    points = _edge_points(instance.layer)
    h = instance.placement.height
    cx, cy = points[rng.integers(len(points))]
    sigma = h * rng.uniform(0.08, 0.13)
    push = rng.normal(size=2)
    push *= h * rng.uniform(0.05, 0.09) / np.linalg.norm(push)
    ys, xs = np.mgrid[0:instance.layer.shape[0], 0:instance.layer.shape[1]].astype(np.float32)
    bump = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2))
    map_x, map_y = (xs - push[0] * bump).astype(np.float32), (ys - push[1] * bump).astype(np.float32)
    return cv2.remap(instance.layer, map_x, map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=255)


_CHANGES: Final[dict[str, Callable[[_Instance, np.random.Generator], _Instance | None]]] = {
    "replaced": _replaced, "recut": _recut, "broken": _broken, "filled": _filled, "mirrored": _mirrored,
    "crack": _crack,
}


_INK_CHANGES: Final = ("recut", "broken", "filled", "crack")


def alter_ink(kind: str, layer: np.ndarray, box: Box, height: float, rng: np.random.Generator) -> np.ndarray | None:
    """One vignette's ink layer (H, W) uint8 (its box, its height in px) re-cut, broken, filled or cracked as the
    generated set's vignettes are; None when the vignette has no place for that change (no counter to fill)."""
    if kind not in _INK_CHANGES:
        raise ValueError(f"alter_ink changes ink only: {kind!r} is not one of {', '.join(_INK_CHANGES)}")
    instance = _Instance(_Placement("", "none", (0.0, 0.0), height, 0.0), layer, box)
    changed = _CHANGES[kind](instance, rng)
    return None if changed is None else changed.layer


def change_mask(genuine_ink: np.ndarray, changed_ink: np.ndarray) -> np.ndarray:
    """(H, W) bool: where two clean ink layers (H, W) uint8 differ by INK_CHANGE levels, dilated by MASK_DILATION_PX."""
    differs = (np.abs(genuine_ink.astype(np.int16) - changed_ink.astype(np.int16)) > INK_CHANGE).astype(np.uint8)
    size = 2 * MASK_DILATION_PX + 1
    return cv2.dilate(differs, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0


def _apply_change(kind: str, instances: list[_Instance], rng: np.random.Generator,
                  shape: tuple[int, int]) -> tuple[int, list[_Instance]]:
    """One vignette changed by `kind`, redrawn until the change is visible. Returns its index and the instances."""
    genuine = _compose(instances, shape)
    for _ in range(_ATTEMPTS):
        index = int(rng.integers(len(instances)))
        changed = _CHANGES[kind](instances[index], rng)
        if changed is None:
            continue
        trial = [*instances[:index], changed, *instances[index + 1:]]
        differs = np.abs(genuine.astype(np.int16) - _compose(trial, shape)) > INK_CHANGE
        if differs.sum() >= MIN_CHANGED_PX:
            return index, trial
    raise ValueError(f"no visible '{kind}' change found for this design in {_ATTEMPTS} draws")


# --- Samples -----------------------------------------------------------------------------------


def generate_sample(rng: np.random.Generator, design: Design, kind: str = GENUINE, *,
                    degraded: bool = True) -> ChangeSample:
    """One printing of `design`, genuine (kind "none") or with one change of `kind`.

    `degraded=False` prints clean ink on flat paper (for tests). The same generator state gives
    the same sample, and the genuine sample of that state differs from a changed one by the change only.
    """
    if kind != GENUINE and kind not in _CHANGES:
        raise ValueError(f"unknown change kind {kind!r}; choose '{GENUINE}' or one of {', '.join(CHANGE_KINDS)}")
    layout_rng, change_rng, print_rng = rng.spawn(3)
    shape = (design.frame[1], design.frame[0])
    instances = [_draw(p, shape) for p in _layout(design, layout_rng)]
    genuine = _compose(instances, shape)
    changed, mask = None, np.zeros(shape, bool)
    if kind != GENUINE:
        changed, instances = _apply_change(kind, instances, change_rng, shape)
        mask = change_mask(genuine, _compose(instances, shape))
    vignettes = [Vignette(i.placement.label, i.placement.flip, i.box,
                          round(i.placement.height / _pieces()[i.placement.label].shape[0], 4))
                 for i in instances]
    image = _print(_compose(instances, shape), print_rng, degraded)
    return ChangeSample(image, mask, kind, design.id, vignettes, changed)


def generate_change_set(rng: np.random.Generator, n_genuine: int, n_changed: int,
                        designs: Sequence[Design] | None = None, kinds: Sequence[str] = CHANGE_KINDS, *,
                        degraded: bool = True) -> list[ChangeSample]:
    """`n_genuine` genuine then `n_changed` changed samples, kinds and designs taken in turn (balanced).

    designs: default `standard_designs()`. Each sample has its own generator spawned from `rng`.
    """
    designs = list(designs) if designs is not None else standard_designs()
    if n_changed and not kinds:
        raise ValueError("changed samples need at least one change kind")
    seeds = rng.spawn(n_genuine + n_changed)
    samples = [generate_sample(seeds[i], designs[i % len(designs)], degraded=degraded) for i in range(n_genuine)]
    for j in range(n_changed):
        kind, design = kinds[j % len(kinds)], designs[(j // len(kinds)) % len(designs)]
        samples.append(generate_sample(seeds[n_genuine + j], design, kind, degraded=degraded))
    return samples


# --- Files -------------------------------------------------------------------------------------


def write_change_set(folder: str | Path, samples: Sequence[ChangeSample], known: Sequence[str] = CATALOGUE) -> Path:
    """Write `<stem>.png`, `<stem>.mask.png`, a LabelMe `<stem>.json` per sample and the manifest; returns its path.

    The LabelMe file has one rectangle per vignette of a `known` piece (label = piece name, the design
    pose under the shape key "pose"); foreign vignettes get none, as the detector never learnt them.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for index, sample in enumerate(samples):
        stem = f"{index:04d}_{sample.kind}"
        atomic_write_bytes(folder / f"{stem}.png", encode_png(sample.image))
        atomic_write_bytes(folder / f"{stem}.mask.png", encode_png(sample.mask.astype(np.uint8) * 255))
        _write_labelme(sample, folder, stem, known)
        entries.append({"stem": stem, "kind": sample.kind, "design": sample.design, "changed": sample.changed,
                        "vignettes": [{"label": v.label, "flip": v.flip, "box": [round(c, 3) for c in v.box],
                                       "scale": v.scale} for v in sample.vignettes]})
    path = folder / MANIFEST
    atomic_write_text(path, json.dumps({"samples": entries}, indent=1) + "\n", overwrite=True)
    return path


def _write_labelme(sample: ChangeSample, folder: Path, stem: str, known: Sequence[str]) -> Path:
    height, width = sample.image.shape[:2]
    shapes = [Shape(label=v.label, points=[[round(v.box[0], 2), round(v.box[1], 2)],
                                           [round(v.box[2], 2), round(v.box[3], 2)]],
                    extra={"pose": {"rotation": 0.0, "flip": v.flip, "scale": v.scale}})
              for v in sample.vignettes if v.label in known]
    label_file = new_label_file(folder / f"{stem}.png", width, height, shapes)
    return save_label_file(label_file, folder / f"{stem}.json", overwrite=True)


def read_change_set(folder: str | Path) -> list[ChangeSample]:
    """The samples `write_change_set` wrote to `folder`, in order. Raises ChangeSetError."""
    folder = Path(folder)
    path = folder / MANIFEST
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["samples"]
        return [_read_sample(folder, entry) for entry in entries]
    except FileNotFoundError as error:
        raise ChangeSetError(f"{path}: not found; write the set with write_change_set first") from error
    except (ValueError, KeyError, TypeError) as error:
        raise ChangeSetError(f"{path}: not a change-set manifest ({error})") from error


def _read_sample(folder: Path, entry: dict) -> ChangeSample:
    stem = entry["stem"]
    image = read_image(folder / f"{stem}.png")
    mask = read_image(folder / f"{stem}.mask.png")[:, :, 0] > 127
    vignettes = [Vignette(str(v["label"]), v["flip"], tuple(float(c) for c in v["box"]), float(v["scale"]))
                 for v in entry["vignettes"]]
    return ChangeSample(image, mask, str(entry["kind"]), str(entry["design"]), vignettes, entry["changed"])
