"""Scoring: a changed vignette scores above its genuine twin; heatmaps, unknown vignettes, LabelMe output."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from dea_core.dea.record import Verdict
from dea_core.dea.results import write_scored
from dea_core.dea.scoring import (
    UNKNOWN_LABEL,
    AnomalyScorer,
    ScoredImage,
    one_box_per_vignette,
    ornament_region,
    paste_max,
    unknown_vignettes,
)
from dea_core.detection.errors import CheckpointError
from dea_core.detection.inference import Detection
from dea_core.io import load_label_file
from dea_core.synth.composed import generate_sample


def _known_boxes(sample) -> list[Detection]:
    return [Detection(v.label, 1.0, v.box) for v in sample.vignettes]


@pytest.mark.parametrize("kind", ["replaced"])
def test_a_changed_vignette_scores_above_its_genuine_twin(trained_dea, design, kind):
    scorer = AnomalyScorer.from_checkpoint(trained_dea, "cpu")
    genuine = generate_sample(np.random.default_rng(99), design)
    changed = generate_sample(np.random.default_rng(99), design, kind)
    index = changed.changed
    twin = scorer.score_detections(genuine.image, _known_boxes(genuine)).verdicts[index]
    other = scorer.score_detections(changed.image, _known_boxes(changed)).verdicts[index]
    assert other.anomaly_score > twin.anomaly_score


def test_the_heatmap_lies_over_the_scored_boxes(trained_dea, design):
    scorer = AnomalyScorer.from_checkpoint(trained_dea, "cpu")
    sample = generate_sample(np.random.default_rng(3), design)
    scored = scorer.score_detections(sample.image, _known_boxes(sample))
    assert scored.heatmap.shape == scored.ssim_heatmap.shape == sample.image.shape[:2]
    inside = np.zeros(sample.image.shape[:2], bool)
    for v in sample.vignettes:
        inside[int(v.box[1]):int(np.ceil(v.box[3])), int(v.box[0]):int(np.ceil(v.box[2]))] = True
    assert scored.heatmap[inside].max() > 0
    assert scored.threshold > 0
    assert len([v for v in scored.verdicts if not v.unknown]) == len(sample.vignettes)


def test_score_image_runs_detection_first(trained_dea, design):
    scorer = AnomalyScorer.from_checkpoint(trained_dea, "cpu")
    sample = generate_sample(np.random.default_rng(4), design)
    scored = scorer.score_image(sample.image, score_threshold=0.0)
    assert all(isinstance(v, Verdict) for v in scored.verdicts)
    assert scored.heatmap.dtype == np.float32 and scored.heatmap.shape == sample.image.shape[:2]


def test_a_detector_file_is_not_a_dea(detector):
    with pytest.raises(CheckpointError, match="not a DEA checkpoint"):
        AnomalyScorer.from_checkpoint(detector)


def test_ink_no_box_explains_is_an_unknown_vignette():
    page = np.full((200, 2000, 3), 235, np.uint8)
    boxes = [(100.0 + 60 * i, 80.0, 150.0 + 60 * i, 130.0) for i in range(5)]
    for x0, y0, x1, y1 in boxes:
        page[int(y0) + 5:int(y1) - 5, int(x0) + 5:int(x1) - 5] = 20
    page[85:125, 410:450] = 20  # a foreign piece at the end of the row
    page[10:20, 1500:1900] = 20  # text far along the page, outside the ornament's band
    heatmap = np.zeros(page.shape[:2], np.float32)
    found = unknown_vignettes(page, boxes, crop_size=640, heatmap=heatmap)
    assert [v.label for v in found] == [UNKNOWN_LABEL]
    x0, y0, x1, y1 = found[0].box
    assert 405 <= x0 <= 415 and 445 <= x1 <= 455 and found[0].anomaly and found[0].unknown
    assert heatmap[100, 430] > 0.9 and heatmap[15, 1700] == 0


def test_a_small_crop_is_all_ornament_and_a_page_only_its_band():
    assert ornament_region((100, 300), [], crop_size=320).all()
    region = ornament_region((1000, 2000), [(100, 500, 150, 550), (160, 500, 210, 550)], crop_size=320)
    assert region[520, 30] and region[520, 280] and not region[520, 300] and not region[400, 150]


def test_paste_max_keeps_the_larger_value_and_clips_to_the_page():
    heatmap = np.zeros((10, 10), np.float32)
    heatmap[2, 2] = 0.9
    paste_max(heatmap, np.full((4, 4), 0.5, np.float32), (-2.0, -2.0, 4.0, 4.0))
    assert heatmap[0, 0] == pytest.approx(0.5) and heatmap[2, 2] == pytest.approx(0.9) and heatmap[5, 5] == 0


def test_results_open_in_labelme_with_the_verdicts(tmp_path, labelme_reader):
    image = np.full((60, 120, 3), 230, np.uint8)
    image_path = tmp_path / "crop.png"
    cv2.imwrite(str(image_path), image)
    verdicts = [Verdict("tulip", (5.0, 5.0, 40.0, 50.0), 0.93, 0.41, True),
                Verdict(UNKNOWN_LABEL, (60.0, 5.0, 100.0, 50.0), 0.0, 1.0, True, unknown=True)]
    heat = np.zeros((60, 120), np.float32)
    heat[10:20, 10:20] = 1.0
    paths = write_scored(ScoredImage(verdicts, heat, heat, 0.3), image, image_path, tmp_path / "out")
    assert all(p.is_file() for p in paths.values())
    ours = load_label_file(paths["json"])
    assert [s.flags for s in ours.shapes] == [{"anomaly": True}, {"anomaly": True}]
    assert ours.shapes[0].extra["dea"]["anomaly_score"] == pytest.approx(0.41)
    assert ours.shapes[1].extra["dea"]["unknown"] is True
    theirs = labelme_reader(str(paths["json"]))
    assert [s["label"] for s in theirs.shapes] == ["tulip", UNKNOWN_LABEL]
    assert json.loads(paths["json"].read_text())["shapes"][0]["flags"] == {"anomaly": True}


def test_a_vignette_found_in_two_classes_keeps_its_most_confident_box():
    found = [Detection("tulip", 0.6, (10.0, 10.0, 50.0, 50.0)), Detection("rosette", 0.8, (12.0, 11.0, 51.0, 50.0)),
             Detection("tulip", 0.9, (60.0, 10.0, 100.0, 50.0))]
    assert one_box_per_vignette(found) == found[1:]
