"""Look for a template cut from one page on another page (AutoLabelme's folder mode).

The templates are cut from page A and searched on page B with `PageMatcher.match_image`, so
poses, scores and thresholds are exactly those of a template drawn on page B itself.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from dea_core.matching.matcher import CancelCheck, MatchOptions, PageMatcher, ProgressCallback, merge_results
from dea_core.matching.result import MatchResult

Box = tuple[float, float, float, float]


def template_crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of `box` on `image` ((H, W) or (H, W, 3) uint8), clipped to the page; a copy."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    ix0, iy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    ix1, iy1 = min(w, math.ceil(x1)), min(h, math.ceil(y1))
    return image[iy0:iy1, ix0:ix1].copy()


def match_templates_from_elsewhere(page: np.ndarray, label: str, templates: list[np.ndarray],
                                   options: MatchOptions = MatchOptions(), *,
                                   progress: ProgressCallback | None = None,
                                   cancel: CancelCheck | None = None) -> MatchResult:
    """Every occurrence on `page` of the ornament cut out in `templates` (from another page).

    page and templates: (H, W) gray or (H, W, 3) BGR uint8. The whole page is searched (a
    neighbourhood refers to the rows of a box on the page itself). The result has no template
    boxes, since none lies on this page; progress counts templates done.
    """
    return match_carried(PageMatcher(page), label, templates, options, progress=progress, cancel=cancel)


def match_carried(matcher: PageMatcher, label: str, templates: list[np.ndarray],
                  options: MatchOptions = MatchOptions(), *, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> MatchResult:
    """match_templates_from_elsewhere on a page whose matcher (and pyramid) exists already."""
    if not templates:
        raise ValueError(f"no template given for label {label!r}")
    whole_page = replace(options, neighbourhood=None)
    results = []
    for done, template in enumerate(templates, start=1):
        results.append(matcher.match_image(label, template, whole_page, cancel=cancel))
        if progress is not None:
            progress(done, len(templates))
    return merge_results(results)
