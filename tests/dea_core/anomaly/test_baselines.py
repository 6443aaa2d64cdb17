"""The benchmark's comparison methods on real composed headpieces: maps on the picture's grid, changes found."""

import numpy as np
import pytest
import torch

from dea_core.anomaly.baselines import (
    ConvAutoencoder,
    ConvAutoencoderNet,
    MeanOfAligned,
    default_alignment,
    fit_canvas,
)
from dea_core.synth.composed import ChangeSample, generate_change_set, generate_sample, standard_designs

DESIGN = standard_designs()[0]


@pytest.fixture(scope="module")
def genuine() -> list[np.ndarray]:
    return [s.image for s in generate_change_set(np.random.default_rng(1), 6, 0, [DESIGN])]


@pytest.fixture(scope="module")
def replaced() -> ChangeSample:
    return generate_sample(np.random.default_rng(2), DESIGN, "replaced")


@pytest.fixture(scope="module")
def mean_of_aligned(genuine) -> MeanOfAligned:
    method = MeanOfAligned(default_alignment(fine=False))
    method.fit(genuine)
    return method


def test_mean_of_aligned_finds_a_replaced_vignette(mean_of_aligned, replaced):
    score = mean_of_aligned.score(replaced.image)
    assert score.pixel.shape == replaced.mask.shape and score.pixel.dtype == np.float32
    assert score.pixel[replaced.mask].mean() > 3 * score.pixel[~replaced.mask].mean()
    assert score.image == pytest.approx(float(score.pixel.max()))


def test_mean_of_aligned_scores_a_genuine_copy_lower(mean_of_aligned, replaced):
    genuine_copy = generate_sample(np.random.default_rng(3), DESIGN)
    assert mean_of_aligned.score(genuine_copy.image).image < mean_of_aligned.score(replaced.image).image


def test_mean_of_aligned_maps_back_onto_a_shifted_picture(mean_of_aligned, replaced):
    # The same picture with 12 px of extra paper on the left: the map moves with the ornament.
    shifted = np.pad(replaced.image, ((0, 0), (12, 0), (0, 0)), mode="edge")
    plain, moved = mean_of_aligned.score(replaced.image).pixel, mean_of_aligned.score(shifted).pixel
    assert moved.shape == shifted.shape[:2]
    assert np.abs(moved[:, 12:] - plain)[replaced.mask].mean() < 0.25 * plain[replaced.mask].mean()


def test_methods_refuse_to_score_before_fit(replaced):
    with pytest.raises(RuntimeError):
        MeanOfAligned().score(replaced.image)
    with pytest.raises(RuntimeError):
        ConvAutoencoder().score(replaced.image)


def test_autoencoder_keeps_the_size_of_a_multiple_of_16():
    net = ConvAutoencoderNet(channels=(4, 8, 8, 8))
    with torch.no_grad():
        out = net(torch.rand(2, 1, 48, 80))
    assert out.shape == (2, 1, 48, 80) and float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_fit_canvas_pads_with_paper_and_shrinks_what_is_too_big():
    canvas, scale = fit_canvas(np.ones((10, 20), np.float32), (16, 32))
    assert scale == 1.0 and canvas[:10, :20].min() == 1.0 and canvas[10:].max() == 0.0 and canvas[:, 20:].max() == 0.0
    canvas, scale = fit_canvas(np.ones((40, 40), np.float32), (16, 32))
    assert scale == pytest.approx(0.4) and canvas.shape == (16, 32) and canvas[:, 16:].max() == 0.0


def test_autoencoder_training_is_seeded_and_learns(genuine, replaced):
    first, second = ConvAutoencoder(channels=(4, 8, 8, 8)), ConvAutoencoder(channels=(4, 8, 8, 8))
    first.fit(genuine, epochs=6, seed=4, batch_size=3)
    second.fit(genuine, epochs=6, seed=4, batch_size=3)
    assert first.losses == second.losses
    assert first.losses[-1] < first.losses[0]
    assert first.size is not None and all(s % 16 == 0 for s in first.size)
    score = first.score(replaced.image)
    assert score.pixel.shape == replaced.mask.shape and score.pixel.dtype == np.float32
    assert np.isfinite(score.pixel).all() and score.image == pytest.approx(float(score.pixel.max()))
