"""Bad LabelMe input: each case gives a typed error naming the file, and nothing is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dea_core.errors import ImageLoadError, LabelFileError
from dea_core.io.labelme_json import load_label_file, load_label_image

PAGE = {
    "version": "5.5.0",
    "flags": {},
    "shapes": [{"label": "fleuron", "points": [[1, 2], [30, 40]], "shape_type": "rectangle"}],
    "imagePath": "page.jpg",
    "imageData": None,
    "imageHeight": 375,
    "imageWidth": 500,
}


@pytest.fixture
def folder(tmp_path: Path, labelme_data: Path) -> Path:
    """A folder holding page.jpg (500 x 375), a real photo from the LabelMe examples."""
    shutil.copy(labelme_data / "v4.0.0_bbox" / "2011_000025.jpg", tmp_path / "page.jpg")
    return tmp_path


def _write(folder: Path, content: Any, name: str = "page.json") -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def _page(**changes: Any) -> dict[str, Any]:
    return json.loads(json.dumps(PAGE)) | changes


def _shape(**changes: Any) -> dict[str, Any]:
    return PAGE["shapes"][0] | changes


def _assert_refused(
    error_type: type[Exception], action, path: Path, folder: Path, snapshot, match: str
) -> None:
    before = snapshot(folder)
    with pytest.raises(error_type, match=match) as caught:
        action()
    assert str(path) in str(caught.value)
    assert snapshot(folder) == before


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"shapes": [', "is not valid JSON .* line 1"),
        ([PAGE], "looks like it is not a LabelMe file .* list"),
        (
            {"images": [], "annotations": [], "categories": []},
            "looks like a COCO annotation file, not a LabelMe file",
        ),
        (_page(shapes=[_shape(points=[[1, 2]])]), "rectangle needs at least 2 points, has 1"),
        (_page(shapes=[_shape(shape_type="hexagon")]), "unknown shape_type 'hexagon'"),
        (_page(shapes=[_shape(shape_type=["rectangle"])]), "unknown shape_type \\['rectangle'\\]"),
        (_page(shapes=[_shape(points=[["1", 2], [3, 4]])]), "not \\[x, y\\] with two finite numbers"),
        (_page(shapes=[_shape(group_id="3")]), "'group_id' must be a whole number"),
        (_page(shapes=[_shape(shape_type="mask")]), "mask shape needs its 'mask'"),
        (_page(shapes=[_shape(shape_type="polygon")]), "polygon needs at least 3 points"),
        (_page(shapes=[_shape(shape_type="oriented_rectangle")]), "oriented_rectangle needs at least 4"),
        (_page(imageData="iVBORw0KGgo%%%not base64"), "'imageData' is not valid base64"),
        (_page(imagePath=None), "'imagePath' must name the picture"),
    ],
    ids=[
        "not-json",
        "json-list",
        "coco",
        "rectangle-1-point",
        "unknown-type",
        "list-type",
        "text-coordinate",
        "group-id-text",
        "mask-without-mask",
        "polygon-2-points",
        "oriented-rectangle-2-points",
        "corrupt-base64",
        "no-image-path",
    ],
)
def test_bad_json_is_refused(folder: Path, snapshot, content: Any, match: str) -> None:
    path = _write(folder, content)

    _assert_refused(LabelFileError, lambda: load_label_file(path), path, folder, snapshot, match)


def test_declared_size_disagreeing_with_embedded_picture(folder: Path, snapshot) -> None:
    import base64

    data = base64.b64encode((folder / "page.jpg").read_bytes()).decode()
    path = _write(folder, _page(imageData=data, imageHeight=338))

    _assert_refused(
        LabelFileError,
        lambda: load_label_file(path),
        path,
        folder,
        snapshot,
        "say 500 x 338 but the picture in imageData is 500 x 375",
    )


def test_declared_size_disagreeing_with_image_file(folder: Path, snapshot) -> None:
    path = _write(folder, _page(imageHeight=338))
    label_file = load_label_file(path)  # the JSON alone is fine; the picture is only read on demand

    _assert_refused(
        LabelFileError,
        lambda: load_label_image(label_file),
        path,
        folder,
        snapshot,
        "say 500 x 338 but the picture 'page.jpg' is 500 x 375",
    )


def test_missing_image_names_json_and_image_path(folder: Path, snapshot) -> None:
    path = _write(folder, _page(imagePath="p3.jpg"), name="page3.json")
    label_file = load_label_file(path)

    _assert_refused(
        LabelFileError,
        lambda: load_label_image(label_file),
        path,
        folder,
        snapshot,
        "page3.json: imagePath 'p3.jpg' not found next to the JSON",
    )


def test_truncated_jpeg_behind_a_label_file(folder: Path, snapshot) -> None:
    whole = (folder / "page.jpg").read_bytes()
    (folder / "page.jpg").write_bytes(whole[: len(whole) // 3])
    label_file = load_label_file(_write(folder, PAGE))

    _assert_refused(
        ImageLoadError,
        lambda: load_label_image(label_file),
        folder / "page.jpg",
        folder,
        snapshot,
        "truncated",
    )


def test_decompression_bomb_behind_a_label_file(folder: Path, snapshot, png_header) -> None:
    (folder / "bomb.png").write_bytes(png_header(30000, 30000))
    label_file = load_label_file(
        _write(folder, _page(imagePath="bomb.png", imageWidth=None, imageHeight=None))
    )

    _assert_refused(
        ImageLoadError,
        lambda: load_label_image(label_file),
        folder / "bomb.png",
        folder,
        snapshot,
        str(30000 * 30000),
    )


def test_image_path_that_is_a_folder(folder: Path, snapshot) -> None:
    (folder / "scans").mkdir()
    label_file = load_label_file(_write(folder, _page(imagePath="scans")))

    _assert_refused(
        ImageLoadError,
        lambda: load_label_image(label_file),
        folder / "scans",
        folder,
        snapshot,
        "is a folder",
    )


def test_json_path_that_is_missing_or_a_folder(folder: Path, snapshot) -> None:
    _assert_refused(
        LabelFileError,
        lambda: load_label_file(folder / "none.json"),
        folder / "none.json",
        folder,
        snapshot,
        "file not found",
    )
    _assert_refused(LabelFileError, lambda: load_label_file(folder), folder, folder, snapshot, "is a folder")
