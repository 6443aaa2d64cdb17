"""Pages to crops: the 75% rule, the split by page, augmentation replay, COCO and YOLO export."""

import json

import numpy as np
import pytest
import torch

from dea_core.detection.dataset import (
    CropDataset,
    PrepareOptions,
    crop_boxes,
    load_dataset,
    prepare_dataset,
    read_page_boxes,
    split_pages,
)
from dea_core.detection.errors import DatasetError, DetectionCancelled
from dea_core.detection.export import yolo_lines
from dea_core.io import Shape, load_label_file, new_label_file, save_label_file


def test_a_box_is_kept_when_three_quarters_of_it_are_inside():
    boxes = np.array([[90.0, 10, 110, 30], [94, 10, 114, 30], [10, 10, 30, 30], [200, 200, 220, 220]])
    kept, clipped = crop_boxes(boxes, (0, 0, 105, 100), 0.75)
    # box 0: 15 of 20 wide inside = 75% kept; box 1: 11/20 dropped; box 2 inside; box 3 outside
    assert kept.tolist() == [0, 2]
    assert clipped.tolist() == [[90, 10, 105, 30], [10, 10, 30, 30]]
    kept, clipped = crop_boxes(boxes, (50, 5, 150, 105), 0.75)
    assert kept.tolist() == [0, 1] and clipped[0].tolist() == [40, 5, 60, 25]


def test_split_is_by_page_and_seeded(tmp_path):
    paths = [tmp_path / f"p{i}.json" for i in range(10)]
    split = split_pages(paths, 0.2, seed=3)
    assert len(split["val"]) == 2 and not set(split["val"]) & set(split["train"])
    assert split == split_pages(paths, 0.2, seed=3)
    assert split_pages(paths[:1], 0.2, seed=3)["val"] == []


def test_page_boxes_keep_every_ornament_and_its_pose(pages):
    page = read_page_boxes(pages[0])
    raw = load_label_file(pages[0])
    assert len(page.labels) == len(raw.shapes) > 0
    assert page.poses[0]["flip"] in ("none", "mirrored", "flipped")


def test_prepared_dataset_holds_crops_split_by_page(dataset_dir, pages):
    dataset = load_dataset(dataset_dir)
    assert len(dataset.pages["val"]) == 1 and len(dataset.pages["train"]) == 2
    assert not set(dataset.pages["val"]) & set(dataset.pages["train"])
    assert {c.page for c in dataset.crops["val"]} == set(dataset.pages["val"])
    assert len(dataset.crops["train"]) == 12 and len(dataset.crops["val"]) == 6
    assert sum(len(c.labels) for c in dataset.crops["train"]) > 0
    for crop in dataset.crops["train"]:
        assert (dataset_dir / crop.file).is_file()
        for x0, y0, x1, y1 in crop.boxes:
            assert 0 <= x0 < x1 <= 300 and 0 <= y0 < y1 <= 300


def test_crop_boxes_match_the_page_boxes(dataset_dir):
    dataset = load_dataset(dataset_dir)
    crop = next(c for c in dataset.crops["train"] if c.labels)
    page = read_page_boxes(crop.page)
    scale = 300 / 640
    x0, y0, x1, y1 = crop.boxes[0]
    on_page = np.array([x0 / scale + crop.origin[0], y0 / scale + crop.origin[1],
                        x1 / scale + crop.origin[0], y1 / scale + crop.origin[1]])
    assert np.min(np.abs(page.boxes - on_page).max(axis=1)) < 0.1


def test_coco_export_reads_back_and_matches(dataset_dir):
    raw = json.loads((dataset_dir / "coco_train.json").read_text())
    dataset = load_dataset(dataset_dir)
    assert len(raw["images"]) == len(dataset.crops["train"])
    assert len(raw["annotations"]) == sum(len(c.labels) for c in dataset.crops["train"])
    assert [c["name"] for c in raw["categories"]] == dataset.classes
    first = raw["annotations"][0]
    crop = dataset.crops["train"][first["image_id"] - 1]
    x0, y0, x1, y1 = crop.boxes[0]
    assert first["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=0.01)
    assert "rotation" in first["attributes"]
    coco = pytest.importorskip("pycocotools.coco")
    loaded = coco.COCO(str(dataset_dir / "coco_train.json"))
    assert len(loaded.getAnnIds()) == len(raw["annotations"])


def test_yolo_lines_by_hand_and_files(dataset_dir):
    assert yolo_lines([[30.0, 60.0, 90.0, 120.0]], ["b"], ["a", "b"], 300) == ["1 0.200000 0.300000 0.200000 0.200000"]
    dataset = load_dataset(dataset_dir)
    crop = dataset.crops["val"][0]
    text = (dataset_dir / "labels" / "val" / (crop.file.split("/")[-1][:-4] + ".txt")).read_text()
    assert len(text.splitlines()) == len(crop.labels)
    assert (dataset_dir / "classes.txt").read_text().split() == dataset.classes


def test_augmentation_replays_by_seed_and_epoch_and_keeps_boxes_valid(dataset_dir):
    dataset = load_dataset(dataset_dir)
    crops = CropDataset(dataset, "train", dataset.classes, augment=True, seed=2)
    index = next(i for i, c in enumerate(dataset.crops["train"]) if c.labels)
    first = crops[index]
    assert torch.equal(first[0], crops[index][0])
    crops.set_epoch(1)
    assert not torch.equal(first[0], crops[index][0])
    for epoch in range(6):
        crops.set_epoch(epoch)
        image, boxes, labels = crops[index]
        assert image.shape == (3, 300, 300) and len(boxes) == len(labels) > 0
        assert torch.all((boxes >= 0) & (boxes <= 1)) and torch.all(boxes[:, 2:] > boxes[:, :2])


def test_prepare_refuses_pages_without_boxes_and_an_existing_dataset(tmp_path, pages, dataset_dir):
    empty = save_label_file(new_label_file(load_label_file(pages[0]).image_file(), 700, 1000), tmp_path / "e.json")
    with pytest.raises(DatasetError, match="no ornament boxes"):
        prepare_dataset([empty], tmp_path / "out")
    with pytest.raises(DatasetError, match="already holds"):
        prepare_dataset(pages, dataset_dir)
    with pytest.raises(DatasetError, match="prepare the dataset first"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError):
        PrepareOptions(min_visible=0.0)


def test_label_notes_and_shapes_that_are_not_boxes(tmp_path, pages):
    image = load_label_file(pages[0]).image_file()
    shapes = [Shape("0 This is a Sun", [[10, 10], [50, 60]]), Shape("0", [[5, 5]], shape_type="point"),
              Shape("1", [[100, 100], [140, 100], [140, 150], [100, 150]], shape_type="polygon")]
    path = save_label_file(new_label_file(image, 700, 1000, shapes), tmp_path / "notes.json")
    page = read_page_boxes(path)
    assert page.labels == ["0", "1"] and page.boxes.tolist() == [[10, 10, 50, 60], [100, 100, 140, 150]]


def test_cancelled_preparation_writes_no_manifest(pages, tmp_path):
    with pytest.raises(DetectionCancelled):
        prepare_dataset(pages, tmp_path / "out", PrepareOptions(crops_per_page=2), cancel=lambda: True)
    assert not (tmp_path / "out" / "dataset.json").exists()
