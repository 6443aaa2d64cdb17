"""Mappings, their inverse and the set's pictures, against independent hand or OpenCV references."""

import io

import cv2
import numpy as np
from PIL import Image

from dea_core.alignment.coarse import rescaled_homography
from dea_core.alignment.mapping import (
    homography_mapping,
    inside_source,
    invert_points,
    resize_mapping,
    sample_mapping,
    warp_image,
)
from dea_core.alignment.products import average_picture, difference_picture, overlay_gif

H = np.array([[0.98, -0.05, 12.0], [0.04, 1.02, -7.0], [2e-5, -1e-5, 1.0]])


def test_sampling_and_inverting_a_homography_mapping_match_opencv():
    mapping = homography_mapping(H, 90, 120)
    points = np.array([[10.25, 20.5], [100.0, 3.0], [60.7, 80.2]])
    expected = cv2.perspectiveTransform(points.reshape(-1, 1, 2), H).reshape(-1, 2)
    # Bilinear between pixel centres, with OpenCV's 1/32 px interpolation weights.
    np.testing.assert_allclose(sample_mapping(mapping, points), expected, atol=0.05)
    back = invert_points(mapping, expected)
    np.testing.assert_allclose(back, points, atol=0.05)


def test_a_mapping_computed_small_and_resized_equals_the_one_computed_big():
    big = homography_mapping(H, 200, 300)
    small = homography_mapping(rescaled_homography(H, 0.5, 0.25), 100, 150)
    resized = resize_mapping(small, 200, 300, source_scale=0.25)
    np.testing.assert_allclose(resized[2:-2, 2:-2], big[2:-2, 2:-2], atol=0.05)


def test_warping_follows_the_mapping_and_marks_what_falls_outside():
    source = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    mapping = np.dstack(np.meshgrid(np.arange(30, dtype=np.float32) + 2, np.arange(20, dtype=np.float32)))
    warped = warp_image(source, mapping)
    np.testing.assert_array_equal(warped[:, :28], source[:, 2:])
    assert (warped[:, 29] == 255).all()
    assert inside_source(mapping, 20, 30)[:, :28].all() and not inside_source(mapping, 20, 30)[:, 28:].any()


def test_average_counts_each_source_only_where_it_has_pixels():
    reference = np.full((2, 2, 3), 100, np.uint8)
    aligned = [np.full((2, 2, 3), 200, np.uint8), np.full((2, 2, 3), 40, np.uint8)]
    inside = [np.array([[1, 1], [0, 0]], bool), np.array([[1, 0], [1, 0]], bool)]
    average = average_picture(reference, aligned, inside)[..., 0]
    np.testing.assert_array_equal(average, [[113, 150], [70, 100]])  # (100+200+40)/3, (100+200)/2, ...


def test_difference_shows_reference_only_ink_red_and_source_only_ink_blue():
    reference = np.full((40, 40, 3), 230, np.uint8)
    reference[5:10, 5:10] = 20  # ink in both, a little darker in the source
    source = np.full((40, 40, 3), 200, np.uint8)  # darker paper: not a difference
    source[5:10, 5:10] = 10
    source[25:30, 25:30] = 10  # a mark only in the source
    picture = difference_picture(reference, [source], [np.ones((40, 40), bool)])
    assert tuple(picture[1, 1]) == (255, 255, 255)
    assert tuple(picture[7, 7]) == (255, 255, 255)
    blue, green, red = picture[27, 27].astype(int)
    assert blue == 255 and red < 60 and green < 60
    reference[25:30, 25:30], source[25:30, 25:30] = 20, 200
    blue, green, red = difference_picture(reference, [source], [np.ones((40, 40), bool)])[27, 27].astype(int)
    assert red == 255 and blue < 60


def test_the_gif_loops_over_the_reference_and_each_aligned_source():
    frames = [np.full((30, 40, 3), v, np.uint8) for v in (0, 128, 255)]
    with Image.open(io.BytesIO(overlay_gif(frames))) as gif:
        assert gif.n_frames == 3 and gif.size == (40, 30) and gif.info["loop"] == 0
