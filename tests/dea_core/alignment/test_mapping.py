"""Sampling a dense mapping at many points at once."""

from __future__ import annotations

import numpy as np

from dea_core.alignment.mapping import identity_mapping, invert_points, sample_mapping


def test_more_points_than_opencv_maps_take_at_once():
    mapping = identity_mapping(300, 200)
    points = np.random.default_rng(0).uniform(0, 199, size=(50_000, 2)).astype(np.float32)
    # OpenCV interpolates with weights in 1/32 of a pixel.
    np.testing.assert_allclose(sample_mapping(mapping, points), points, atol=1 / 32)
    np.testing.assert_allclose(invert_points(mapping, points), points, atol=0.1)
