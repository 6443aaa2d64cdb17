"""The change set built from real vignettes cut from the shared page scans (benchmarks/data/dea/README.md).

Every occurrence of every sort listed in benchmarks/data/dea/occurrences.json is cut from its page
and turned to the sort's template pose (each occurrence is its own cast, inked and worn as printed).
The occurrences of a sort are split in two: even ones print the training headpieces, odd ones the
test headpieces, so no test vignette was seen in training (a block found once serves both).

A design is a row of (sort, pose) slots. A genuine headpiece fills each slot with an occurrence of
its split, at +-3% scale, +-1.5 px spacing, +-0.4 degrees; the ink (paper whitened) goes on new
paper with mild blur, noise and JPEG, nothing done to the ink itself. A changed headpiece alters one
slot: a foreign sort (another design's), a re-cut, broken, filled or cracked vignette (the generated
set's own changes, `composed.alter_ink`), a mirrored sort where the design has it plain, or a
missing one. Its mask is where its clean ink differs from that of the genuine headpiece of the same
draw (`composed.change_mask`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from dea_core.synth.composed import (
    GENUINE,
    MIN_CHANGED_PX,
    ChangeSample,
    Vignette,
    alter_ink,
    change_mask,
    draw_piece,
    print_ink,
)
from dea_core.synth.pieces import whiten_paper

REPO: Final = Path(__file__).resolve().parents[1]
OCCURRENCES: Final = REPO / "benchmarks" / "data" / "dea" / "occurrences.json"
REAL_KINDS: Final = ("replaced", "recut", "broken", "filled", "mirrored", "crack", "missing")
PRINTING: Final = {"paper": (0.2, 0.6), "blur": (0.1, 0.3), "noise": (0.05, 0.2), "jpeg": (0.1, 0.4)}
SYMMETRY_NCC: Final = 0.7  # as resources/ornaments/SOURCES.md: at least this with its mirror = symmetric
GAP_PX: Final = (4, 7)
SCALE: Final = 0.03
JITTER_PX: Final = (1.5, 1.0)
TILT_DEG: Final = 0.4
MARGIN_PX: Final = 16
_ATTEMPTS: Final = 40

# Rows of (sort, pose); each mixes sorts of several books, as a compositor's case would.
DESIGNS: Final = {
    "corneille": (("corneille1643_scroll", "none"), ("corneille1643_fleuron", "none"), ("corneille1643_scroll", "mirrored"),
                  ("holberg1741_crown", "none"), ("corneille1643_scroll", "none"), ("corneille1643_fleuron", "none"),
                  ("corneille1643_scroll", "mirrored")),
    "holberg": (("holberg1741_tulip", "none"), ("holberg1741_tulip", "mirrored"), ("holberg1741_rosette", "none"),
                ("holberg1741_tulip", "none"), ("holberg1741_tulip", "mirrored"), ("holberg1741_rosette", "none"),
                ("holberg1741_tulip", "none"), ("holberg1741_tulip", "mirrored")),
    "quinault": (("quinault1682_half_arch", "none"), ("quinault1682_half_arch", "mirrored"),
                 ("regnard1696_small_fleuron", "none"), ("quinault1682_half_arch", "none"),
                 ("quinault1682_half_arch", "mirrored")),
    "larmes": (("larmes1608_interlace", "none"), ("larmes1608_interlace", "mirrored"), ("holberg1741_wreath", "none"),
               ("larmes1608_interlace", "none"), ("larmes1608_interlace", "mirrored")),
    "theophile": (("sade1795_link", "none"), ("theophile1632_quarter", "none"), ("theophile1632_quarter", "mirrored"),
                  ("sade1795_link", "none"), ("theophile1632_quarter", "none"), ("theophile1632_quarter", "mirrored"),
                  ("sade1795_link", "none")),
    "regnard": (("regnard1696_fleuron", "none"), ("regnard1696_fleuron", "none"), ("tragiques1616_scroll", "none"),
                ("tragiques1616_scroll", "flipped"), ("regnard1696_fleuron", "none"), ("regnard1696_fleuron", "none")),
}


@dataclass(frozen=True)
class Sort:
    """One sort: its occurrences (h, w) uint8, paper whitened, in the template's pose, and its symmetry."""

    name: str
    occurrences: tuple[np.ndarray, ...]
    mirror_symmetric: bool
    flip_symmetric: bool

    def split(self, part: str) -> tuple[np.ndarray, ...]:
        """"train": the even occurrences, "test": the odd ones (both: the only one)."""
        if len(self.occurrences) == 1:
            return self.occurrences
        return self.occurrences[0 if part == "train" else 1::2]


