"""The real cast fleurons bundled in resources/ornaments/, and what their symmetries make ambiguous."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dea_core.errors import DeaError
from dea_core.matching.poses import Pose

PIECES_DIR = Path(__file__).resolve().parents[2] / "resources" / "ornaments"
SYMMETRY_FILE = "pieces.json"

# Symmetry maps in template coordinates (x right, y down): the piece looks the same after them.
_MIRROR = np.diag([-1.0, 1.0])
_FLIP = np.diag([1.0, -1.0])


class PieceError(DeaError):
    """A piece folder or its pieces.json that cannot be read."""


@dataclass(frozen=True)
class PieceSymmetry:
    """Whether a piece looks the same mirrored (left-right) or flipped (upside-down)."""

    mirror_symmetric: bool = False
    flip_symmetric: bool = False

    def looks_same(self, a: Pose, b: Pose, *, angle_tol: float = 3.0, scale_tol: float = 0.08) -> bool:
        """True when the piece placed in pose `a` cannot be told from the piece in pose `b`."""
        if abs(a.scale / b.scale - 1.0) > scale_tol:
            return False
        tol = 2.0 * np.sin(np.radians(angle_tol) / 2.0) + 1e-9
        target = b.linear_map() / b.scale
        return any(np.abs(a.linear_map() / a.scale @ s - target).max() <= tol for s in self._maps())

    def _maps(self) -> list[np.ndarray]:
        maps = [np.eye(2)]
        if self.mirror_symmetric:
            maps.append(_MIRROR)
        if self.flip_symmetric:
            maps.append(_FLIP)
        if self.mirror_symmetric and self.flip_symmetric:
            maps.append(_MIRROR @ _FLIP)
        return maps


def load_pieces(folder: Path | str | None = None) -> dict[str, np.ndarray]:
    """Every `*.png` in `folder` (default: the bundled pieces), name -> (H, W) uint8, ink dark on light."""
    folder = Path(folder) if folder is not None else PIECES_DIR
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise PieceError(f"{folder}: no ornament pieces (*.png) in this folder")
    pieces = {}
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise PieceError(f"{path}: not a readable image")
        pieces[path.stem] = image
    return pieces


def load_symmetry(folder: Path | str | None = None) -> dict[str, PieceSymmetry]:
    """The symmetries recorded in `folder`/pieces.json; pieces missing there count as asymmetric."""
    path = (Path(folder) if folder is not None else PIECES_DIR) / SYMMETRY_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {name: PieceSymmetry(bool(v["mirror_symmetric"]), bool(v["flip_symmetric"]))
                for name, v in raw.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PieceError(f"{path}: expected {{name: {{mirror_symmetric, flip_symmetric}}}} ({exc})") from exc


def whiten_paper(piece: np.ndarray) -> np.ndarray:
    """The piece with its scanned paper tone lifted to white and its ink kept dark.

    piece: (H, W) uint8. Returns (H, W) uint8, 255 where there is no ink, so that compositing
    by multiplication leaves no visible box on the page around the piece.
    """
    values = piece.astype(np.float32)
    threshold, _ = cv2.threshold(piece, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper_pixels = values[values > threshold]
    paper = float(np.median(paper_pixels)) if paper_pixels.size else 255.0
    ink = float(np.percentile(values, 2))
    level = np.clip((values - ink) / max(paper - ink, 1.0), 0.0, 1.0)
    # Paper grain sits near level 1: push it fully white while keeping the ink edges soft.
    level = np.clip((level - 0.1) / 0.75, 0.0, 1.0)
    return np.round(255.0 * level).astype(np.uint8)
