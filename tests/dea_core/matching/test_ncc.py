import numpy as np
import pytest

from dea_core.matching.ncc import WindowSpread, local_peaks, ncc_map, ncc_near, self_similarity


def reference_ncc(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Brute-force zero-mean NCC in long double, independent of OpenCV."""
    image = image.astype(np.longdouble)
    t = template.astype(np.longdouble) - template.astype(np.longdouble).mean()
    h, w = template.shape
    out = np.zeros((image.shape[0] - h + 1, image.shape[1] - w + 1), np.longdouble)
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            window = image[y:y + h, x:x + w]
            window = window - window.mean()
            out[y, x] = (window * t).sum() / np.sqrt((window * window).sum() * (t * t).sum())
    return out


def test_ncc_map_equals_brute_force_reference():
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, (24, 30)).astype(np.float32)
    template = image[5:13, 7:17].copy()
    scores = ncc_map(image, template)
    expected = reference_ncc(image, template)
    assert scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected.astype(np.float64), atol=2e-4)
    assert np.unravel_index(scores.argmax(), scores.shape) == (5, 7)


def test_blank_template_scores_zero_everywhere():
    image = np.random.default_rng(0).uniform(0, 255, (20, 20)).astype(np.float32)
    assert not ncc_map(image, np.full((5, 5), 200, np.float32)).any()


def test_local_peaks_keep_one_peak_per_hill_above_floor():
    scores = np.zeros((30, 30), np.float32)
    scores[5, 5], scores[5, 6] = 0.9, 0.8
    scores[20, 22] = 0.7
    scores[25, 3] = 0.2
    peaks = {tuple(p) for p in local_peaks(scores, (2, 2), floor=0.5)}
    assert peaks == {(5, 5), (22, 20)}


def test_self_similarity_tolerates_a_small_shift_but_not_a_different_picture():
    rng = np.random.default_rng(1)
    base = np.full((40, 40), 230, np.float32)
    base[10:30, 12:20] = rng.uniform(0, 80, (20, 8))
    shifted = np.roll(base, 1, axis=1)
    other = np.full((40, 40), 230, np.float32)
    other[5:12, 5:35] = 10
    assert self_similarity(base, shifted) > 0.95
    assert self_similarity(base, other) < 0.5
    assert self_similarity(base, base[:, :30]) == -1.0


def test_window_spread_maps_equal_brute_force_for_direct_and_dft_templates():
    rng = np.random.default_rng(5)
    image = rng.uniform(0, 255, (40, 44)).astype(np.float32)
    spread = WindowSpread(image)
    # 5x7 is correlated directly, 14x12 by OpenCV's DFT; both share nothing but the image.
    for template in (image[3:8, 9:16].copy(), image[20:34, 25:37].copy()):
        np.testing.assert_allclose(spread.ncc_map(template), reference_ncc(image, template).astype(np.float64),
                                   atol=2e-4)


def test_window_spread_scores_flat_windows_zero():
    image = np.random.default_rng(1).uniform(0, 255, (30, 30)).astype(np.float32)
    image[:12, :12] = 230.0
    scores = WindowSpread(image).ncc_map(image[15:20, 15:21].copy())
    assert not scores[:7, :7].any()
    assert scores[15, 15] > 0.999


def test_ncc_near_is_the_best_of_the_reference_map_around_each_centre():
    rng = np.random.default_rng(5)
    image = rng.uniform(0, 255, (40, 36)).astype(np.float32)
    templates = [image[4:13, 6:17].copy(), image[20:31, 2:11].copy(), None, np.full((5, 5), 90, np.float32)]
    # (x, y) centres: one inside, one where some offsets leave the image, one where none fit.
    centres = np.array([[11, 8], [3, 35], [35, 1]])
    offsets = range(-1, 3)
    scores, moved = ncc_near(image, centres, templates, offsets)
    for n, (x, y) in enumerate(centres):
        for p, template in enumerate(templates):
            if template is None:
                assert scores[n, p] == -1.0
                continue
            h, w = template.shape
            full = reference_ncc(image, template) if template.std() > 0 else np.zeros((40 - h + 1, 36 - w + 1))
            near = [full[y - h // 2 + dy, x - w // 2 + dx] for dy in offsets for dx in offsets
                    if 0 <= y - h // 2 + dy < full.shape[0] and 0 <= x - w // 2 + dx < full.shape[1]]
            assert scores[n, p] == pytest.approx(float(max(near)) if near else -1.0, abs=2e-4)
    # The first template lies at its own place: the best of all is there, with no offset.
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-4)
    assert moved[0].tolist() == [11, 8]
