"""RoIAlign against a brute-force reference written point by point from the definition."""

from __future__ import annotations

import math

import pytest
import torch

from dea_core.dea.roi_align import roi_align


def _bilinear_point(plane: torch.Tensor, y: float, x: float) -> float:
    height, width = plane.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(math.floor(y)), int(math.floor(x))
    if y_low >= height - 1:
        y_low = y_high = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_low = x_high = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    return float((1 - ly) * (1 - lx) * plane[y_low, x_low] + (1 - ly) * lx * plane[y_low, x_high]
                 + ly * (1 - lx) * plane[y_high, x_low] + ly * lx * plane[y_high, x_high])


def _reference(features, rois, k, scale, ratio, aligned, mode):
    out = torch.zeros(len(rois), features.shape[1], k, k, dtype=torch.float64)
    offset = 0.5 if aligned else 0.0
    for r, (b, x0, y0, x1, y1) in enumerate(rois.tolist()):
        sx, sy = x0 * scale - offset, y0 * scale - offset
        w, h = x1 * scale - offset - sx, y1 * scale - offset - sy
        if not aligned:
            w, h = max(w, 1.0), max(h, 1.0)
        bh, bw = h / k, w / k
        gh = ratio if ratio > 0 else math.ceil(bh)
        gw = ratio if ratio > 0 else math.ceil(bw)
        for c in range(features.shape[1]):
            plane = features[int(b), c].double()
            for i in range(k):
                for j in range(k):
                    values = [_bilinear_point(plane, sy + i * bh + (iy + 0.5) * bh / gh,
                                              sx + j * bw + (ix + 0.5) * bw / gw)
                              for iy in range(gh) for ix in range(gw)]
                    if values:
                        out[r, c, i, j] = max(values) if mode == "max" else sum(values) / len(values)
    return out


def _rois() -> torch.Tensor:
    return torch.tensor([
        [0, 10.0, 12.0, 120.0, 90.0],    # an ordinary box
        [1, 0.0, 0.0, 300.0, 300.0],     # the whole picture
        [0, 250.0, 270.0, 330.0, 340.0],  # reaching past the bottom-right edge
        [1, 40.3, 41.7, 44.1, 43.2],     # smaller than one cell
        [0, -20.0, 100.0, 30.0, 180.0],  # starting left of the picture
    ])


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("ratio", [-1, 2])
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_matches_brute_force(aligned, ratio, mode):
    generator = torch.Generator().manual_seed(3)
    features = torch.randn(2, 3, 19, 19, generator=generator)
    got = roi_align(features, _rois(), 5, spatial_scale=19 / 300, sampling_ratio=ratio, aligned=aligned, mode=mode)
    expected = _reference(features, _rois(), 5, 19 / 300, ratio, aligned, mode)
    assert got.shape == (5, 3, 5, 5)
    torch.testing.assert_close(got.double(), expected, atol=1e-5, rtol=1e-5)


def test_constant_map_gives_the_constant_inside():
    features = torch.full((1, 2, 10, 10), 7.0)
    got = roi_align(features, torch.tensor([[0, 2.0, 2.0, 8.0, 8.0]]), (3, 4), aligned=True)
    assert got.shape == (1, 2, 3, 4)
    torch.testing.assert_close(got, torch.full((1, 2, 3, 4), 7.0))


def test_gradients_reach_the_features():
    features = torch.randn(1, 4, 8, 8, requires_grad=True)
    roi_align(features, torch.tensor([[0, 1.0, 1.0, 6.5, 5.0]]), 2, sampling_ratio=2).sum().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0


def test_no_boxes_and_unknown_mode():
    features = torch.randn(1, 4, 8, 8)
    assert roi_align(features, torch.zeros(0, 5), 5).shape == (0, 4, 5, 5)
    with pytest.raises(ValueError, match="mode"):
        roi_align(features, torch.zeros(0, 5), 5, mode="median")


def test_agrees_with_torchvision_when_it_loads():
    ops = pytest.importorskip("torchvision.ops")
    features = torch.randn(2, 3, 19, 19)
    for aligned in (False, True):
        try:
            expected = ops.roi_align(features, _rois(), 5, 19 / 300, -1, aligned)
        except (RuntimeError, NotImplementedError) as error:
            pytest.skip(f"torchvision's compiled roi_align does not run here: {error}")
        torch.testing.assert_close(roi_align(features, _rois(), 5, 19 / 300, -1, aligned), expected,
                                   atol=1e-5, rtol=1e-5)