def _to_template_pose(crop: np.ndarray, pose: str) -> np.ndarray:
    flips = {"none": crop, "mirrored": crop[:, ::-1], "flipped": crop[::-1], "rot180": crop[::-1, ::-1]}
    return np.ascontiguousarray(flips[pose])


def _self_ncc(piece: np.ndarray, other: np.ndarray, shift: int = 3) -> float:
    padded = cv2.copyMakeBorder(piece, shift, shift, shift, shift, cv2.BORDER_CONSTANT, value=255)
    return float(cv2.matchTemplate(padded, other, cv2.TM_CCOEFF_NORMED).max())


@cache
def load_sorts(path: Path = OCCURRENCES) -> dict[str, Sort]:
    """Every sort of the occurrences file, cut from its page (paths relative to the repository root)."""
    raw = json.loads(path.read_text(encoding="utf-8"))["sorts"]
    sorts = {}
    for name, entry in raw.items():
        page = cv2.imread(str(REPO / entry["page"]), cv2.IMREAD_GRAYSCALE)
        if page is None:
            raise FileNotFoundError(f"{entry['page']}: page scan not found (see ../shared/data/SOURCES.md)")
        crops = tuple(whiten_paper(_to_template_pose(page[y0:y1, x0:x1], o["pose"]))
                      for o in entry["occurrences"] for x0, y0, x1, y1 in [o["box"]])
        seed = crops[0]
        sorts[name] = Sort(name, crops, _self_ncc(seed, np.ascontiguousarray(seed[:, ::-1])) >= SYMMETRY_NCC,
                           _self_ncc(seed, np.ascontiguousarray(seed[::-1])) >= SYMMETRY_NCC)
    return sorts


def _canonical(sort: Sort, pose: str) -> str:
    if (pose == "mirrored" and sort.mirror_symmetric) or (pose == "flipped" and sort.flip_symmetric):
        return "none"
    return pose


def _frame(design: tuple[tuple[str, str], ...], sorts: dict[str, Sort]) -> tuple[int, int]:
    pieces = [sorts[name].occurrences[0] for name, _ in design]
    width = sum(p.shape[1] for p in pieces) * (1 + SCALE) + GAP_PX[1] * len(pieces) + 2 * MARGIN_PX
    height = max(p.shape[0] for p in pieces) * (1 + SCALE) + 2 * MARGIN_PX
    return int(np.ceil(height)), int(np.ceil(width))


def _slots(design, sorts, part, shape, rng) -> list[tuple[np.ndarray, str, tuple[float, float], float, float]]:
    """(piece, pose, centre, height, angle) of each slot of one printing."""
    scale = 1.0 + rng.uniform(-SCALE, SCALE)
    gap = rng.uniform(*GAP_PX)
    x, middle = float(MARGIN_PX), (shape[0] - 1) / 2
    slots = []
    for name, pose in design:
        choices = sorts[name].split(part)
        piece = choices[int(rng.integers(len(choices)))]
        h, w = piece.shape[0] * scale, piece.shape[1] * scale
        jx, jy = rng.uniform(-1.0, 1.0, 2) * JITTER_PX
        slots.append((piece, pose, (x + w / 2 + jx, middle + jy), h, float(rng.uniform(-TILT_DEG, TILT_DEG))))
        x += w + gap
    return slots


