"""Page defects: off at strength 0, seeded, of the right kind, and the warp moves points like pixels."""

import cv2
import numpy as np
import pytest

from dea_core.synth import degrade


def _ink_layer() -> np.ndarray:
    """(200, 300) uint8: white with black strokes and a filled block, 255 = no ink."""
    ink = np.full((200, 300), 255, np.uint8)
    cv2.putText(ink, "fleuron", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    ink[120:180, 40:140] = 0
    return ink


def _page() -> np.ndarray:
    rng = np.random.default_rng(5)
    paper = degrade.aged_paper(rng, (200, 300), 1.0)
    return np.round(paper * (_ink_layer()[:, :, None] / 255.0)).astype(np.uint8)


IMAGE_DEFECTS = [degrade.ink_spread, degrade.ink_dropouts, degrade.blur, degrade.sensor_noise,
                 degrade.jpeg_compress]


@pytest.mark.parametrize("defect", IMAGE_DEFECTS, ids=lambda f: f.__name__)
def test_strength_zero_leaves_the_image_alone_and_the_seed_fixes_the_result(defect):
    image = _ink_layer() if defect in (degrade.ink_spread, degrade.ink_dropouts) else _page()
    assert np.array_equal(defect(image, np.random.default_rng(0), 0.0), image)
    first = defect(image, np.random.default_rng(1), 0.8)
    again = defect(image, np.random.default_rng(1), 0.8)
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert not np.array_equal(first, image)


def test_dropouts_only_lighten_and_only_inside_ink():
    ink = _ink_layer()
    out = degrade.ink_dropouts(ink, np.random.default_rng(2), 1.0)
    assert np.all(out >= ink)
    far_from_ink = cv2.erode(ink, np.ones((7, 7), np.uint8)) == 255
    assert np.array_equal(out[far_from_ink], ink[far_from_ink])
    assert np.any(out[120:180, 40:140] > 128)  # some holes in the solid block


def test_ink_spread_keeps_open_paper_and_moves_stroke_edges_by_at_most_a_pixel():
    ink = _ink_layer()
    out = degrade.ink_spread(ink, np.random.default_rng(3), 1.0)
    kernel = np.ones((3, 3), np.uint8)
    assert np.all(out >= cv2.erode(ink, kernel)) and np.all(out <= cv2.dilate(ink, kernel))


def test_show_through_darkens_with_the_mirrored_verso():
    page = np.full((100, 200, 3), 220, np.uint8)
    verso = np.full((100, 200), 255, np.uint8)
    verso[40:60, 10:50] = 0  # on the left of the verso, so on the right seen through the recto
    out = degrade.show_through(page, verso, np.random.default_rng(4), 1.0)
    assert np.all(out <= page)
    assert out[50, 170].mean() < 210 and np.array_equal(out[50, 30], page[50, 30])


def test_jpeg_keeps_the_page_close():
    page = _page()
    out = degrade.jpeg_compress(page, np.random.default_rng(6), 1.0)
    assert cv2.PSNR(page, out) > 25


def test_aged_paper_is_off_white_and_flat_at_strength_zero():
    rng = np.random.default_rng(7)
    flat = degrade.aged_paper(rng, (60, 80), 0.0)
    assert flat.shape == (60, 80, 3) and np.ptp(flat, axis=(0, 1)).max() == 0
    aged = degrade.aged_paper(rng, (400, 300), 1.0)
    blue, green, red = aged.reshape(-1, 3).mean(0)
    assert 180 < blue < green < red <= 255
    assert aged.std(axis=(0, 1)).max() > 1.0


def test_perspective_moves_corners_by_at_most_one_percent():
    homography = degrade.perspective_homography(np.random.default_rng(8), 1400, 2000, 1.0)
    corners = np.array([[0, 0], [1400, 0], [1400, 2000], [0, 2000]], float)
    moved = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), homography).reshape(-1, 2)
    shift = np.abs(moved - corners)
    assert np.all(shift[:, 0] <= 14 + 1e-6) and np.all(shift[:, 1] <= 20 + 1e-6)
    assert shift.max() > 2


def test_warp_points_follow_the_warped_pixels():
    """A small square's centre of mass after the image warp sits where warp_points puts its centre."""
    image = np.zeros((400, 300), np.uint8)
    image[100:110, 200:210] = 255  # continuous centre (205, 105)
    homography = degrade.perspective_homography(np.random.default_rng(9), 300, 400, 1.0)
    homography = homography @ np.array([[1, 0.04, -6], [0.03, 1, 9], [0, 0, 1.0]])  # a larger move to see
    warped = degrade.perspective_warp(image, homography).astype(float)
    ys, xs = np.mgrid[0:400, 0:300]
    found = np.array([(xs * warped).sum(), (ys * warped).sum()]) / warped.sum() + 0.5
    expected = degrade.warp_points(np.array([[205.0, 105.0]]), homography)[0]
    assert np.allclose(found, expected, atol=0.15)
