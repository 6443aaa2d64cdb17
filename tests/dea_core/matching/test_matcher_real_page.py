"""The matcher on a real 1696 page: a headpiece of two rows of 11 fleurons, the lower row upside down."""

import numpy as np
import pytest

from dea_core.errors import MatchCancelled, MatchOptionsError
from dea_core.io.labelme_json import load_label_file, load_label_image
from dea_core.matching.evaluation import same_pose
from dea_core.matching.matcher import MatchOptions, PageMatcher
from dea_core.matching.poses import Pose
from dea_core.paths import SAMPLE_PAGE_JSON

BOX = (239, 228, 314, 313)
TURNED = MatchOptions(rotations=(0, 180), flip=True, neighbourhood=None)


@pytest.fixture(scope="module")
def matcher() -> PageMatcher:
    return PageMatcher(load_label_image(load_label_file(SAMPLE_PAGE_JSON)))


def test_finds_both_rows_and_tells_upright_from_upside_down(matcher):
    matches = matcher.match("1", BOX, TURNED).above()
    template = matcher.gray[BOX[1]:BOX[3], BOX[0]:BOX[2]]
    top = [m for m in matches if m.centre[1] < 330]
    bottom = [m for m in matches if m.centre[1] >= 330]
    assert len(top) == 11 and len(bottom) == 11
    # Upside down is a turn of 180 or a vertical flip, which look alike for this fleuron.
    assert all(same_pose(template, m.pose, Pose()) for m in top)
    assert all(m.pose.linear_map()[1, 1] < 0 for m in bottom)
    assert sum(m.pose == Pose(180) for m in bottom) >= 9
    assert all(330 < m.centre[1] < 420 for m in bottom)


def test_the_template_itself_is_the_best_match(matcher):
    best = matcher.match("1", BOX, TURNED).matches[0]
    assert best.score > 0.99 and best.pose == Pose()
    np.testing.assert_allclose(best.box, BOX, atol=1)


def test_the_template_is_reported_even_when_no_searched_scale_is_exactly_one(matcher):
    best = matcher.match("1", BOX, MatchOptions(scales=(0.9, 0.995, 1.1))).matches[0]
    assert best.pose == Pose() and best.score == 1.0
    np.testing.assert_allclose(best.box, BOX)


def test_cancel_is_heard_while_a_large_pose_bank_is_prepared(matcher):
    calls = []
    many = MatchOptions(rotations=tuple(range(0, 360, 5)), flip=True, scales=(0.9, 1.0, 1.1))

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(MatchCancelled):
        matcher.match("1", BOX, many, cancel=cancel)
    assert len(calls) == 3


def test_upright_search_finds_only_the_upright_row(matcher):
    matches = matcher.match("1", BOX, MatchOptions(neighbourhood=None)).above(0.6)
    assert len(matches) == 11
    assert all(m.centre[1] < 330 for m in matches)


def test_raising_the_threshold_keeps_a_subset(matcher):
    result = matcher.match("1", BOX, TURNED)
    assert set(map(id, result.above(0.75))) < set(map(id, result.above(0.6)))


def test_progress_reaches_its_total_and_cancel_stops_the_search(matcher):
    seen = []
    matcher.match("1", BOX, TURNED, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(MatchCancelled):
        matcher.match("1", BOX, TURNED, cancel=lambda: True)


@pytest.mark.parametrize("box", [(10, 10, 12, 40), (5000, 5000, 5100, 5100)])
def test_a_box_too_small_or_off_the_page_is_refused_clearly(matcher, box):
    with pytest.raises(MatchOptionsError, match="template box"):
        matcher.match("1", box)
