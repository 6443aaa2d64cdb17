"""The search options a person sets in the controls pane, and the engine options they stand for."""

from __future__ import annotations

from dataclasses import dataclass

from dea_core.errors import MatchOptionsError
from dea_core.matching.matcher import MatchOptions
from dea_core.matching.poses import rotation_range, scale_steps
from dea_core.matching.search_region import DEFAULT_NEIGHBOURHOOD, HEIGHTS_LIMIT


@dataclass(frozen=True)
class SearchSettings:
    """Rotation as the original tool had it (min alone: that angle; min and max: every step
    degrees), flips on or off, sizes, and where to look (template heights, pixels, or the page)."""

    rotation_min: float = 0.0
    rotation_max: float | None = None
    rotation_step: float = 5.0
    flip: bool = False
    neighbourhood: float = DEFAULT_NEIGHBOURHOOD
    whole_page: bool = False
    scale_min: float = 1.0
    scale_max: float = 1.0
    scale_count: int = 1

    def to_options(self, threshold: float | None) -> MatchOptions:
        """The engine's options; MatchOptionsError names the field to fix."""
        if self.rotation_step <= 0:
            raise MatchOptionsError("rotation step must be more than 0 degrees")
        if not 0 < self.scale_min <= self.scale_max:
            raise MatchOptionsError(f"sizes: 'from' ({self.scale_min:g}) must be more than 0 and at most "
                                    f"'to' ({self.scale_max:g})")
        if self.scale_count < 1:
            raise MatchOptionsError("sizes: the number of steps must be at least 1")
        if not self.whole_page and self.neighbourhood <= 0:
            raise MatchOptionsError("search space must be more than 0 (template heights up to "
                                    f"{HEIGHTS_LIMIT:g}, pixels above), or tick 'whole page'")
        rotations = rotation_range(self.rotation_min, self.rotation_max, self.rotation_step)
        if self.scale_count == 1 and self.scale_min == self.scale_max:
            scales: tuple[float, ...] = (self.scale_min,)
        else:
            scales = scale_steps(self.scale_min, self.scale_max, self.scale_count)
        return MatchOptions(threshold=threshold, rotations=rotations, flip=self.flip, scales=scales,
                            neighbourhood=None if self.whole_page else self.neighbourhood)

    def describe(self) -> str:
        """A one-line summary for the status bar, e.g. '2 rotations, flips, 5 sizes, whole page'."""
        rotations = rotation_range(self.rotation_min, self.rotation_max, max(self.rotation_step, 1e-6))
        parts = [f"{len(rotations)} rotations" if len(rotations) > 1 else f"rotation {rotations[0]:g}°"]
        if self.flip:
            parts.append("flips")
        if self.scale_count > 1:
            parts.append(f"{self.scale_count} sizes")
        if self.whole_page:
            parts.append("whole page")
        elif self.neighbourhood <= HEIGHTS_LIMIT:
            parts.append(f"{self.neighbourhood:g} template heights around")
        else:
            parts.append(f"{self.neighbourhood:g} px around")
        return ", ".join(parts)
