"""What a match is, and the set of matches found for one template."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dea_core.matching.poses import Pose, is_right_angle


@dataclass(frozen=True)
class Match:
    """One occurrence of a template on the page.

    quad: (4, 2) page corners in the template's own order (top-left, top-right,
    bottom-right, bottom-left), so a rotated or flipped occurrence keeps its orientation.
    box: (x0, y0, x1, y1) the upright bounds of the quad, in page pixels.
    """

    label: str
    score: float
    pose: Pose
    quad: np.ndarray = field(repr=False, compare=False)

    # Cached: NMS and the row tests ask for them thousands of times; the quad never changes.
    # From the corners as Python floats: numpy's reductions cost more on four points.
    @cached_property
    def box(self) -> tuple[float, float, float, float]:
        xs, ys = self._corners
        return min(xs), min(ys), max(xs), max(ys)

    @cached_property
    def centre(self) -> tuple[float, float]:
        xs, ys = self._corners
        return sum(xs) / len(xs), sum(ys) / len(ys)

    @cached_property
    def _corners(self) -> tuple[list[float], list[float]]:
        xs, ys = np.asarray(self.quad, dtype=float).T.tolist()
        return xs, ys

    @property
    def is_upright(self) -> bool:
        """True when the box itself is the occurrence: a right-angle pose, no oblique turn."""
        return is_right_angle(self.pose.rotation)


@dataclass(frozen=True)
class MatchResult:
    """Every match of one label's template boxes down to `floor`, best first, and the
    threshold chosen for them (the user's, or the gap in the template's own scores, threshold.py).

    The GUI's + and - buttons filter by threshold without matching again: greedy NMS
    keeps the same boxes above a threshold whether it ran before or after the cut.
    """

    label: str
    template_boxes: tuple[tuple[float, float, float, float], ...]
    matches: tuple[Match, ...]
    floor: float
    threshold: float
    # True when the threshold is the gap in the matches' own scores, not the user's: competing
    # labels may then lower it (nms.compete).
    cut_from_scores: bool = False

    def above(self, threshold: float | None = None) -> list[Match]:
        """Matches scoring at least `threshold`, by default the result's own (best first)."""
        cut = self.threshold if threshold is None else threshold
        return [m for m in self.matches if m.score >= cut]
