"""Default boxes (priors) of SSD300: one fact, one place.

Two layouts on the six feature maps 38, 19, 10, 5, 3, 1 with scales 0.1, 0.2, 0.375, 0.55, 0.725,
0.9 (the internship report's values):

- "ssd300": 4 or 6 boxes per cell (aspect ratios 1, 2, 1/2 and, on the middle maps, 3, 1/3, plus
  one of scale sqrt(s_k * s_k+1)), 8732 boxes, as in the SSD paper;
- "fast": the report's faster variant, one box per cell with aspect ratio 2, 1940 boxes. Ornaments
  never overlap and a crop holds few of them, so one box per cell loses little and trains faster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import torch

FEATURE_MAPS: Final = (38, 19, 10, 5, 3, 1)
SCALES: Final = (0.1, 0.2, 0.375, 0.55, 0.725, 0.9)
# Extra ratios per map beside 1 (ratio r also gives 1/r): 4 boxes where only 2, 6 where 2 and 3.
SSD300_RATIOS: Final = ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))
FAST_RATIO: Final = 2.0
LAYOUTS: Final = ("ssd300", "fast")


@dataclass(frozen=True)
class PriorLayout:
    """Which default boxes each cell gets. `name` is "ssd300" (8732 boxes) or "fast" (1940)."""

    name: str = "ssd300"

    def __post_init__(self) -> None:
        if self.name not in LAYOUTS:
            raise ValueError(f"unknown prior layout {self.name!r}; choose one of {', '.join(LAYOUTS)}")

    def boxes_per_cell(self) -> tuple[int, ...]:
        """Number of default boxes at each cell of each feature map."""
        if self.name == "fast":
            return tuple(1 for _ in FEATURE_MAPS)
        return tuple(2 + 2 * len(ratios) for ratios in SSD300_RATIOS)

    def shapes(self, level: int) -> list[tuple[float, float]]:
        """(width, height) of the boxes of one cell of map `level`, in units of the input size."""
        scale = SCALES[level]
        if self.name == "fast":
            return [(scale * math.sqrt(FAST_RATIO), scale / math.sqrt(FAST_RATIO))]
        next_scale = SCALES[level + 1] if level + 1 < len(SCALES) else 1.0
        between = math.sqrt(scale * next_scale)
        shapes = [(scale, scale), (between, between)]
        for ratio in SSD300_RATIOS[level]:
            root = math.sqrt(ratio)
            shapes += [(scale * root, scale / root), (scale / root, scale * root)]
        return shapes


def make_priors(layout: PriorLayout = PriorLayout()) -> torch.Tensor:
    """Default boxes as (P, 4) float32 (cx, cy, w, h) in [0, 1] units of the input, clipped to [0, 1].

    Order: map by map, row by row, cell by cell, then the cell's shapes, the order of the heads'
    outputs after `permute(0, 2, 3, 1)`.
    """
    rows = []
    for level, size in enumerate(FEATURE_MAPS):
        shapes = layout.shapes(level)
        for i in range(size):
            for j in range(size):
                cx, cy = (j + 0.5) / size, (i + 0.5) / size
                rows.extend((cx, cy, w, h) for w, h in shapes)
    return torch.tensor(rows, dtype=torch.float32).clamp_(0.0, 1.0)
