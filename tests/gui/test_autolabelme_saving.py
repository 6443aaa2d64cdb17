"""Saving in the AutoLabelme window: LabelMe JSON that labelme's own loader opens, crops, the
unsaved-changes prompt, autosave recovery, the LabelMe round trip and remembered settings."""

import json
import os
import stat
import sys

from PyQt5.QtWidgets import QMessageBox

from autolabelme.search_settings import SearchSettings
from dea_core.paths import SAMPLE_PAGE_JSON

pytest_plugins = ["autolabelme.testing"]


def reject_one_and_add_one(driver, window):
    item = [i for i in window.current_entry().shown() if not i.added][4]
    driver.click_page(window, *item.match.centre)
    window.act.add_missed.trigger()
    driver.drag_page(window, (600, 1500), (680, 1590))
    window.act.cancel.trigger()
    return item


def test_save_json_writes_what_labelme_loads_and_reopening_gives_the_same_boxes(driver, window, page, tmp_path):
    window.open_path(page)
    driver.match_current(window)
    reject_one_and_add_one(driver, window)
    assert window.current_entry().count() == 22  # 22 - 1 rejected + 1 added
    out = tmp_path / "out" / "checked.json"
    out.parent.mkdir()

    assert window.save_json_as(out)
    assert not window.isWindowModified() and window.document.json_path == out

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from labelme import LabelFile

    loaded = LabelFile(str(out))
    assert len(loaded.shapes) == 22
    records = [shape["other_data"]["match"] for shape in loaded.shapes]
    assert sum(r["template"] for r in records) == 1
    assert sum(r.get("manual", False) for r in records) == 1
    assert all(shape["label"] == "1" for shape in loaded.shapes)
    assert all(shape["description"].startswith("Fleuron") for shape in loaded.shapes)
    assert json.loads((out.parent / "checked.label_notes.json").read_text())["1"].startswith("Fleuron")
    assert json.loads(out.read_text())["imagePath"] == "../pages/" + page.with_suffix(".jpg").name

    second = driver.window()
    assert second.open_path(out)
    entry = second.current_entry()
    assert entry.count() == 22 and len(entry.added) == 1 and len(entry.templates) == 1
    assert entry.matched and entry.rejected == frozenset()


def test_save_images_cuts_every_kept_box_into_a_folder_per_label(driver, window, page, tmp_path, dialogs):
    window.open_path(page)
    driver.match_current(window)
    reject_one_and_add_one(driver, window)
    dialogs.folders.append(str(tmp_path / "crops"))
    assert window.save_images()
    files = sorted((tmp_path / "crops" / "1").glob("*.png"))
    assert len(files) == 22
    assert any("180deg" in f.name or "flipped" in f.name for f in files)


def test_the_unsaved_changes_prompt_can_cancel_discard_or_save(driver, window, page, dialogs, tmp_path):
    window.open_path(page)
    driver.match_current(window)
    other = driver.copy_sample(tmp_path / "other", "other")

    dialogs.questions.append(QMessageBox.Cancel)
    assert not window.open_path(other)
    assert window.document.source == page and window.isWindowModified()

    dialogs.questions.append(QMessageBox.Save)
    assert window.open_path(other)
    saved = json.loads(page.read_text())
    assert len(saved["shapes"]) == 22  # Save wrote the page before the other opened

    driver.match_current(window)
    dialogs.questions.append(QMessageBox.Discard)
    assert window.open_path(page)
    assert len(json.loads(other.read_text())["shapes"]) == 1  # discarded: the file is untouched
    assert [call[0] for call in dialogs.calls].count("question") == 3

    window.close()  # nothing unsaved: no question
    assert [call[0] for call in dialogs.calls].count("question") == 3


