"""Opening pages in the AutoLabelme window: JSON, picture, folder, and files that are broken."""

import json
import shutil

from PyQt5.QtCore import Qt

from dea_core.matching.review import PageReview

pytest_plugins = ["autolabelme.testing"]


def test_opening_a_labelme_json_shows_the_page_its_template_and_its_label(window, page):
    assert window.open_path(page)
    assert window.document.image.shape == (2500, 1454, 3)
    assert window.label_list.labels() == ["1"]
    assert window.label_list.count_of("1") == "-"  # not matched yet
    assert window.current_label == "1"
    assert window.document.review.get("1").note.startswith("Fleuron of the Act I headpiece")
    assert list(window.page_view.boxes()) == [("template", "1", 0)]
    assert window.windowTitle().startswith(page.name)
    assert not window.isWindowModified()
    assert window.settings.recent_files()[0] == page


def test_opening_a_picture_starts_an_empty_page_saved_beside_it(driver, window, tmp_path):
    picture = driver.copy_sample(tmp_path / "scan").with_suffix(".jpg")
    (tmp_path / "lone").mkdir()
    shutil.move(picture, tmp_path / "lone" / "page.jpg")
    assert window.open_path(tmp_path / "lone" / "page.jpg")
    assert window.document.review == PageReview()
    assert window.document.json_path == tmp_path / "lone" / "page.json"
    assert not window.act.rematch.isEnabled()
    assert "No label yet" in window.controls.label_title.text()


def test_a_corrupt_picture_is_refused_in_a_dialog_and_the_open_page_stays(driver, window, page, dialogs, tmp_path):
    window.open_path(page)
    driver.match_current(window)
    before, steps = window.document, window.undo_stack.count()
    broken = driver.copy_sample(tmp_path / "broken", "bad")
    broken.with_suffix(".jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)

    assert not window.open_path(broken)

    [(_, title, text)] = dialogs.of_kind("warning")
    assert "cannot open" in title and "bad.jpg" in text
    assert window.document is before and window.undo_stack.count() == steps
    assert window.current_entry().count() == driver.sample_count
    assert window.isWindowModified()


def test_broken_json_is_refused_in_a_dialog_and_nothing_changes(window, page, dialogs, tmp_path):
    window.open_path(page)
    broken = tmp_path / "broken.json"
    broken.write_text('{"shapes": [', encoding="utf-8")

    assert not window.open_path(broken)

    [(_, _, text)] = dialogs.of_kind("warning")
    assert "broken.json" in text and "not valid JSON" in text
    assert window.document.source == page
    assert window.label_list.labels() == ["1"]


def test_an_empty_folder_is_refused_with_a_message(window, dialogs, tmp_path):
    (tmp_path / "empty").mkdir()
    assert not window.open_path(tmp_path / "empty")
    assert "no pictures" in dialogs.of_kind("warning")[0][2]
    assert window.document is None


def test_folder_mode_carries_the_templates_to_the_next_page_and_steps_back(driver, window, tmp_path):
    folder = tmp_path / "book"
    driver.copy_sample(folder, "p1")
    second = driver.copy_sample(folder, "p2")
    second.unlink()  # page 2 is a bare scan: its templates come from page 1

    assert window.open_path(folder)
    assert window.document.source.name == "p1.json" and window.page_label.text() == "page 1 of 2"
    assert not window.act.previous_page.isEnabled()
    driver.match_current(window)
    assert window.save_json()

    window.act.next_page.trigger()
    assert window.document.source.name == "p2.jpg" and window.page_label.text() == "page 2 of 2"
    entry = window.current_entry()
    assert entry.label == "1" and entry.templates == () and not entry.matched
    assert window.carried_pages() == {"1": "p1.json"}
    driver.match_current(window)
    assert window.current_entry().count() == driver.sample_count

    window.act.previous_page.trigger()  # the unsaved page 2 is discarded (the recorder answers Discard)
    assert window.document.source.name == "p1.json"
    assert window.current_entry().count() == driver.sample_count  # as saved


def test_a_folders_pages_are_each_pictures_json_or_the_picture_without_hidden_or_note_files(tmp_path):
    from autolabelme.folder import pages_in_folder

    for name in ("a.jpg", "a.json", "b.png", "c.json", ".a.json.1234.tmp", ".old.autosave.json",
                 "a.label_notes.json", "readme.txt"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in pages_in_folder(tmp_path)] == ["a.json", "b.png", "c.json"]


def test_a_page_whose_dea_record_another_tool_wrote_opens_with_the_verdicts_it_can_read(window, page, dialogs):
    data = json.loads(page.read_text(encoding="utf-8"))
    data["dea"] = {"threshold": "high", "model": "theirs.pt",
                   "unmatched": [{"label": "unknown vignette", "box": [10, 20, 60, 70], "anomaly": True,
                                  "anomaly_score": "?", "unknown": True},
                                 {"label": "no box"}, {"box": [1, 2, 3, 4]}, {"label": "short", "box": [1, 2]},
                                 {"label": "nan", "box": [0, 0, "nan", 5]}, 7]}
    page.write_text(json.dumps(data), encoding="utf-8")
    before = page.read_bytes()

    assert window.open_path(page)

    assert not dialogs.of_kind("warning")
    scores = window.document.scores
    assert [(v.label, v.box, v.anomaly_score, v.unknown) for v in scores.verdicts] == \
        [("unknown vignette", (10.0, 20.0, 60.0, 70.0), 0.0, True)]
    assert scores.threshold == 0.0 and scores.model == "theirs.pt"
    assert page.read_bytes() == before


def test_a_flagged_vignette_is_drawn_hatched_unlike_a_match_of_the_same_red(driver, window, page):
    data = json.loads(page.read_text(encoding="utf-8"))
    data["dea"] = {"threshold": 0.2, "model": "dea.pt",
                   "unmatched": [{"label": "unknown vignette", "box": [10, 20, 60, 70], "anomaly": True,
                                  "anomaly_score": 1.0, "unknown": True}]}
    page.write_text(json.dumps(data), encoding="utf-8")
    assert window.open_path(page)
    driver.match_current(window)

    items = window.page_view.boxes()
    [flagged] = [item for key, item in items.items() if key[0] == "anomaly"]
    others = [item for key, item in items.items() if key[0] != "anomaly"]
    assert flagged.brush().style() == Qt.BDiagPattern
    assert others and all(item.brush().style() != Qt.BDiagPattern for item in others)
