"""Real pairs with hand-placed landmarks (benchmarks/data/alignment/*.landmarks.json), read and prepared.

Each file names a reference and a source picture (paths relative to the repository root), an
optional crop box [x0, y0, x1, y1] (x1, y1 exclusive) and a transform ("none", "rotate180",
"mirror") for each, and points [[xr, yr, xs, ys], ...]: the same ink feature in the prepared
reference and the prepared source, pixel centres at integers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dea_core.io.images import read_image

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = ROOT / "benchmarks" / "data" / "alignment"
_TRANSFORMS = {"none": lambda image: image, "rotate180": lambda image: image[::-1, ::-1],
               "mirror": lambda image: image[:, ::-1]}


@dataclass(frozen=True)
class LandmarkPair:
    name: str
    reference: np.ndarray
    source: np.ndarray
    reference_points: np.ndarray  # (N, 2) x, y in the prepared reference
    source_points: np.ndarray  # (N, 2) x, y in the prepared source


def read_landmark_pairs(folder: Path = DEFAULT_FOLDER, root: Path = ROOT) -> list[LandmarkPair]:
    """Every `*.landmarks.json` of `folder`, in name order, with its pictures prepared."""
    pairs = []
    for path in sorted(folder.glob("*.landmarks.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        points = np.asarray(entry["points"], np.float64).reshape(-1, 4)
        pairs.append(LandmarkPair(path.name.removesuffix(".landmarks.json"), _prepared(entry["reference"], root),
                                  _prepared(entry["source"], root), points[:, :2], points[:, 2:]))
    return pairs


def _prepared(side: dict, root: Path) -> np.ndarray:
    image = read_image(root / side["image"])
    if side.get("box") is not None:
        x0, y0, x1, y1 = (int(v) for v in side["box"])
        image = image[y0:y1, x0:x1]
    return np.ascontiguousarray(_TRANSFORMS[side.get("transform", "none")](image))
