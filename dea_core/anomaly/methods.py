"""What a change-localisation method is to the benchmark: fit on genuine pictures, then score any picture."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np


@dataclass(frozen=True)
class ChangeScore:
    """How changed a picture looks: `pixel` (H, W) float32 on the picture's own grid, and one number for it."""

    pixel: np.ndarray
    image: float


class ChangeMethod(Protocol):
    """A method the benchmark can run: `fit` on genuine pictures, then `score` others, all (H, W, 3) uint8 BGR."""

    name: str

    def fit(self, genuine_images: list[np.ndarray]) -> None: ...

    def score(self, image: np.ndarray) -> ChangeScore: ...


def smoothed_score(error: np.ndarray, sigma: float) -> ChangeScore:
    """An error map (H, W) smoothed by a Gaussian of `sigma` px (a change is a patch, not lone pixels).

    The picture's score is the map's peak: the worst patch decides.
    """
    pixel = cv2.GaussianBlur(error.astype(np.float32), (0, 0), sigma) if sigma > 0 else error.astype(np.float32)
    return ChangeScore(pixel, float(pixel.max()))
