"""The search options a person sets in the controls pane, and the engine options they stand for."""

from __future__ import annotations

from dataclasses import dataclass

from dea_core.errors import MatchOptionsError
from dea_core.matching.matcher import MatchOptions
from dea_core.matching.poses import rotation_range, scale_steps
from dea_core.matching.presets import WHOLE_ORNAMENT_ROTATIONS, WHOLE_ORNAMENT_SIZES
from dea_core.matching.search_region import DEFAULT_NEIGHBOURHOOD, HEIGHTS_LIMIT


@dataclass(frozen=True)
class SearchSettings:
    """Rotation as the original tool had it (min alone: that angle; min and max: every step
    degrees), flips on or off, sizes, and where to look (template heights, pixels, or the page).

    The defaults are the engine's WHOLE_ORNAMENT search (dea_core/matching/presets.py, also `dea
    demo`'s): a whole composed headpiece in one press. The original tool's defaults (upright only,
    two template heights around) are ORIGINAL_SEARCH.
    """

    rotation_min: float = WHOLE_ORNAMENT_ROTATIONS[0]
    rotation_max: float | None = WHOLE_ORNAMENT_ROTATIONS[-1]
    rotation_step: float = WHOLE_ORNAMENT_ROTATIONS[-1] - WHOLE_ORNAMENT_ROTATIONS[0]
    flip: bool = True
    neighbourhood: float = DEFAULT_NEIGHBOURHOOD
    whole_page: bool = True
    scale_min: float = WHOLE_ORNAMENT_SIZES[0]
    scale_max: float = WHOLE_ORNAMENT_SIZES[1]
    scale_count: int = WHOLE_ORNAMENT_SIZES[2]

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
        """A one-line summary, e.g. 'upright and turned 180°, mirrored and flipped, whole page'."""
        rotations = rotation_range(self.rotation_min, self.rotation_max, max(self.rotation_step, 1e-6))
        if rotations == (0.0,):
            parts = ["upright"]
        elif len(rotations) <= 4:
            parts = [(" and " if len(rotations) == 2 else ", ").join(
                "upright" if r == 0 else f"turned {r:g}°" for r in rotations)]
        else:
            parts = [f"{len(rotations)} rotations"]
        if self.flip:
            parts.append("mirrored and flipped")
        if self.scale_count > 1:
            parts.append(f"{self.scale_count} sizes")
        if self.whole_page:
            parts.append("whole page")
        elif self.neighbourhood <= HEIGHTS_LIMIT:
            parts.append(f"{self.neighbourhood:g} template heights around")
        else:
            parts.append(f"{self.neighbourhood:g} px around")
        return ", ".join(parts)


# The original AutoLabelme's search: upright copies only, two template heights above and below.
ORIGINAL_SEARCH = SearchSettings(rotation_max=None, rotation_step=5.0, flip=False, whole_page=False, scale_min=1.0,
                                 scale_max=1.0, scale_count=1)
