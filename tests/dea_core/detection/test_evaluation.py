"""Average precision: a case worked by hand, then pycocotools itself on random detections."""

import contextlib
import io

import numpy as np
import pytest

from dea_core.detection.evaluation import COCO_THRESHOLDS, Prediction, Truth, evaluate


def test_average_precision_by_hand():
    truths = [Truth(0, "fleuron", (0, 0, 10, 10)), Truth(0, "fleuron", (20, 0, 30, 10)),
              Truth(1, "fleuron", (0, 0, 10, 10))]
    predictions = [Prediction(0, "fleuron", 0.9, (0, 0, 10, 10)),   # hit
                   Prediction(0, "fleuron", 0.8, (50, 50, 60, 60)),  # false
                   Prediction(1, "fleuron", 0.7, (0, 0, 10, 8))]     # IoU 0.8: a hit up to 0.8
    report = evaluate(predictions, truths, thresholds=(0.5, 0.85))
    # Recall 1/3, 1/3, 2/3 with precision 1, 1/2, 2/3: made monotone 1, 2/3, 2/3. Of the 101 recall
    # points, 0 .. 0.33 read 1 and 0.34 .. 0.66 read 2/3; the rest were never reached.
    assert report.per_class["fleuron"][0.5] == pytest.approx((34 + 33 * 2 / 3) / 101)
    # At 0.85 only the first is a hit: 34 points at precision 1.
    assert report.per_class["fleuron"][0.85] == pytest.approx(34 / 101)
    assert report.mean[0.5] == report.per_class["fleuron"][0.5]


def test_class_without_truth_is_left_out_of_the_mean():
    truths = [Truth(0, "a", (0, 0, 10, 10))]
    predictions = [Prediction(0, "a", 0.9, (0, 0, 10, 10)), Prediction(0, "b", 0.9, (0, 0, 10, 10))]
    report = evaluate(predictions, truths, classes=["a", "b"])
    assert report.per_class["b"][0.5] is None
    assert report.mean[0.5] == pytest.approx(1.0)
    assert "mAP.5:.95" in report.table()


def test_class_never_detected_scores_zero():
    report = evaluate([], [Truth(0, "a", (0, 0, 10, 10))])
    assert report.per_class["a"][0.5] == 0.0 and report.coco_map == 0.0


def test_average_precision_equals_pycocotools():
    coco_module = pytest.importorskip("pycocotools.coco")
    cocoeval_module = pytest.importorskip("pycocotools.cocoeval")
    rng = np.random.default_rng(4)
    truths, predictions, gt_json, dt_json = [], [], [], []
    for image in range(1, 9):
        for _ in range(rng.integers(1, 6)):
            label = int(rng.integers(1, 3))
            x, y, w, h = rng.uniform(0, 200), rng.uniform(0, 200), rng.uniform(10, 60), rng.uniform(10, 60)
            truths.append(Truth(image, str(label), (x, y, x + w, y + h)))
            gt_json.append({"id": len(gt_json) + 1, "image_id": image, "category_id": label, "bbox": [x, y, w, h],
                            "area": w * h, "iscrowd": 0})
            for _ in range(rng.integers(0, 3)):  # noisy copies, some of the wrong class
                jitter = rng.normal(0, 4, size=4)
                guess = label if rng.random() < 0.8 else 3 - label
                score = float(rng.random())
                box = (x + jitter[0], y + jitter[1], x + w + jitter[2], y + h + jitter[3])
                predictions.append(Prediction(image, str(guess), score, box))
                dt_json.append({"image_id": image, "category_id": guess, "score": score,
                                "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]})
        for _ in range(rng.integers(0, 3)):  # pure false alarms
            x, y, score, label = rng.uniform(0, 200), rng.uniform(0, 200), float(rng.random()), int(rng.integers(1, 3))
            predictions.append(Prediction(image, str(label), score, (x, y, x + 20, y + 20)))
            dt_json.append({"image_id": image, "category_id": label, "score": score, "bbox": [x, y, 20, 20]})
    with contextlib.redirect_stdout(io.StringIO()):
        ground = coco_module.COCO()
        ground.dataset = {"images": [{"id": i} for i in range(1, 9)], "annotations": gt_json,
                          "categories": [{"id": 1, "name": "1"}, {"id": 2, "name": "2"}]}
        ground.createIndex()
        found = ground.loadRes(dt_json)
        evaluation = cocoeval_module.COCOeval(ground, found, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    precision = evaluation.eval["precision"]  # (thresholds, recall points, classes, areas, max detections)
    ours = evaluate(predictions, truths, classes=["1", "2"], thresholds=COCO_THRESHOLDS)
    for t_index, threshold in enumerate(COCO_THRESHOLDS):
        for k, label in enumerate(["1", "2"]):
            assert ours.per_class[label][threshold] == pytest.approx(precision[t_index, :, k, 0, 2].mean(), abs=1e-9)
    assert ours.coco_map == pytest.approx(evaluation.stats[0], abs=1e-9)
