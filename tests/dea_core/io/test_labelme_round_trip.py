"""Real LabelMe files from 3.x to 5.7 survive load + save, and LabelMe's own loader opens the result."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dea_core.io.images import encode_png, read_image
from dea_core.io.labelme_json import (
    LABELME_FORMAT_VERSION,
    Shape,
    label_file_from_dict,
    label_file_to_dict,
    load_label_file,
    load_label_image,
    new_label_file,
    save_label_file,
)

LABELME_DATA = Path(__file__).resolve().parents[2] / "data" / "labelme"
REAL_LABEL_FILES = [
    "v5.7.0_primitives/primitives.json",
    "v5.3.1_bbox_imagedata/2011_000006.json",
    "v4.0.0_bbox/2011_000025.json",
    "v3.14.2_polygon/2011_000003.json",
    "v3.5.0_primitives/primitives.json",
    "noversion_legacy_polygon_imagedata/apc2016_obj3.json",
]


def _expected_after_save(original: dict[str, Any], source: Path, target: Path) -> dict[str, Any]:
    """The input as LabelMe 6 needs it: imagePath relative to the new folder unless the picture is
    embedded, and the keys its loader requires (`imageData`, `shape_type`) added where missing."""
    expected = copy.deepcopy(original)
    expected.setdefault("imageData", None)
    if expected["imageData"] is None:
        picture = source.parent / expected["imagePath"]
        expected["imagePath"] = Path(os.path.relpath(picture, target.parent)).as_posix()
    for shape in expected["shapes"]:
        shape.setdefault("shape_type", "polygon")
    return expected


def _assert_same_key_order(written: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(written) == [key for key in expected if key in written]
    for out_shape, in_shape in zip(written["shapes"], expected["shapes"], strict=True):
        assert list(out_shape) == [key for key in in_shape if key in out_shape]


@pytest.mark.parametrize("relative", REAL_LABEL_FILES)
def test_real_file_round_trips_in_meaning(relative: str, tmp_path: Path) -> None:
    source = LABELME_DATA / relative
    target = tmp_path / "elsewhere" / source.name
    target.parent.mkdir()

    save_label_file(load_label_file(source), target)

    original = json.loads(source.read_text(encoding="utf-8"))
    written = json.loads(target.read_text(encoding="utf-8"))
    expected = _expected_after_save(original, source, target)
    assert written == expected
    _assert_same_key_order(written, expected)


@pytest.mark.parametrize("relative", REAL_LABEL_FILES)
def test_labelme_opens_what_we_wrote(relative: str, tmp_path: Path, labelme_reader) -> None:
    source = LABELME_DATA / relative
    ours = load_label_file(source)
    target = tmp_path / "elsewhere" / source.name
    target.parent.mkdir()
    save_label_file(ours, target)

    theirs = labelme_reader(str(target))

    assert [s["label"] for s in theirs.shapes] == [s.label for s in ours.shapes]
    assert [s["shape_type"] for s in theirs.shapes] == [s.shape_type for s in ours.shapes]
    for their_shape, our_shape in zip(theirs.shapes, ours.shapes, strict=True):
        np.testing.assert_allclose(np.asarray(their_shape["points"], float), our_shape.points)
        assert their_shape["other_data"] == our_shape.extra
    assert theirs.other_data == ours.extra


@pytest.mark.parametrize("relative", REAL_LABEL_FILES)
def test_reloaded_file_equals_the_original(relative: str, tmp_path: Path) -> None:
    source = LABELME_DATA / relative
    original = load_label_file(source)
    target = tmp_path / source.name

    save_label_file(original, target)
    reloaded = load_label_file(target)

    assert reloaded.shapes == original.shapes
    assert (reloaded.version, reloaded.flags, reloaded.extra) == (
        original.version,
        original.flags,
        original.extra,
    )
    assert (reloaded.image_width, reloaded.image_height) == (original.image_width, original.image_height)
    np.testing.assert_array_equal(load_label_image(reloaded), load_label_image(original))


def test_every_shape_type_of_the_primitives_file() -> None:
    label_file = load_label_file(LABELME_DATA / "v5.7.0_primitives" / "primitives.json")

    types = {shape.shape_type for shape in label_file.shapes}

    assert types == {"rectangle", "circle", "polygon", "line", "point", "linestrip", "mask"}
    assert all(isinstance(xy, float) for shape in label_file.shapes for point in shape.points for xy in point)


def test_legacy_shapes_without_shape_type_are_polygons() -> None:
    label_file = load_label_file(LABELME_DATA / "noversion_legacy_polygon_imagedata" / "apc2016_obj3.json")

    assert label_file.version is None
    assert [shape.shape_type for shape in label_file.shapes] == ["polygon"] * 4
    assert label_file.shapes[0].extra == {"line_color": None, "fill_color": None}


def test_image_path_naming_the_json_itself_finds_the_picture_beside_it() -> None:
    json_path = LABELME_DATA / "noversion_legacy_polygon_imagedata" / "apc2016_obj3.json"
    label_file = load_label_file(json_path)

    assert label_file.image_path == "apc2016_obj3.json"
    assert label_file.image_file() == json_path.with_suffix(".jpg")
    np.testing.assert_array_equal(load_label_image(label_file), read_image(json_path.with_suffix(".jpg")))


def test_saving_beside_the_original_keeps_image_path_as_stored(tmp_path: Path, copy_real) -> None:
    source = copy_real("v3.14.2_polygon/2011_000003.json")
    data = json.loads(source.read_text())
    data["imagePath"] = "..\\v3.14.2_polygon\\2011_000003.jpg"  # written by LabelMe on Windows
    source.write_text(json.dumps(data))
    label_file = load_label_file(source)

    target = save_label_file(label_file, source.with_name("copy.json"))

    assert label_file.image_file().resolve() == source.with_suffix(".jpg").resolve()
    assert json.loads(target.read_text())["imagePath"] == "..\\v3.14.2_polygon\\2011_000003.jpg"
    assert load_label_image(load_label_file(target)).shape == (338, 500, 3)


def test_dataclass_replace_keeps_the_round_trip() -> None:
    """Callers copy files with dataclasses.replace; the copy must still write what the file had."""
    import dataclasses

    label_file = load_label_file(LABELME_DATA / "v3.5.0_primitives" / "primitives.json")

    copied = dataclasses.replace(label_file, shapes=list(label_file.shapes))

    assert label_file_to_dict(copied) == label_file_to_dict(label_file)
    assert "imageHeight" not in label_file_to_dict(copied)


def test_file_built_in_memory_opens_in_labelme(tmp_path: Path, labelme_reader) -> None:
    page = np.full((120, 200, 3), 255, np.uint8)
    picture = tmp_path / "scans" / "page.png"
    picture.parent.mkdir()
    picture.write_bytes(encode_png(page))
    match = {"score": 0.93, "rotation": 90, "flip": "none", "scale": 1.0, "template": False}
    shapes = [
        Shape("fleuron", [[10, 10], [40, 30]]),
        Shape("initial", [[50, 10], [90, 10], [70, 40]], shape_type="polygon", group_id=2),
        Shape("fleuron", [[100, 50], [130, 60], [125, 75], [95, 65]], shape_type="oriented_rectangle"),
        Shape("fleuron", [[150, 80], [180, 100]], description="found", extra={"match": match}),
    ]
    target = tmp_path / "results" / "page.json"
    target.parent.mkdir()

    save_label_file(new_label_file(picture, 200, 120, shapes), target)
    theirs = labelme_reader(str(target))
    ours = load_label_file(target)

    assert [s["shape_type"] for s in theirs.shapes] == [
        "rectangle",
        "polygon",
        "oriented_rectangle",
        "rectangle",
    ]
    assert theirs.shapes[3]["other_data"] == {"match": match}
    assert theirs.shapes[1]["group_id"] == 2
    assert ours.shapes == shapes
    assert ours.version == LABELME_FORMAT_VERSION
    assert ours.image_path == "../scans/page.png"
    np.testing.assert_array_equal(load_label_image(ours), page)


def test_dict_api_round_trips_unknown_keys_at_every_level() -> None:
    data = {
        "version": "7.0.0",
        "future_top": {"a": [1, 2]},
        "shapes": [{"label": "x", "points": [[1, 2], [3, 4]], "shape_type": "line", "future_shape": True}],
        "imagePath": "p.png",
        "imageData": None,
    }

    label_file = label_file_from_dict(data, "memory.json")

    assert label_file.extra == {"future_top": {"a": [1, 2]}}
    assert label_file.shapes[0].extra == {"future_shape": True}
    assert label_file_to_dict(label_file) == data
