"""AutoLabelme's label notes: '0 This is a Sun' is label '0' with a note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dea_core.errors import DeaError, LabelFileError
from dea_core.io.label_notes import apply_label_notes, read_label_notes, split_label_note, write_label_notes
from dea_core.io.labelme_json import load_label_file, save_label_file


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 This is a Sun", ("0", "This is a Sun")),
        ("0", ("0", None)),
        ("fleuron", ("fleuron", None)),
        ("12   two  spaces inside  ", ("12", "two  spaces inside")),
        ("A\tnote after a tab", ("A", "note after a tab")),
        ("", ("", None)),
        ("3 ", ("3 ", None)),
    ],
)
def test_split_label_note(text: str, expected: tuple[str, str | None]) -> None:
    assert split_label_note(text) == expected


def test_apply_moves_notes_into_descriptions(copy_real, labelme_reader) -> None:
    source = copy_real("v3.5.0_primitives/primitives.json")  # LabelMe 3.5: shapes have no description
    data = json.loads(source.read_text())
    data["shapes"][0]["label"] = "0 This is a Sun"
    data["shapes"][1]["label"] = "1 Soleil à rayons"
    data["shapes"][2]["label"] = "0 Another sun, same label"
    source.write_text(json.dumps(data), encoding="utf-8")
    label_file = load_label_file(source)
    label_file.shapes[1].description = "drawn by J."

    notes = apply_label_notes(label_file)

    assert notes == {"0": "This is a Sun", "1": "Soleil à rayons"}
    assert [s.label for s in label_file.shapes[:4]] == ["0", "1", "0", "polygon"]
    assert label_file.shapes[0].description == "This is a Sun"
    assert label_file.shapes[1].description == "drawn by J.\nSoleil à rayons"
    assert label_file.shapes[2].description == "Another sun, same label"
    assert label_file.shapes[3].description is None

    target = save_label_file(label_file, source.with_name("noted.json"))
    theirs = labelme_reader(str(target))
    assert theirs.shapes[1]["description"] == "drawn by J.\nSoleil à rayons"
    assert "description" not in json.loads(target.read_text())["shapes"][3]


def test_apply_twice_changes_nothing_more(copy_real) -> None:
    source = copy_real("v4.0.0_bbox/2011_000025.json")
    label_file = load_label_file(source)
    label_file.shapes[0].label = "0 This is a Sun"
    apply_label_notes(label_file)

    assert apply_label_notes(label_file) == {}
    assert label_file.shapes[0].description == "This is a Sun"


def test_notes_file_written_and_read_back(tmp_path: Path) -> None:
    notes = {"0": "This is a Sun", "1": "Soleil à rayons"}

    path = write_label_notes(notes, tmp_path / "page.label_notes.json")

    assert read_label_notes(path) == notes
    assert json.loads(path.read_text(encoding="utf-8")) == notes
    assert "Soleil à rayons" in path.read_text(encoding="utf-8")


def test_notes_file_is_not_overwritten_by_default(tmp_path: Path) -> None:
    path = write_label_notes({"0": "Sun"}, tmp_path / "notes.json")

    with pytest.raises(DeaError, match="already exists"):
        write_label_notes({"0": "Moon"}, path)

    assert read_label_notes(path) == {"0": "Sun"}
    write_label_notes({"0": "Moon"}, path, overwrite=True)
    assert read_label_notes(path) == {"0": "Moon"}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[1, 2]", "not a label-to-note file"),
        ('{"0": 3}', "not a label-to-note file"),
        ("{", "not valid JSON"),
    ],
)
def test_bad_notes_file_is_refused(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "notes.json"
    path.write_text(content)

    with pytest.raises(LabelFileError, match=match) as caught:
        read_label_notes(path)

    assert str(path) in str(caught.value)
