"""Composed headpieces: seeded, their change masks where the pictures differ, their files readable by LabelMe."""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from dea_core.detection.dataset import read_page_boxes
from dea_core.io import load_label_file
from dea_core.synth import load_symmetry
from dea_core.synth.composed import (
    CATALOGUE,
    CHANGE_KINDS,
    FOREIGN,
    GENUINE,
    ChangeSample,
    ChangeSetError,
    generate_change_set,
    generate_sample,
    read_change_set,
    standard_designs,
    write_change_set,
)

DESIGNS = standard_designs()


@pytest.fixture(scope="module")
def change_set() -> list[ChangeSample]:
    return generate_change_set(np.random.default_rng(3), 2, len(CHANGE_KINDS), DESIGNS[:2])


def test_designs_are_fixed_and_hold_every_catalogue_piece():
    assert standard_designs() == DESIGNS
    assert standard_designs(seed=1) != DESIGNS
    for design in DESIGNS:
        assert {label for row in design.rows for label, _ in row} == set(CATALOGUE)
        width, height = design.frame
        assert 300 <= width <= 480 and 80 <= height <= 300


def test_same_generator_same_sample():
    a = generate_sample(np.random.default_rng(7), DESIGNS[1], "crack")
    b = generate_sample(np.random.default_rng(7), DESIGNS[1], "crack")
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert a.vignettes == b.vignettes
    assert not np.array_equal(a.image, generate_sample(np.random.default_rng(8), DESIGNS[1], "crack").image)


def test_masks_are_non_empty_exactly_for_changed_samples(change_set):
    assert [s.kind for s in change_set] == [GENUINE, GENUINE, *CHANGE_KINDS]
    for sample in change_set:
        assert sample.image.dtype == np.uint8 and sample.image.shape == (*sample.mask.shape, 3)
        assert sample.mask.any() == (sample.kind != GENUINE)
        assert (sample.changed is None) == (sample.kind == GENUINE)


@pytest.mark.parametrize("kind", CHANGE_KINDS)
def test_mask_covers_where_the_clean_pictures_differ(kind):
    # Equal generators give the same layout and printing: the genuine twin differs by the change alone.
    changed = generate_sample(np.random.default_rng(11), DESIGNS[0], kind, degraded=False)
    genuine = generate_sample(np.random.default_rng(11), DESIGNS[0], degraded=False)
    difference = np.abs(changed.image.astype(int) - genuine.image).max(axis=2)
    assert (difference > 32).sum() >= 20
    assert not ((difference > 32) & ~changed.mask).any()
    # And no mask where nothing changed: every mask pixel is within the dilation of a difference.
    near = cv2.dilate((difference > 8).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    assert not (changed.mask & (near == 0)).any()
    assert changed.mask.sum() < 0.25 * changed.mask.size


def test_degraded_changes_show_inside_the_mask():
    changed = generate_sample(np.random.default_rng(12), DESIGNS[1], "broken")
    genuine = generate_sample(np.random.default_rng(12), DESIGNS[1])
    strong = np.abs(changed.image.astype(int) - genuine.image).max(axis=2) > 60
    assert strong.sum() >= 10 and (strong & changed.mask).sum() >= 0.95 * strong.sum()


def test_changes_record_what_was_done(change_set):
    symmetry = load_symmetry()
    by_kind = {s.kind: s for s in change_set}
    replaced = by_kind["replaced"].vignettes[by_kind["replaced"].changed]
    assert replaced.label in FOREIGN
    mirrored = by_kind["mirrored"].vignettes[by_kind["mirrored"].changed]
    assert mirrored.flip == "mirrored" and not symmetry[mirrored.label].mirror_symmetric
    for sample in change_set:
        assert all(v.label in CATALOGUE for i, v in enumerate(sample.vignettes) if i != sample.changed)


def test_boxes_lie_inside_the_picture_and_hold_ink(change_set):
    for sample in change_set:
        height, width = sample.mask.shape
        for v in sample.vignettes:
            x0, y0, x1, y1 = v.box
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
            assert sample.image[int(y0):int(y1), int(x0):int(x1)].min() < 100


def test_change_set_balances_kinds():
    samples = generate_change_set(np.random.default_rng(0), 1, 12, DESIGNS[:1], kinds=("crack", "filled"))
    assert [s.kind for s in samples].count("crack") == 6 and [s.kind for s in samples].count("filled") == 6


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown change kind"):
        generate_sample(np.random.default_rng(0), DESIGNS[0], "smudged")


def test_write_then_read_round_trips(change_set, tmp_path: Path):
    write_change_set(tmp_path, change_set)
    read = read_change_set(tmp_path)
    assert len(read) == len(change_set)
    for a, b in zip(change_set, read):
        assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
        assert (a.kind, a.design, a.changed) == (b.kind, b.design, b.changed)
        assert [(v.label, v.flip) for v in a.vignettes] == [(v.label, v.flip) for v in b.vignettes]
        assert np.allclose([v.box for v in a.vignettes], [v.box for v in b.vignettes], atol=1e-3)


def test_labelme_files_hold_the_catalogue_vignettes_with_their_pose(change_set, tmp_path: Path):
    write_change_set(tmp_path, change_set)
    for index, sample in enumerate(change_set):
        path = tmp_path / f"{index:04d}_{sample.kind}.json"
        label_file = load_label_file(path)
        known = [v for v in sample.vignettes if v.label in CATALOGUE]
        assert [s.label for s in label_file.shapes] == [v.label for v in known]
        assert [s.extra["pose"]["flip"] for s in label_file.shapes] == [v.flip for v in known]
        boxes = read_page_boxes(path)  # what `dea prepare` reads
        assert boxes.poses == [s.extra["pose"] for s in label_file.shapes]
        assert (boxes.width, boxes.height) == (sample.image.shape[1], sample.image.shape[0])
    index = [s.kind for s in change_set].index("replaced")
    shapes = load_label_file(tmp_path / f"{index:04d}_replaced.json").shapes
    assert len(shapes) == len(change_set[index].vignettes) - 1


def test_labelme_itself_opens_the_files(change_set, tmp_path: Path):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from labelme import LabelFile  # late: it pulls in Qt

    write_change_set(tmp_path, change_set[:3])
    for path in sorted(tmp_path.glob("[0-9]*.json")):
        opened = LabelFile(str(path))
        assert opened.image_path == path.with_suffix(".png").name
        assert all(shape["shape_type"] == "rectangle" for shape in opened.shapes)


def test_reading_a_folder_without_a_manifest_says_so(tmp_path: Path):
    with pytest.raises(ChangeSetError, match="write_change_set"):
        read_change_set(tmp_path)
