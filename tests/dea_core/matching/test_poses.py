import numpy as np
import pytest

from dea_core.matching.poses import (
    Pose,
    pose_bank,
    pose_quad,
    posed_size,
    render_pose,
    rotation_range,
    scale_steps,
)


def asymmetric_template() -> np.ndarray:
    """A 20 x 30 picture with a dark mark in its top-left corner."""
    template = np.full((20, 30), 255, np.uint8)
    template[1:5, 1:7] = 0
    return template


@pytest.mark.parametrize(("pose", "expected"), [
    (Pose(0, "mirrored"), lambda t: t[:, ::-1]),
    (Pose(0, "flipped"), lambda t: t[::-1, :]),
    (Pose(90), lambda t: np.rot90(t, 1)),
    (Pose(180), lambda t: np.rot90(t, 2)),
    (Pose(270, "mirrored"), lambda t: np.rot90(t[:, ::-1], 3)),
])
def test_right_angle_poses_render_exactly(pose, expected):
    template = asymmetric_template()
    image, mask = render_pose(template, pose)
    np.testing.assert_array_equal(image, expected(template))
    assert mask.min() == 255


def test_flipped_is_mirrored_turned_half_way():
    assert Pose(0, "flipped").same_transform(Pose(180, "mirrored"))
    assert not Pose(0, "flipped").same_transform(Pose(0, "mirrored"))
    assert not Pose(90).same_transform(Pose(270))


def test_pose_bank_keeps_the_eight_symmetries_of_a_rectangle_once_each():
    poses = pose_bank((0, 90, 180, 270), flip=True)
    assert len(poses) == 8
    assert poses[0] == Pose()
    assert Pose(0, "flipped") in poses and Pose(180, "mirrored") not in poses


def test_pose_bank_counts_scales():
    assert len(pose_bank((0, 90, 180, 270), True, scale_steps(0.8, 1.25, 5))) == 40


@pytest.mark.parametrize("pose", [Pose(0), Pose(90), Pose(0, "mirrored"), Pose(30), Pose(45, "flipped", 1.3),
                                  Pose(200, "mirrored", 0.8)])
def test_quad_top_left_corner_is_where_the_template_top_left_lands(pose):
    template = asymmetric_template()
    image, _ = render_pose(template, pose, border_value=255)
    h, w = image.shape
    quad = pose_quad(30, 20, pose, (w / 2, h / 2))
    ys, xs = np.nonzero(image < 128)
    mark = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
    corner_distances = np.linalg.norm(quad - mark, axis=1)
    assert corner_distances.argmin() == 0
    assert posed_size(30, 20, pose) == pytest.approx((w, h), abs=1.01)


def test_rotation_range_follows_the_original_min_max_rule():
    assert rotation_range(45, None) == (45.0,)
    assert rotation_range(45, 90) == (45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0)
    assert rotation_range(-10, 0) == (350.0, 355.0, 0.0)


def test_scale_steps_are_log_spaced_and_include_the_ends():
    steps = scale_steps(0.8, 1.25, 5)
    assert steps[0] == pytest.approx(0.8) and steps[-1] == pytest.approx(1.25)
    assert steps[2] == pytest.approx(1.0)
    assert scale_steps(0.5, 2.0, 1) == (pytest.approx(1.0),)
