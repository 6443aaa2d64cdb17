"""Where to cut a template's matches: at the gap between its true occurrences and chance.

On a printed page the occurrences of an ornament score as a group well above the chance matches
(letters, rules, half pieces): they come from one block or one cast, inked alike. The widest gap
between consecutive scores, within a plausible range, is therefore the cut; a page whose scores
show no clear gap falls back on the size rule (small templates need more, see auto_threshold).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

# A gap narrower than this is not evidence: scores of one group are spaced this closely.
MIN_GAP = 0.08
# Cuts outside this range are not believed: under it chance matches of large ornaments reach; over
# it, worn or badly inked true occurrences fall.
CUT_RANGE = (0.45, 0.85)
# The template's own box scores 1 against itself: it says nothing about the others.
SELF_SCORE = 0.995
# Scores are searched down to this when the threshold comes from them, so chance matches are seen.
SEARCH_FLOOR = 0.3


def gap_threshold(scores: Iterable[float], floor: float, fallback: float) -> float:
    """The cut between a template's true group and its chance matches, in hundredths.

    scores: the scores of the template's matches after suppression, down to `floor` (the lowest
    score searched). fallback: the cut when no gap shows. Only gaps between scores seen count: a
    page holds letters and rules enough for chance matches to show, and the end of the list is
    where the search stopped, not evidence.
    """
    ordered = sorted((s for s in scores if floor <= s < SELF_SCORE), reverse=True)
    best: tuple[float, float, float] | None = None
    for high, low in itertools.pairwise(ordered):
        if high < CUT_RANGE[0] or low > CUT_RANGE[1] or high - low < MIN_GAP:
            continue
        if best is None or high - low > best[0]:
            best = (high - low, high, low)
    if best is None:
        return fallback
    _, high, low = best
    cut = math.floor((high + low) / 2 * 100) / 100
    return round(float(np.clip(cut, max(CUT_RANGE[0], low + 0.01), min(CUT_RANGE[1], high))), 2)


def cut_bounds(fallback: float) -> tuple[float, float]:
    """The lowest and highest cut gap_threshold can choose with this fallback, whatever the scores."""
    return min(CUT_RANGE[0], fallback), max(CUT_RANGE[1], fallback)
