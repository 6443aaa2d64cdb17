"""Vignette crops (as `dea match --save-crops` writes them) become training pages for `dea prepare`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dea_core.cli.main import main
from dea_core.detection.dataset import load_dataset
from dea_core.detection.errors import DatasetError
from dea_core.detection.vignette_pages import set_in_rows, vignette_crops, write_vignette_pages
from dea_core.io import load_label_file
from dea_core.synth.composed import generate_sample, standard_designs


@pytest.fixture
def crops_folder(tmp_path: Path) -> Path:
    """Crops of the vignettes of four printed headpieces, named as `dea match --save-crops` names them."""
    folder = tmp_path / "crops"
    for page in range(4):
        sample = generate_sample(np.random.default_rng(page), standard_designs()[0])
        for index, v in enumerate(sample.vignettes, start=1):
            x0, y0, x1, y1 = (int(round(c)) for c in v.box)
            (folder / v.label).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / v.label / f"book-p{page}_{index:03d}_upright.png"), sample.image[y0:y1, x0:x1])
    return folder


def test_crops_are_grouped_by_source_page(crops_folder):
    pages = vignette_crops(crops_folder)
    assert sorted(pages) == [f"book-p{i}" for i in range(4)]
    assert all(len(crops) == 7 for crops in pages.values())


def test_each_crop_is_boxed_where_it_was_set(crops_folder, tmp_path, labelme_reader):
    written = write_vignette_pages(crops_folder, tmp_path / "pages")
    assert len(written) == 4
    label_file = load_label_file(written[0])
    image = cv2.imread(str(label_file.image_file()))
    crops = dict(vignette_crops(crops_folder))["book-p0"]
    for shape, (label, crop) in zip(label_file.shapes, crops):
        (x0, y0), (x1, y1) = shape.points
        assert shape.label == label
        np.testing.assert_array_equal(image[int(y0):int(y1), int(x0):int(x1)], cv2.imread(str(crop)))
    assert len(labelme_reader(str(written[0])).shapes) == 7


def test_rows_wrap_and_never_overlap():
    pictures = [np.full((40, 300, 3), 0, np.uint8) for _ in range(12)]
    page, boxes = set_in_rows(pictures)
    assert page.shape[1] <= 1600 + 20 and len({b[1] for b in boxes}) > 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_dea_prepare_learns_from_vignette_crops(crops_folder, tmp_path):
    out = tmp_path / "dataset"
    assert main(["prepare", "--vignettes", str(crops_folder), "-o", str(out), "--crops", "2", "--crop-size", "320",
                 "--val-fraction", "0.25", "-q"]) == 0
    dataset = load_dataset(out)
    assert sorted(dataset.classes) == sorted(p.name for p in crops_folder.iterdir())
    assert len(dataset.pages["val"]) == 1 and len(dataset.pages["train"]) == 3
    assert sum(len(c.boxes) for c in dataset.crops["train"]) > 0


def test_a_folder_without_crops_is_refused_and_nothing_is_written(tmp_path, capsys):
    (tmp_path / "empty" / "tulip").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no crops found"):
        vignette_crops(tmp_path / "empty")
    assert main(["prepare", "-o", str(tmp_path / "ds"), "-q"]) == 1
    assert "--vignettes" in capsys.readouterr().err and not (tmp_path / "ds").exists()
