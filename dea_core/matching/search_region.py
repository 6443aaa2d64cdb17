"""Where on the page to look for a template: its neighbourhood, or the whole page."""

from __future__ import annotations

from dataclasses import dataclass

# The original AutoLabelme's default: two template heights above and below.
DEFAULT_NEIGHBOURHOOD = 2.0
# Up to this value the neighbourhood counts template heights; above it, pixels.
HEIGHTS_LIMIT = 15.0


@dataclass(frozen=True)
class Band:
    """Rows [top, bottom) in which an occurrence's centre may lie; full page width.

    Centres, not edges: the report's worked example (a 100 px template at row 200, value 2,
    searched "from 0 to 400") counts the top-left corner's positions, which is the same band.
    """

    top: float
    bottom: float

    def contains(self, y: float) -> bool:
        return self.top <= y < self.bottom


def search_band(page_height: int, template_box: tuple[float, float, float, float],
                neighbourhood: float | None) -> Band:
    """The rows to search around a template box.

    neighbourhood: None for the whole page; s <= 15 for s template heights above and below
    the template's rows (the original tool's rule, headpieces run along rows); s > 15 pixels.
    """
    if neighbourhood is None:
        return Band(0.0, float(page_height))
    _, y0, _, y1 = template_box
    reach = neighbourhood * (y1 - y0) if neighbourhood <= HEIGHTS_LIMIT else neighbourhood
    centre = (y0 + y1) / 2
    return Band(max(0.0, centre - reach), min(float(page_height), centre + reach))