def test_autosave_after_a_match_is_offered_back_at_the_next_start(driver, window, page, dialogs):
    window.open_path(page)
    driver.match_current(window)
    reject_one_and_add_one(driver, window)
    window.autosave_now()
    original = page.read_text()
    assert list((driver.tmp_path / "autosave").glob("*.meta.json"))
    window.hide()  # the session ends without closing properly (a crash): the autosave stays

    second = driver.window()
    dialogs.questions.append(QMessageBox.Yes)
    assert second.offer_recovery()
    entry = second.current_entry()
    assert entry.count() == 22 and len(entry.added) == 1
    assert second.isWindowModified() and page.read_text() == original
    assert second.document.json_path == page
    assert second.save_json()
    assert len(json.loads(page.read_text())["shapes"]) == 22
    assert not list((driver.tmp_path / "autosave").glob("*.json"))  # saved: the autosave is gone

    third = driver.window()
    assert not third.offer_recovery() and third.document is None


def test_declining_recovery_deletes_the_autosave(driver, window, page, dialogs):
    window.open_path(page)
    driver.match_current(window)
    window.hide()
    second = driver.window()
    dialogs.questions.append(QMessageBox.No)
    assert not second.offer_recovery()
    assert not list((driver.tmp_path / "autosave").glob("*.json"))


def fake_labelme(folder, body):
    """An executable that stands in for `labelme FILE`."""
    script = folder / "fake-labelme"
    script.write_text(f"#!{sys.executable}\nimport json, sys\npath = sys.argv[1]\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_open_in_labelme_saves_launches_and_reloads_what_labelme_saved(driver, page, tmp_path, qtbot):
    program = fake_labelme(tmp_path, (
        "data = json.load(open(path))\n"
        "data['shapes'].append({'label': '9', 'points': [[10, 10], [60, 60]], 'shape_type': 'rectangle'})\n"
        "json.dump(data, open(path, 'w'))"))
    window = driver.window(labelme_program=program)
    window.open_path(page)
    driver.match_current(window)
    window.act.open_in_labelme.trigger()
    assert len(json.loads(page.read_text())["shapes"]) == 22  # saved before LabelMe opened it
    qtbot.waitUntil(lambda: "9" in window.document.review, timeout=15000)
    assert window.document.review.get("1").count() == 22
    assert "Reloaded" in window.statusBar().currentMessage()
    assert not window.isWindowModified()


def test_open_in_labelme_without_labelme_says_how_to_install_it(driver, window, page, dialogs):
    window.open_path(page)
    window.act.open_in_labelme.trigger()
    [(_, title, text)] = dialogs.of_kind("warning")
    assert "LabelMe" in title and "pip install" in text


def test_search_options_and_recent_files_are_remembered(driver, window, page):
    search = SearchSettings(rotation_min=0, rotation_max=270, rotation_step=90, flip=True, neighbourhood=4,
                            scale_min=0.9, scale_max=1.1, scale_count=3)
    window.open_path(page)
    window.controls.set_search_settings(search)
    window.close()
    second = driver.window()
    assert second.controls.search_settings() == search
    assert second.settings.recent_files() == [page]
    assert second.settings.last_folder() == page.parent


def test_the_bundled_sample_is_read_only_ctrl_s_saves_a_copy_where_the_person_chooses(driver, window, dialogs,
                                                                                      tmp_path):
    before = SAMPLE_PAGE_JSON.read_bytes()
    window.open_path(SAMPLE_PAGE_JSON)
    assert window.document.json_path is None and "read-only" in window.statusBar().currentMessage()
    driver.match_current(window)
    dialogs.files.extend([str(SAMPLE_PAGE_JSON), str(tmp_path / "mine.json")])

    assert not window.save_json()  # the first answer is the bundled file itself: refused
    assert "read-only" in dialogs.of_kind("warning")[0][2]
    assert window.save_json()
    asked = dialogs.of_kind("save")
    assert len(asked) == 2 and window.document.json_path == tmp_path / "mine.json"
    assert SAMPLE_PAGE_JSON.read_bytes() == before
    assert len(json.loads((tmp_path / "mine.json").read_text())["shapes"]) == 22