def make_sample(rng: np.random.Generator, design_name: str, part: str, kind: str = GENUINE) -> ChangeSample:
    """One headpiece of a design from the `part` ("train" or "test") occurrences, genuine or with one change."""
    sorts = load_sorts()
    design = DESIGNS[design_name]
    shape = _frame(design, sorts)
    layout_rng, change_rng, print_rng = rng.spawn(3)
    slots = _slots(design, sorts, part, shape, layout_rng)
    drawn = [draw_piece(piece, pose, centre, height, angle, shape) for piece, pose, centre, height, angle in slots]
    layers, boxes = [d[0] for d in drawn], [d[1] for d in drawn]
    labels = [name for name, _ in design]
    poses = [_canonical(sorts[name], pose) for name, pose in design]
    genuine = np.minimum.reduce(layers)
    changed, mask = None, np.zeros(shape, bool)
    if kind != GENUINE:
        changed, layers, labels, poses = _change(kind, design, slots, layers, labels, poses, shape, sorts, change_rng)
        ink = np.minimum.reduce(layers)
        mask = change_mask(genuine, ink)
    else:
        ink = genuine
    vignettes = [Vignette(label, pose, box, 1.0) for label, pose, box in zip(labels, poses, boxes)]
    image = print_ink(ink, print_rng, PRINTING)
    return ChangeSample(image, mask, kind, design_name, vignettes, changed)


def _change(kind, design, slots, layers, labels, poses, shape, sorts, rng):
    """One slot altered by `kind`, drawn again until the change shows; (index, layers, labels, poses)."""
    genuine = np.minimum.reduce(layers)
    used = {name for name, _ in design}
    foreign = sorted(set(sorts) - used)
    for _ in range(_ATTEMPTS):
        index = int(rng.integers(len(slots)))
        piece, pose, centre, height, angle = slots[index]
        name = design[index][0]
        label, new_pose, layer = labels[index], poses[index], None
        if kind == "replaced":
            label = foreign[int(rng.integers(len(foreign)))]
            other = sorts[label].occurrences[int(rng.integers(len(sorts[label].occurrences)))]
            fit = min(height / other.shape[0], piece.shape[1] * height / piece.shape[0] / other.shape[1])
            layer, _ = draw_piece(other, "none", centre, other.shape[0] * fit, angle, shape)
        elif kind == "mirrored":
            if pose != "none" or sorts[name].mirror_symmetric:
                continue
            new_pose = "mirrored"
            layer, _ = draw_piece(piece, "mirrored", centre, height, angle, shape)
        elif kind == "missing":
            layer = np.full(shape, 255, np.uint8)
        else:
            layer = alter_ink(kind, layers[index], _box_of(layers[index]), height, rng)
            if layer is None:
                continue
        trial = [*layers[:index], layer, *layers[index + 1:]]
        if (np.abs(genuine.astype(np.int16) - np.minimum.reduce(trial)) > 32).sum() >= MIN_CHANGED_PX:
            return (index, trial, [*labels[:index], label, *labels[index + 1:]],
                    [*poses[:index], new_pose, *poses[index + 1:]])
    raise ValueError(f"no visible '{kind}' change found for design {design} in {_ATTEMPTS} draws")


def _box_of(layer: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(layer < 255)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def real_change_set(rng: np.random.Generator, part: str, n_genuine: int, n_changed: int,
                    kinds: tuple[str, ...] = REAL_KINDS) -> list[ChangeSample]:
    """`n_genuine` genuine then `n_changed` changed headpieces (kinds and designs in turn) from `part`'s occurrences."""
    names = list(DESIGNS)
    seeds = rng.spawn(n_genuine + n_changed)
    samples = [make_sample(seeds[i], names[i % len(names)], part) for i in range(n_genuine)]
    for j in range(n_changed):
        kind, design = kinds[j % len(kinds)], names[(j // len(kinds)) % len(names)]
        samples.append(make_sample(seeds[n_genuine + j], design, part, kind))
    return samples


def known_sorts() -> list[str]:
    """Sorts some design holds: the ones a detector is trained on (the others only ever appear as foreign)."""
    return sorted({name for design in DESIGNS.values() for name, _ in design})
