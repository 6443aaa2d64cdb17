"""Saving LabelMe files: never over the input by accident, atomic, never a file we could not read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dea_core.errors import LabelFileError
from dea_core.io.labelme_json import Shape, load_label_file, new_label_file, save_label_file


def test_refuses_to_overwrite_the_file_it_was_loaded_from(copy_real, snapshot, tmp_path: Path) -> None:
    source = copy_real("v4.0.0_bbox/2011_000025.json")
    label_file = load_label_file(source)
    label_file.shapes[0].label = "omnibus"
    before = snapshot(tmp_path)

    with pytest.raises(LabelFileError, match="is the file this annotation was loaded from") as caught:
        save_label_file(label_file, source)

    assert str(source) in str(caught.value)
    assert snapshot(tmp_path) == before


def test_refuses_another_existing_file_without_overwrite(copy_real, snapshot, tmp_path: Path) -> None:
    source = copy_real("v4.0.0_bbox/2011_000025.json")
    other = source.with_name("other.json")
    other.write_text("{}")
    before = snapshot(tmp_path)

    with pytest.raises(LabelFileError, match="already exists"):
        save_label_file(load_label_file(source), other)

    assert snapshot(tmp_path) == before


def test_overwrite_true_replaces_the_input(copy_real) -> None:
    source = copy_real("v4.0.0_bbox/2011_000025.json")
    label_file = load_label_file(source)
    label_file.shapes[0].label = "omnibus"

    save_label_file(label_file, source, overwrite=True)

    written = json.loads(source.read_text(encoding="utf-8"))
    assert written["shapes"][0]["label"] == "omnibus"
    assert written["imagePath"] == "2011_000025.jpg"
    assert sorted(p.name for p in source.parent.iterdir()) == ["2011_000025.jpg", "2011_000025.json"]


def test_failing_save_leaves_the_destination_byte_identical(copy_real, snapshot, tmp_path: Path) -> None:
    source = copy_real("v4.0.0_bbox/2011_000025.json")
    label_file = load_label_file(source)
    label_file.shapes[0].extra["match"] = {"score": object()}  # json cannot write this
    before = snapshot(tmp_path)

    with pytest.raises(LabelFileError, match="cannot be written as JSON") as caught:
        save_label_file(label_file, source, overwrite=True)

    assert str(source) in str(caught.value)
    assert snapshot(tmp_path) == before


def test_never_writes_a_file_it_could_not_read_back(tmp_path: Path, snapshot) -> None:
    label_file = new_label_file(tmp_path / "page.png", 100, 80, [Shape("fleuron", [[1.0, 2.0]])])

    with pytest.raises(LabelFileError, match="rectangle needs at least 2 points") as caught:
        save_label_file(label_file, tmp_path / "page.json")

    assert str(tmp_path / "page.json") in str(caught.value)
    assert snapshot(tmp_path) == {}


def test_extra_key_clashing_with_a_labelme_key_is_refused(tmp_path: Path) -> None:
    label_file = new_label_file(
        tmp_path / "page.png", 100, 80, [Shape("fleuron", [[1.0, 2.0], [5.0, 6.0]], extra={"label": "other"})]
    )

    with pytest.raises(LabelFileError, match="clash"):
        save_label_file(label_file, tmp_path / "page.json")

    assert list(tmp_path.iterdir()) == []


def test_embedded_picture_keeps_image_path_when_moved(labelme_data: Path, tmp_path: Path) -> None:
    label_file = load_label_file(labelme_data / "v5.3.1_bbox_imagedata" / "2011_000006.json")

    target = save_label_file(label_file, tmp_path / "moved.json")

    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["imagePath"] == "2011_000006.jpg"
    assert written["imageData"] == label_file.image_data


def test_writes_utf8_without_escapes_and_indented(tmp_path: Path) -> None:
    label_file = new_label_file(
        tmp_path / "page.png", 100, 80, [Shape("bandeau à fleurons ❧", [[1.0, 2.0], [5.0, 6.0]])]
    )

    target = save_label_file(label_file, tmp_path / "page.json")

    text = target.read_text(encoding="utf-8")
    assert "bandeau à fleurons ❧" in text
    assert text.startswith('{\n  "version": ')
