"""Where on the page to look for a template: its neighbourhood, or the whole page."""

from __future__ import annotations

from dataclasses import dataclass

# The original AutoLabelme's default: two template heights above and below.
DEFAULT_NEIGHBOURHOOD = 2.0
# Up to this value the neighbourhood counts template heights; above it, pixels.
HEIGHTS_LIMIT = 15.0


@dataclass(frozen=True)
class Band:
    """Rows [top, bottom) in which an occurrence's centre may lie; full page width."""

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
    return Band(max(0.0, y0 - reach), min(float(page_height), y1 + reach))
