"""The redraw decoder: the genuine sort laid on the print, the layout check, its model file, its LabelMe record."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from autolabelme.anomaly_review import PageScores
from autolabelme.document import PageDocument
from dea_core.anomaly.heatmaps import ink_darkness, overlay_heatmap
from dea_core.dea.compare import (
    POSE_MARGIN,
    Laid,
    judge,
    lay_redrawing,
    lay_vignette,
    neighbours_ink,
    posed,
    tolerance_error,
)
from dea_core.dea.layout import Layout, Slot, best_layout
from dea_core.dea.model import CODE_SIZE, DEA, REDRAW_SIDE, DEAConfig
from dea_core.dea.record import ANOMALY_FLAG, DEA_KEY
from dea_core.dea.redraw_training import genuine_layouts, pose_margins, sort_scales
from dea_core.dea.results import write_scored
from dea_core.dea.saved import CHECKPOINT_KIND
from dea_core.dea.scoring import AnomalyScorer, smoothed_map
from dea_core.detection.checkpoint import load_checkpoint, save_checkpoint
from dea_core.detection.dataset import load_dataset
from dea_core.detection.errors import CheckpointError
from dea_core.detection.inference import Detection
from dea_core.detection.model import SSD, ModelConfig
from dea_core.errors import MatchOptionsError
from dea_core.io import Shape, load_label_file, new_label_file, save_label_file
from dea_core.matching.job import match_review
from dea_core.matching.matcher import MatchOptions
from dea_core.matching.review import review_from_label_file
from dea_core.synth.composed import generate_sample
from dea_core.synth.pieces import load_pieces

SEED = 99


def _known_boxes(sample) -> list[Detection]:
    return [Detection(v.label, 1.0, v.box) for v in sample.vignettes]


@pytest.fixture(scope="module")
def scorer(redraw_dea) -> AnomalyScorer:
    return AnomalyScorer.from_checkpoint(redraw_dea, "cpu")


def _iou(a, b) -> float:
    width, height = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0) * max(height, 0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _verdict_on(verdicts, box):
    """The verdict on the vignette boxed by `box` (its verdict's box is where its sort was laid)."""
    return max(verdicts, key=lambda v: _iou(v.box, box))


def _vignette_score(scorer, image, sample, index) -> float:
    scored = scorer.score_detections(image, _known_boxes(sample))
    return _verdict_on(scored.verdicts, sample.vignettes[index].box).anomaly_score


@pytest.mark.parametrize("kind", ["recut", "broken"])
def test_a_changed_vignette_scores_above_its_genuine_twin_and_a_shifted_or_heavier_copy_does_not(scorer, design,
                                                                                               kind):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    changed = generate_sample(np.random.default_rng(SEED), design, kind)
    index = changed.changed
    twin = _vignette_score(scorer, genuine.image, genuine, index)
    other = _vignette_score(scorer, changed.image, changed, index)
    shifted = _vignette_score(scorer, np.roll(genuine.image, (1, 2), axis=(0, 1)), genuine, index)
    heavier = _vignette_score(scorer, cv2.erode(genuine.image, np.ones((2, 2), np.uint8)), genuine, index)
    assert other > twin
    assert max(shifted, heavier) < other


def test_a_detected_box_some_pixels_off_its_vignette_scores_as_the_true_box_does(scorer, design):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    broken = generate_sample(np.random.default_rng(SEED), design, "broken")
    index = broken.changed
    x0, y0, x1, y1 = genuine.vignettes[index].box
    width, height = x1 - x0, y1 - y0
    loose = (x0 - 0.12 * width, y0 + 0.05 * height, x1 + 0.02 * width, y1 + 0.1 * height)  # as a detector boxes it
    boxes = [Detection(v.label, 1.0, loose if i == index else v.box) for i, v in enumerate(genuine.vignettes)]
    scored = scorer.score_detections(genuine.image, boxes)
    off = _verdict_on(scored.verdicts, loose).anomaly_score
    true = _vignette_score(scorer, genuine.image, genuine, index)
    assert off < max(2 * true, true + 0.02) < _vignette_score(scorer, broken.image, broken, index)
    assert not any(v.unknown for v in scored.verdicts)


def test_a_detected_vignettes_verdict_is_boxed_where_its_sort_fits_and_a_given_box_stays_as_given(scorer, design):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    x0, y0, x1, y1 = genuine.vignettes[0].box
    width, height = x1 - x0, y1 - y0
    loose = (x0 - 0.12 * width, y0 + 0.05 * height, x1 + 0.02 * width, y1 + 0.1 * height)
    half = (x0, y0, x1, y0 + 0.5 * height)
    for given in (loose, half):
        boxes = [Detection(v.label, 1.0, given if i == 0 else v.box) for i, v in enumerate(genuine.vignettes)]
        # As the detector's boxes (dea score): truer than the box the detector gave.
        verdict = _verdict_on(scorer.score_detections(genuine.image, boxes, keep_boxes=False).verdicts, given)
        assert _iou(verdict.box, genuine.vignettes[0].box) > max(0.85, _iou(given, genuine.vignettes[0].box) + 0.1)
        # As a person's boxes (AutoLabelme's "boxes of the page"): the verdict is on the box they drew.
        assert any(v.box == given for v in scorer.score_detections(genuine.image, boxes).verdicts)


def test_a_genuine_vignette_whose_detected_box_holds_only_its_top_half_is_no_finding(scorer, design):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    index = 0
    x0, y0, x1, y1 = genuine.vignettes[index].box
    half = (x0, y0, x1, y0 + 0.5 * (y1 - y0))  # as the detector boxed a real 1696 fleuron
    boxes = [Detection(v.label, 1.0, half if i == index else v.box) for i, v in enumerate(genuine.vignettes)]
    verdict = _verdict_on(scorer.score_detections(genuine.image, boxes).verdicts, half)
    assert verdict.anomaly_score < 1.0 and not verdict.anomaly


def test_a_mirrored_sort_in_a_plain_slot_is_flagged_by_the_layout(scorer, design):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    mirrored = generate_sample(np.random.default_rng(SEED), design, "mirrored")
    index = mirrored.changed
    box = mirrored.vignettes[index].box
    flagged = _verdict_on(scorer.score_detections(mirrored.image, _known_boxes(mirrored)).verdicts, box)
    plain = _verdict_on(scorer.score_detections(genuine.image, _known_boxes(genuine)).verdicts, box)
    assert flagged.anomaly and flagged.anomaly_score == 1.0
    assert plain.anomaly_score < 1.0


def test_a_foreign_piece_boxed_as_the_slots_sort_is_flagged_because_that_sort_does_not_fit_it(scorer, design):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    replaced = generate_sample(np.random.default_rng(SEED), design, "replaced")
    index = replaced.changed
    # As a detector that took the foreign piece for the slot's own sort would box it.
    boxes = [Detection(g.label, 1.0, r.box) for g, r in zip(genuine.vignettes, replaced.vignettes)]
    assert replaced.vignettes[index].label != genuine.vignettes[index].label
    box = replaced.vignettes[index].box
    foreign = _verdict_on(scorer.score_detections(replaced.image, boxes).verdicts, box)
    assert foreign.box == box  # its sort fits it nowhere: the box stays as given
    twin = _vignette_score(scorer, genuine.image, genuine, index)
    assert scorer.fit_floor > 0
    assert foreign.anomaly and foreign.anomaly_score == 1.0 > twin


def test_a_foreign_piece_is_painted_over_the_place_its_slots_sort_should_fill_and_not_over_its_neighbours(scorer,
                                                                                                       design):
    genuine = generate_sample(np.random.default_rng(SEED), design)
    replaced = generate_sample(np.random.default_rng(SEED), design, "replaced")
    index = replaced.changed
    boxes = [Detection(g.label, 1.0, r.box) for g, r in zip(genuine.vignettes, replaced.vignettes)]
    heat = scorer.score_detections(replaced.image, boxes).heatmap
    # The change is the foreign ink and the genuine sort's ink that is gone: both lit.
    assert (heat[replaced.mask] > 0.5).mean() > 0.9
    # Each neighbour's own ink, its box's middle half, is not the finding's.
    for i, vignette in enumerate(replaced.vignettes):
        x0, y0, x1, y1 = vignette.box
        dx, dy = (x1 - x0) / 4, (y1 - y0) / 4
        middle = heat[int(y0 + dy):int(y1 - dy), int(x0 + dx):int(x1 - dx)]
        if i != index:
            assert middle.max() < 0.5


def test_a_thin_stroke_gone_from_the_print_is_missing_ink_and_the_same_print_a_pixel_off_is_not():
    # The real 1741 tulip: nearly half its ink lies in strokes two pixels wide or less, with no inside.
    tulip = load_pieces()["holberg1741_tulip"]
    redrawn = ink_darkness(cv2.copyMakeBorder(tulip, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255))
    tip = (slice(42, 48), slice(43, 49))  # the end of a hairline at the foot, no broader stroke near it
    broken = redrawn.copy()
    broken[tip] = 0.0
    assert (redrawn[tip] > 0.5).sum() >= 5
    assert tolerance_error(broken, redrawn)[tip].max() > 0.3
    assert tolerance_error(np.roll(redrawn, 1, axis=1), redrawn).max() < 0.1


def test_a_touching_neighbours_ink_in_a_vignettes_box_is_explained_by_the_neighbours_laid_redrawing():
    # Two real 1741 tulips cast side by side, the right one's left edge printed 4 px into the left one's box.
    tulip = load_pieces()["holberg1741_tulip"]
    height, width = tulip.shape
    page = np.full((height + 40, 2 * width + 40), 255, np.uint8)
    right = 20 + width - 4
    page[20:20 + height, 20:20 + width] = tulip
    page[20:20 + height, right:right + width] = np.minimum(page[20:20 + height, right:right + width], tulip)
    redrawn = cv2.resize(1.0 - ink_darkness(tulip), (REDRAW_SIDE, REDRAW_SIDE), interpolation=cv2.INTER_AREA)
    left_laid = lay_vignette(page, (20, 20, 20 + width, 20 + height), redrawn)
    right_laid = lay_vignette(page, (right, 20, right + width, 20 + height), redrawn)
    overlap = slice(right - left_laid.region[0], 20 + width - left_laid.region[0])
    alone = judge(left_laid)
    explained = judge(left_laid, None, neighbours_ink(left_laid, [left_laid, right_laid]))
    assert alone.error[:, overlap].max() > 0.5
    assert explained.error[:, overlap].max() < 0.3
    assert explained.score < alone.score / 2


def test_the_model_file_round_trips_with_its_layouts(redraw_dea, dea_dataset):
    record = load_checkpoint(redraw_dea, CHECKPOINT_KIND)
    scorer = AnomalyScorer.from_checkpoint(redraw_dea, "cpu")
    for name, tensor in scorer.model.state_dict().items():
        assert torch.equal(tensor.cpu(), record["model"][name])
    assert scorer.model.decoder.template.shape[1:] == (REDRAW_SIDE, REDRAW_SIDE)
    assert [layout.key() for layout in scorer.layouts] == [layout.key() for layout in
                                                             genuine_layouts(load_dataset(dea_dataset))]
    assert scorer.threshold == record["calibration"]["threshold"] > 0
    assert scorer.pose_margins == record["calibration"]["pose_margins"]
    assert [Layout.from_dict(layout.to_dict()) for layout in scorer.layouts] == scorer.layouts
    assert redraw_dea.stat().st_size < 60e6


def test_the_record_is_read_back_by_autolabelme_and_by_labelme(scorer, design, tmp_path, labelme_reader):
    sample = generate_sample(np.random.default_rng(SEED), design, "mirrored")
    image_path = tmp_path / "headpiece.png"
    cv2.imwrite(str(image_path), sample.image)
    scored = scorer.score_detections(sample.image, _known_boxes(sample))
    paths = write_scored(scored, sample.image, image_path, tmp_path / "out", save_map=True)
    page = load_label_file(paths["json"])
    shapes = [s for s in page.shapes if DEA_KEY in s.extra]
    assert [s.flags[ANOMALY_FLAG] for s in shapes] == [v.anomaly for v in scored.verdicts]
    back = PageScores.read(page)
    assert back.threshold == pytest.approx(scored.threshold, abs=1e-4)
    assert [(v.label, v.anomaly, v.anomaly_score) for v in back.verdicts] == \
        [(v.label, v.anomaly, round(v.anomaly_score, 4)) for v in scored.verdicts]
    theirs = labelme_reader(str(paths["json"]))
    assert [s["label"] for s in theirs.shapes] == [v.label for v in scored.verdicts]
    # AutoLabelme's review holds the checked vignettes as occurrences found by the DEA's detector, not as templates.
    review, _ = review_from_label_file(page)
    assert not any(entry.templates for entry in review.labels)
    found = sorted((m.label, round(m.score, 4)) for entry in review.labels for m in entry.accepted())
    assert found == sorted((v.label, round(v.detection_score, 4)) for v in scored.verdicts)
    with pytest.raises(MatchOptionsError, match="only occurrences already found"):  # `dea match` on it
        match_review(review, "headpiece.scored.json", sample.image, MatchOptions())
    document = PageDocument.open(paths["json"])  # and saved by AutoLabelme, then opened again: the same
    again = PageDocument.open(document.save_json(tmp_path / "out" / "saved.json"))
    assert sorted((m.label, round(m.score, 4)) for e in again.review.labels for m in e.accepted()) == found
    def verdicts(scores):
        return sorted((v.label, v.anomaly, v.anomaly_score, tuple(round(x) for x in v.box)) for v in scores.verdicts)

    assert verdicts(again.scores) == verdicts(back)
    saved_map = np.load(paths["map"])
    assert saved_map.dtype == np.float32 and saved_map.shape == sample.image.shape[:2]
    np.testing.assert_array_equal(saved_map, scored.heatmap)
    # The overlay shows the heat on the threshold's scale: the mirrored vignette, painted whole, in full colour.
    overlay = cv2.imread(str(paths["overlay"]))
    np.testing.assert_array_equal(overlay, overlay_heatmap(sample.image, scored.heatmap, full=scored.threshold))


def test_a_template_box_that_a_detected_vignette_falls_on_stays_a_template_after_a_save(scorer, design, tmp_path):
    sample = generate_sample(np.random.default_rng(SEED), design)
    image_path = tmp_path / "headpiece.png"
    cv2.imwrite(str(image_path), sample.image)
    template = sample.vignettes[0]
    height, width = sample.image.shape[:2]
    drawn = new_label_file(image_path, width, height, [Shape(template.label, [list(template.box[:2]),
                                                                              list(template.box[2:])])])
    document = PageDocument.open(save_label_file(drawn, tmp_path / "page.json"))  # one template box drawn
    scored = scorer.score_detections(sample.image, _known_boxes(sample))  # as the detector would box them
    document.scores = PageScores.from_scored(scored, "dea.pt")
    again = PageDocument.open(document.save_json(tmp_path / "page.json"))
    assert [entry.templates for entry in again.review.labels] == [(tuple(round(x, 2) for x in template.box),)]
    assert sorted(v.box for v in again.scores.verdicts) == sorted(tuple(round(x, 2) for x in v.box)
                                                                   for v in scored.verdicts)


def _fitted(scores: dict[str, float]) -> Laid:
    blank = np.zeros((1, 1), np.float32)
    return Laid("none", scores, (0, 0, 1, 1), (0, 0), (1, 1), blank, blank)


def test_a_pose_that_genuine_printings_nearly_fit_must_win_by_more_and_the_others_by_the_usual_margin():
    link = {"none": 0.9, "mirrored": 0.85, "flipped": 0.8, "rot180": 0.92}  # a genuine link fits rot180 better
    tulip = {"none": 0.9, "mirrored": 0.4, "flipped": 0.5, "rot180": 0.45}
    laid = [_fitted(link), _fitted({**link, "rot180": 0.85}), _fitted(tulip), _fitted(tulip)]
    margins = pose_margins(laid, ["none"] * 4, ["link", "link", "tulip", "tulip"])
    assert margins == {"link": {"none": {"rot180": pytest.approx(0.02 + POSE_MARGIN)}}}


def test_a_pose_winning_by_less_than_its_sorts_learnt_margin_leaves_the_expected_pose():
    tulip = load_pieces()["holberg1741_tulip"]
    redrawn = cv2.resize(tulip, (REDRAW_SIDE, REDRAW_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    page = np.full((120, 120), 255, np.uint8)
    page[40:77, 40:78] = posed(tulip, "flipped")  # printed upside down in a plain slot
    box = (40.0, 40.0, 78.0, 77.0)
    pose, scores, _ = lay_redrawing(page, box, redrawn, "none")
    gain = scores["flipped"] - scores["none"]
    assert pose == "flipped" and gain > POSE_MARGIN
    assert lay_redrawing(page, box, redrawn, "none", {"flipped": gain + 0.01})[0] == "none"
    assert lay_redrawing(page, box, redrawn, "none", {"flipped": gain - 0.01})[0] == "flipped"


def test_a_model_file_with_unreadable_pose_margins_is_refused_with_a_message(redraw_dea, tmp_path):
    record = load_checkpoint(redraw_dea, CHECKPOINT_KIND)
    record["calibration"]["pose_margins"] = {"tulip": ["none"]}
    broken = save_checkpoint(tmp_path / "broken.pt", record, CHECKPOINT_KIND)
    with pytest.raises(CheckpointError, match="pose margins"):
        AnomalyScorer.from_checkpoint(broken, "cpu")


def test_a_model_file_from_before_the_code_size_was_recorded_loads_with_its_four_variation_pictures(redraw_dea,
                                                                                                   tmp_path):
    record = load_checkpoint(redraw_dea, CHECKPOINT_KIND)
    assert record["dea_config"]["code_size"] == CODE_SIZE == 1
    earlier = DEA(SSD(ModelConfig.from_dict(record["model_config"])), DEAConfig(decoder="redraw", code_size=4))
    record["model"] = earlier.state_dict()
    del record["dea_config"]["code_size"]
    path = save_checkpoint(tmp_path / "earlier.pt", record, CHECKPOINT_KIND)
    loaded = AnomalyScorer.from_checkpoint(path, "cpu").model
    assert loaded.decoder.variation.shape[1] == 4
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor.cpu(), record["model"][name])


def test_sort_scales_bring_a_variable_sort_to_the_common_scale_and_trust_few_casts_less():
    steady, variable = np.linspace(0.05, 0.15, 41), np.linspace(0.25, 0.35, 41)
    scores = np.concatenate([steady, variable, [0.3, 0.3]])
    classes = np.array([1] * 41 + [2] * 41 + [3] * 2)
    scales = sort_scales(scores, classes, prior=4)
    assert scales[1] > 1 > scales[2]  # the steady sort's scores raised, the variable one's lowered ...
    assert abs(np.median(steady) * scales[1] - np.median(variable) * scales[2]) < 0.2 * (0.3 - 0.1)  # ... to meet
    assert scales[2] < scales[3] < 1  # two casts scoring like the variable sort: lowered, but less


def test_the_redraw_map_covers_a_patch_around_its_error_in_proportion_to_the_vignettes():
    heatmap = np.zeros((100, 100), np.float32)
    heatmap[50, 50] = 1.0
    large = smoothed_map(heatmap, [(0, 0, 60, 80), (60, 0, 120, 80)])
    small = smoothed_map(heatmap, [(0, 0, 20, 30), (20, 0, 40, 30)])
    assert large[50, 54] > small[50, 54] > 0 == heatmap[50, 54]
    assert abs(float(large.sum()) - 1.0) < 1e-3  # spread, not added to
    assert smoothed_map(heatmap, []) is heatmap


@pytest.mark.parametrize("gone", [0, 1, 3, 4])
def test_of_a_row_of_like_vignettes_the_missing_one_is_the_one_whose_place_is_empty(gone):
    labels = ["a", "a", "b", "a", "a"]
    layout = Layout(tuple(Slot(label, "none", (60.0 * i, 0.0, 60.0 * i + 50, 50.0)) for i, label in enumerate(labels)))
    # The same ornament printed 100 px further right, one vignette gone.
    boxes = [(60.0 * i + 100, 0.0, 60.0 * i + 150, 50.0) for i in range(5) if i != gone]
    found = [label for i, label in enumerate(labels) if i != gone]
    _, matches = best_layout(found, [layout], boxes)
    assert [m.slot for m in matches if m.detection is None] == [gone]
    assert all(m.same for m in matches if m.detection is not None)
