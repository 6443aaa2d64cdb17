"""Edit mode (Ctrl+J), as in LabelMe: select, move, resize by handles, nudge, delete, duplicate,
change label, copy and paste between pages; every edit undoable and saved, marked as done by hand."""

import json

import numpy as np
from PyQt5.QtCore import Qt

from autolabelme.box_geometry import CORNER, EDGE, handles, resized

pytest_plugins = ["autolabelme.testing"]


def matched_in_edit_mode(driver, window, page, qtbot):
    window.open_path(page)
    driver.match_current(window)
    qtbot.keyClick(window.page_view, Qt.Key_J, Qt.ControlModifier)
    assert window.page_view.mode().value == "edit boxes" and window.act.edit_mode.isChecked()
    item = [i for i in window.current_entry().shown() if not i.added][3]
    return item, ("match", "1", item.key)


def test_a_box_is_moved_resized_by_its_handle_and_nudged_and_each_step_undoes(driver, window, page, qtbot, tmp_path):
    item, key = matched_in_edit_mode(driver, window, page, qtbot)
    before = item.match.quad.copy()
    x, y = item.match.centre
    pixel = 1.5 / window.page_view.current_scale()  # a screen pixel's rounding, in page pixels

    driver.drag_page(window, (x, y), (x + 30, y + 20))
    entry = window.current_entry()
    assert entry.count() == 22 and not entry.rejected  # a press in edit mode selects, never rejects
    assert np.allclose(entry.find(item.key).match.quad, before + np.array([30, 20]), atol=pixel)
    assert window.page_view.selected() == key and window.page_view.boxes()[key].handle_items

    quad = entry.find(item.key).match.quad
    corner = quad.max(axis=0)  # the bottom-right corner on the page, whichever corner index holds it
    driver.drag_page(window, tuple(corner), tuple(corner + np.array([15, 10])))
    grown = window.current_entry().find(item.key).match
    assert np.allclose(grown.quad.max(axis=0), corner + np.array([15, 10]), atol=pixel)
    assert np.allclose(grown.quad.min(axis=0), quad.min(axis=0), atol=0.01)
    assert grown.pose == item.match.pose  # the box keeps its pose

    window.page_view.setFocus()
    qtbot.keyClick(window.page_view, Qt.Key_Right)
    qtbot.keyClick(window.page_view, Qt.Key_Down, Qt.ShiftModifier)
    nudged = window.current_entry().find(item.key).match.quad
    assert np.allclose(nudged, grown.quad + np.array([1, 10]))

    out = tmp_path / "edited.json"
    assert window.save_json_as(out)
    shapes = json.loads(out.read_text())["shapes"]
    edited = [s for s in shapes if s["match"].get("edited")]
    assert len(edited) == 1 and len(shapes) == 22
    assert np.allclose(edited[0]["points"], [nudged.min(axis=0), nudged.max(axis=0)], atol=0.01)
    again = driver.window()
    again.open_path(out)
    assert [i.edited for i in again.current_entry().shown()].count(True) == 1

    for _ in range(4):
        window.undo_action.trigger()
    assert np.allclose(window.current_entry().find(item.key).match.quad, before)
    assert not window.current_entry().edited


def test_delete_duplicate_and_change_label_in_edit_mode(driver, window, page, qtbot, dialogs):
    item, key = matched_in_edit_mode(driver, window, page, qtbot)
    driver.click_page(window, *item.match.centre)
    assert window.page_view.selected() == key

    window.act.duplicate_box.trigger()
    entry = window.current_entry()
    assert entry.count() == 23 and len(entry.added) == 1
    assert np.allclose(entry.added[0].quad, item.match.quad + 12) and entry.added[0].pose == item.match.pose

    window.page_view.select(key)
    qtbot.keyClick(window.page_view, Qt.Key_Delete)  # in edit mode the found box goes, not just rejected
    entry = window.current_entry()
    assert entry.count() == 22 and item.key not in [i.key for i in entry.shown()] and not entry.rejected

    window.page_view.select(("match", "1", ("added", 0)))
    dialogs.names.append(("2", "a fleuron of another kind"))
    window.act.change_box_label.trigger()
    review = window.document.review
    assert review.names() == ["1", "2"] and review.get("1").count() == 21 and review.get("2").count() == 1
    assert review.get("2").note == "a fleuron of another kind"
    for _ in range(3):
        window.undo_action.trigger()
    assert window.document.review.names() == ["1"] and window.current_entry().count() == 22


def test_a_box_copied_on_one_page_is_pasted_on_the_next(driver, window, tmp_path, qtbot):
    folder = tmp_path / "book"
    driver.copy_sample(folder, "p1")
    driver.copy_sample(folder, "p2")
    window.open_folder(folder)
    driver.match_current(window)
    qtbot.keyClick(window.page_view, Qt.Key_J, Qt.ControlModifier)
    item = [i for i in window.current_entry().shown() if not i.added][5]
    driver.click_page(window, *item.match.centre)
    window.act.copy_box.trigger()
    window.undo_stack.setClean()
    window.document.recovered = False
    window.act.next_page.trigger()
    assert window.document.name == "p2.json"
    window.act.paste_box.trigger()
    entry = window.document.review.get("1")
    assert len(entry.added) == 1 and np.allclose(entry.added[0].quad, item.match.quad)
    assert entry.added[0].pose == item.match.pose
    window.undo_action.trigger()
    assert window.document.review.get("1").added == ()


def test_a_rotated_box_is_resized_along_its_own_sides_by_a_corner():
    angle = np.radians(30)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = np.array([[0, 0], [40, 0], [40, 20], [0, 20]], float) @ turn.T + [100, 100]
    assert [h for h, _ in handles(quad)] == [(CORNER, i) for i in range(4)]  # corners only
    taller = resized(quad, (CORNER, 2), tuple(quad[2] + (quad[2] - quad[1]) * 0.5))
    assert np.allclose(taller[0], quad[0])  # the opposite corner stays
    assert np.isclose(np.linalg.norm(taller[1] - taller[0]), 40)
    assert np.isclose(np.linalg.norm(taller[3] - taller[0]), 30)
    upright = np.array([[0, 0], [40, 0], [40, 20], [0, 20]], float)
    assert np.allclose(resized(upright, (EDGE, 1), (70, 5)), [[0, 0], [70, 0], [70, 20], [0, 20]])
    assert np.ptp(resized(upright, (CORNER, 2), (-50, -50))[:, 0]) >= 4  # never folded over


