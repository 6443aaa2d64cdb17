"""Decoding, thresholds, NMS and top-k on one picture; tiling and merging on a whole page."""

import itertools

import numpy as np
import pytest
import torch

from dea_core.detection.boxes import cxcywh_to_xyxy
from dea_core.detection.errors import DetectionCancelled
from dea_core.detection.inference import Detection, Detector, merge_tiles, postprocess, tile_origins
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.priors import PriorLayout, make_priors


def logits_for(count: int, classes: int, hot: dict[int, tuple[int, float]]) -> torch.Tensor:
    """Logits giving background everywhere except prior -> (class, probability)."""
    logits = torch.full((1, count, classes + 1), -20.0)
    logits[0, :, 0] = 20.0
    for prior, (label, p) in hot.items():
        logits[0, prior] = -20.0
        logits[0, prior, label] = np.log(p)
        logits[0, prior, 0] = np.log(1 - p)
    return logits


def test_postprocess_thresholds_suppresses_per_class_and_keeps_top_k():
    priors = make_priors(PriorLayout("fast"))
    offsets = torch.zeros(1, len(priors), 4)
    # priors 0 and 1 are neighbours on the 38 map (IoU well above 0.45); 2000-ish entries elsewhere
    hot = {0: (1, 0.9), 1: (1, 0.8), 38 * 38 + 5: (2, 0.7), 38 * 38 + 6: (1, 0.3), 100: (2, 0.6)}
    boxes, scores, classes = postprocess(offsets, logits_for(len(priors), 2, hot), priors, score_threshold=0.5)[0]
    assert classes.tolist() == [1, 2, 2]  # prior 1 suppressed by prior 0; 0.3 under the threshold
    assert torch.allclose(scores, torch.tensor([0.9, 0.7, 0.6]), atol=1e-4)
    assert torch.allclose(boxes[0], cxcywh_to_xyxy(priors[0]).clamp(0, 1))
    priors = make_priors(PriorLayout("ssd300"))
    many = {i * 20: (1, 0.9) for i in range(400)}  # 400 confident boxes on the 38 map, 5 cells apart
    boxes, _, _ = postprocess(torch.zeros(1, len(priors), 4), logits_for(len(priors), 2, many), priors)[0]
    assert len(boxes) == 200


def test_tiles_cover_the_page_with_overlap():
    origins = tile_origins(1000, 700, 300, overlap=0.25)
    xs, ys = sorted({x for x, _ in origins}), sorted({y for _, y in origins})
    assert xs[0] == 0 and xs[-1] == 700 and ys[-1] == 400
    assert all(b - a <= 225 for a, b in itertools.pairwise(xs)) and all(b - a <= 225 for a, b in itertools.pairwise(ys))
    assert tile_origins(200, 100, 300) == [(0, 0)]


def test_merge_prefers_the_whole_box_to_a_cut_one():
    boxes = np.array([[100, 100, 150, 160], [100, 100, 130, 160], [400, 400, 450, 450]], dtype=float)
    found = merge_tiles(boxes, np.array([0.6, 0.9, 0.8]), ["a", "a", "a"], np.array([False, True, False]))
    assert [d.box for d in found] == [(400, 400, 450, 450), (100, 100, 150, 160)]


def test_detect_page_finds_each_ornament_once_across_tiles(monkeypatch):
    """An oracle network that sees every ornament touching its tile, cut ones with a higher score."""
    truth = np.array([[50, 50, 120, 130], [250, 40, 330, 110], [280, 290, 360, 370], [600, 600, 680, 690]], float)
    detector = Detector(SSD(ModelConfig(("fleuron",), "light", "fast")), crop_size=300, image_size=300,
                        device=torch.device("cpu"))
    origins = iter(tile_origins(800, 900, 300))

    def oracle(pictures, score_threshold=0.5, batch_size=8):
        found = []
        for _ in pictures:
            x, y = next(origins)
            clipped = np.clip(truth - [x, y, x, y], 0, 300)
            visible = (clipped[:, 2] - clipped[:, 0] > 5) & (clipped[:, 3] - clipped[:, 1] > 5)
            whole = np.all(clipped == truth - [x, y, x, y], axis=1)
            found.append([Detection("fleuron", 0.7 if w else 0.95, tuple(c)) for c, v, w in zip(clipped, visible, whole) if v])
        return found

    monkeypatch.setattr(detector, "detect_pictures", oracle)
    page = np.full((900, 800, 3), 255, np.uint8)
    found = detector.detect_page(page)
    assert sorted(d.box for d in found) == sorted(tuple(b) for b in truth)


def test_detect_page_can_be_cancelled():
    detector = Detector(SSD(ModelConfig(("a",), "light", "fast")), crop_size=300, image_size=300,
                        device=torch.device("cpu"))
    with pytest.raises(DetectionCancelled):
        detector.detect_page(np.full((900, 800, 3), 255, np.uint8), cancel=lambda: True)
