import numpy as np
import pytest

from dea_core.matching.nms import quad_iou, suppress
from dea_core.matching.poses import Pose, pose_quad
from dea_core.matching.result import Match
from dea_core.matching.search_region import search_band


def match_at(x: float, y: float, score: float, pose: Pose = Pose(), size=(20, 10)) -> Match:
    return Match("a", score, pose, pose_quad(size[0], size[1], pose, (x, y)))


def test_quad_iou_of_upright_boxes_matches_hand_computation():
    a = match_at(10, 5, 1).quad  # x 0..20, y 0..10
    b = match_at(20, 5, 1).quad  # x 10..30: overlap 10 x 10 = 100, union 300
    assert quad_iou(a, b) == pytest.approx(100 / 300)
    assert quad_iou(a, match_at(100, 100, 1).quad) == 0.0


def test_quad_iou_works_for_mirrored_quads_winding_the_other_way():
    plain = match_at(10, 5, 1).quad
    mirrored = match_at(10, 5, 1, Pose(0, "mirrored")).quad
    assert quad_iou(plain, mirrored) == pytest.approx(1.0)


def test_suppress_keeps_one_match_per_ornament_and_all_separate_ones():
    found = suppress([match_at(10, 5, 0.7), match_at(11, 5, 0.9), match_at(40, 5, 0.8), match_at(41, 6, 0.5)])
    assert [round(m.score, 2) for m in found] == [0.9, 0.8]


def test_suppress_reports_the_plain_pose_when_a_flip_ties_with_it():
    found = suppress([match_at(10, 5, 0.905, Pose(0, "mirrored")), match_at(10, 5, 0.9, Pose())])
    assert len(found) == 1 and found[0].pose == Pose()
    clear_win = suppress([match_at(10, 5, 0.95, Pose(0, "mirrored")), match_at(10, 5, 0.8, Pose())])
    assert clear_win[0].pose == Pose(0, "mirrored")


def reference_nms(candidates: list[Match], iou: float, share: float = 0.25) -> list[Match]:
    """Textbook greedy NMS on upright boxes: keep the best, drop what overlaps any kept one by
    more than `iou`, or covers more than `share` of the smaller box, repeat."""
    def overlap(a, b):
        iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        areas = [(q[2] - q[0]) * (q[3] - q[1]) for q in (a, b)]
        return iw * ih / (sum(areas) - iw * ih), iw * ih / min(areas)

    kept: list[Match] = []
    for m in sorted(candidates, key=lambda c: -c.score):
        if all(overlap(m.box, k.box)[0] <= iou and overlap(m.box, k.box)[1] <= share for k in kept):
            kept.append(m)
    return kept


def test_a_flip_must_win_by_part_of_the_gap_a_real_flip_would_make():
    # The template looks 40% alike mirrored: a real mirrored occurrence would beat the upright
    # pose by about 0.6 of its score; a lead of 0.04 is noise, a lead of 0.5 is not.
    likeness = lambda a, b: 0.4
    noise = suppress([match_at(10, 5, 0.72, Pose(0, "mirrored")), match_at(10, 5, 0.68, Pose())], likeness=likeness)
    real = suppress([match_at(10, 5, 0.8, Pose(0, "mirrored")), match_at(10, 5, 0.3, Pose())], likeness=likeness)
    assert noise[0].pose == Pose()
    assert real[0].pose == Pose(0, "mirrored")


def test_suppress_against_brute_force_on_random_candidates():
    rng = np.random.default_rng(7)
    candidates = [match_at(*rng.uniform(0, 80, 2), rng.uniform(0.3, 1.0)) for _ in range(60)]
    kept = suppress(candidates, tie=0.0)
    expected = reference_nms(candidates, 0.3)
    assert [id(m) for m in kept] == [id(m) for m in expected]


def test_suppress_against_brute_force_on_boxes_sharing_edges_and_of_many_sizes():
    # A grid puts many boxes on one left edge and edge to edge (touching is no overlap), as rows
    # of pieces do; the sizes make long boxes reach past many shorter ones along the page.
    rng = np.random.default_rng(11)
    candidates = [match_at(float(rng.integers(0, 12)) * 5, float(rng.integers(0, 12)) * 5, rng.uniform(0.3, 1.0),
                           size=(int(rng.choice([5, 10, 40])), int(rng.choice([5, 10, 40]))))
                  for _ in range(150)]
    kept = suppress(candidates, tie=0.0)
    expected = reference_nms(candidates, 0.3)
    assert [id(m) for m in kept] == [id(m) for m in expected]


def test_search_band_follows_the_reports_worked_example():
    # Template at (200, 200), 100 x 100, search space 2: top-left corners from row 0 to 400,
    # so centres from 50 to 450.
    band = search_band(3000, (200, 200, 300, 300), 2)
    assert (band.top, band.bottom) == (50, 450)
    # Above 15 the value is in pixels: corners from 100 to 300.
    pixels = search_band(3000, (200, 200, 300, 300), 100)
    assert (pixels.top, pixels.bottom) == (150, 350)
    page = search_band(3000, (200, 200, 300, 300), None)
    assert (page.top, page.bottom) == (0, 3000)
