"""Ink maps and error maps: paper and ink levels do not count, where the ink lies does."""

import numpy as np
import pytest

from dea_core.anomaly.heatmaps import ink_darkness, overlay_heatmap, pixel_error_map, ssim_error_map
from dea_core.dea.record import full_colour_heat


def _print(paper: float, ink: float, shift: int = 0) -> np.ndarray:
    """A 40 x 60 grey picture: a 12 x 16 block of ink (8% of it) on paper, moved right by `shift`."""
    image = np.full((40, 60), paper, np.float32)
    image[10:22, 20 + shift:36 + shift] = ink
    return np.round(image).astype(np.uint8)


def test_ink_darkness_is_zero_on_paper_and_one_on_ink():
    darkness = ink_darkness(_print(200, 40))
    assert darkness.dtype == np.float32 and darkness.shape == (40, 60)
    assert darkness[15, 25] == pytest.approx(1.0)
    assert darkness[2, 2] == pytest.approx(0.0)


def test_ink_darkness_ignores_paper_tint_and_contrast():
    assert np.allclose(ink_darkness(_print(200, 40)), ink_darkness(_print(235, 110)), atol=1e-6)
    colour = np.dstack([_print(190, 30), _print(215, 35), _print(230, 40)])  # yellowish paper, BGR
    assert np.abs(ink_darkness(colour) - ink_darkness(_print(200, 40))).max() < 0.02


def test_blank_paper_noise_is_not_stretched_into_ink():
    noise = np.random.default_rng(0).normal(220, 3, (40, 60))
    assert ink_darkness(np.clip(noise, 0, 255).astype(np.uint8)).max() < 0.5


def test_pixel_error_marks_moved_ink_only():
    error = pixel_error_map(_print(200, 40), _print(230, 100, shift=4))
    assert error.dtype == np.float32 and error.min() >= 0.0 and error.max() <= 1.0
    assert error[15, 21] == pytest.approx(1.0)  # ink only in the first
    assert error[15, 38] == pytest.approx(1.0)  # ink only in the second
    assert error[15, 28] == pytest.approx(0.0)  # ink in both, at other levels
    assert error[2, 2] == pytest.approx(0.0)


def test_ssim_error_is_low_for_the_same_ink_and_high_where_it_moved():
    same = ssim_error_map(_print(200, 40), _print(240, 120))
    assert same.shape == (40, 60) and same.max() < 0.05
    moved = ssim_error_map(_print(200, 40), _print(200, 40, shift=4))
    assert moved.min() >= 0.0 and moved.max() <= 1.0
    assert moved[15, 21] > 0.3
    assert moved[35, 5] < 0.01


def test_error_maps_refuse_different_sizes():
    with pytest.raises(ValueError):
        pixel_error_map(_print(200, 40), _print(200, 40)[:, :50])
    with pytest.raises(ValueError):
        ssim_error_map(_print(200, 40), _print(200, 40)[:30])


def test_overlay_is_transparent_where_heat_is_low():
    image = np.dstack([_print(200, 40)] * 3)
    heat = np.zeros((40, 60), np.float32)
    heat[10:20, 10:20] = 1.0
    heat[30:, :] = 0.1
    overlay = overlay_heatmap(image, heat)
    assert overlay.shape == image.shape and overlay.dtype == np.uint8
    assert np.array_equal(overlay[20:], image[20:])
    hot = overlay[10:20, 10:20].astype(int)
    assert np.all(hot[..., 2] - hot[..., 0] > 40)  # grey paper turned yellow (inferno's top): blue < red
    with pytest.raises(ValueError):
        overlay_heatmap(image, heat[:30])


def test_heat_at_the_alarm_threshold_is_shown_in_full_colour_and_the_same_heat_on_a_unit_scale_is_faint():
    image = np.dstack([_print(200, 40)] * 3)
    heat = np.zeros((40, 60), np.float32)
    heat[10:20, 10:20] = 0.37  # a changed vignette's worst pixels, as high as the redraw DEA's threshold
    on_threshold = overlay_heatmap(image, heat, full=0.37).astype(int)
    unit = overlay_heatmap(image, heat).astype(int)
    assert np.array_equal(on_threshold, overlay_heatmap(image, heat / 0.37).astype(int))
    def colour(overlay):  # grey paper has red = blue; inferno's top, yellow, has far more red than blue
        return (overlay[10:20, 10:20, 2] - overlay[10:20, 10:20, 0]).mean()

    assert colour(on_threshold) > 40 > 3 * colour(unit)
    assert np.array_equal(on_threshold[20:], image[20:])
    with pytest.raises(ValueError):
        overlay_heatmap(image, heat, full=0.0)
    assert full_colour_heat(0.37) == 0.37 and full_colour_heat(0.0) == 1.0  # a file without a usable threshold


def test_float_pictures_in_unit_range_give_the_same_ink():
    image = _print(200, 40)
    colour = np.dstack([image] * 3).astype(np.float64) / 255.0
    assert np.allclose(ink_darkness(colour), ink_darkness(image), atol=1e-5)
