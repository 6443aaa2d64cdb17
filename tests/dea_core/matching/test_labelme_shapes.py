import numpy as np
import pytest

from dea_core.io.labelme_json import Shape, new_label_file
from dea_core.matching.labelme_shapes import match_to_shape, shape_to_match
from dea_core.matching.poses import Pose, pose_quad
from dea_core.matching.result import Match, MatchResult
from dea_core.matching.review import matched_label_file


def match(pose: Pose, centre=(50.0, 40.0), score=0.8, label="a") -> Match:
    return Match(label, score, pose, pose_quad(20, 10, pose, centre))


@pytest.mark.parametrize(("pose", "shape_type"), [(Pose(), "rectangle"), (Pose(90, "mirrored"), "rectangle"),
                                                  (Pose(30), "oriented_rectangle")])
def test_upright_poses_are_rectangles_and_oblique_ones_oriented_rectangles(pose, shape_type):
    shape = match_to_shape(match(pose))
    assert shape.shape_type == shape_type
    assert len(shape.points) == (2 if shape_type == "rectangle" else 4)
    assert shape.extra["match"]["rotation"] == pose.rotation and shape.extra["match"]["flip"] == pose.flip


def test_polygon_option_writes_four_points_for_old_labelme():
    shape = match_to_shape(match(Pose(45)), polygon=True)
    assert shape.shape_type == "polygon" and len(shape.points) == 4


@pytest.mark.parametrize("pose", [Pose(), Pose(180, "none", 1.2), Pose(0, "flipped"), Pose(90, "mirrored", 0.8),
                                  Pose(30, "flipped")])
def test_a_written_match_reads_back_as_the_same_match_corner_for_corner(pose):
    original = match(pose)
    again = shape_to_match(match_to_shape(original))
    assert again.pose.same_transform(original.pose)
    assert again.score == pytest.approx(original.score)
    # The corner order carries the orientation that de-rotating a crop needs.
    np.testing.assert_allclose(again.quad, original.quad, atol=0.01)


def test_shapes_drawn_by_hand_are_not_matches():
    assert shape_to_match(Shape("a", [[0, 0], [5, 5]])) is None


def test_matched_label_file_replaces_matched_labels_and_keeps_the_others():
    kept = Shape("other", [[0, 0], [3, 3]], shape_type="polygon")
    lf = new_label_file("page.png", 100, 100, [Shape("a", [[40, 35], [60, 45]], description="a sun"), kept])
    found = (match(Pose(), score=1.0), match(Pose(180), centre=(20, 20), score=0.7), match(Pose(), score=0.5))
    result = MatchResult("a", ((40, 35, 60, 45),), found, 0.4, 0.6)
    out = matched_label_file(lf, {"a": result})
    assert out.shapes[0] == kept
    matched = out.shapes[1:]
    assert len(matched) == 2
    assert [s.extra["match"]["template"] for s in matched] == [True, False]
    assert all(s.description == "a sun" for s in matched)
    assert len(lf.shapes) == 2
