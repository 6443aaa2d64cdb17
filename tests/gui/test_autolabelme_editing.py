"""Editing in the AutoLabelme window: click to accept or reject, draw and delete boxes, undo/redo,
Correct Label, renaming, zoom and pan."""

import time

import numpy as np
from PyQt5.QtCore import QPoint, QPointF, Qt
from PyQt5.QtGui import QWheelEvent
from PyQt5.QtWidgets import QApplication

pytest_plugins = ["autolabelme.testing"]


def matched(driver, window, page):
    window.open_path(page)
    driver.match_current(window)
    return window.current_entry()


def a_found_box(entry, index=3):
    """A found match away from the template box, and its key."""
    item = [i for i in entry.shown() if not i.added][index]
    return item, ("match", entry.label, item.key)


def test_clicking_a_box_rejects_then_accepts_it_and_undo_redo_replay_it(driver, window, page, qtbot):
    entry = matched(driver, window, page)
    item, key = a_found_box(entry)
    x, y = item.match.centre

    driver.click_page(window, x, y)
    assert window.current_entry().count() == 21
    assert item.key in window.current_entry().rejected
    assert window.page_view.selected() == key
    assert "rejected, click to accept" in window.statusBar().currentMessage()
    assert window.page_view.boxes()[key].spec.style.value == "rejected"
    assert window.label_list.count_of("1") == "21"
    assert window.overview.box_count() == 21 + 1  # kept boxes and the template box

    driver.click_page(window, x, y)
    assert window.current_entry().count() == 22

    qtbot.keyClick(window.page_view, Qt.Key_Z, Qt.ControlModifier)
    assert window.current_entry().count() == 21
    window.undo_action.trigger()
    assert window.current_entry().count() == 22
    window.undo_action.trigger()  # back to before any match
    assert not window.current_entry().matched
    qtbot.keyClick(window.page_view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.current_entry().count() == 22
    window.redo_action.trigger()
    assert window.current_entry().count() == 21
    qtbot.keyClick(window.page_view, Qt.Key_Y, Qt.ControlModifier)
    assert window.current_entry().count() == 22
    assert window.isWindowModified()


def test_x_key_and_delete_reject_the_selected_box(driver, window, page, qtbot):
    entry = matched(driver, window, page)
    _, key = a_found_box(entry, 5)
    window.page_view.select(key)
    qtbot.keyClick(window.page_view, Qt.Key_X)
    assert window.current_entry().count() == 21
    qtbot.keyClick(window.page_view, Qt.Key_X)
    assert window.current_entry().count() == 22
    qtbot.keyClick(window.page_view, Qt.Key_Delete)
    assert window.current_entry().count() == 21


def test_drawing_a_template_box_names_it_with_a_note_and_undo_removes_it(driver, window, page, dialogs, qtbot):
    window.open_path(page)
    qtbot.keyClick(window.page_view, Qt.Key_T)
    assert window.act.draw_template.isChecked() and "Drawing template" in window.mode_label.text()
    dialogs.names.append(("0 This is a Sun", ""))
    driver.drag_page(window, (700, 900), (800, 980))

    [(_, _, suggested)] = dialogs.of_kind("name")
    assert suggested == "0"  # the first free number, as in the original's "0 This is a Sun"
    entry = window.document.review.get("0")
    assert entry.note == "This is a Sun"
    pixel = 1 / window.page_view.current_scale()  # page pixels under one screen pixel
    assert np.allclose(entry.templates[0], (700, 900, 800, 980), atol=3 * pixel)
    assert window.current_label == "0"
    assert window.label_list.labels() == ["1", "0"]

    # The keyboard is back on the page after the name dialog: Esc works without a click first.
    assert QApplication.focusWidget() is window.page_view
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Escape)
    assert not window.act.draw_template.isChecked()
    window.undo_action.trigger()
    assert window.document.review.names() == ["1"]


def test_a_cancelled_name_dialog_or_a_tiny_drag_adds_nothing(driver, window, page, dialogs):
    window.open_path(page)
    window.act.draw_template.trigger()
    driver.drag_page(window, (700, 900), (800, 980))  # the recorder cancels the dialog
    driver.drag_page(window, (700, 900), (701, 901))  # a slip of the mouse: no dialog
    assert len(dialogs.of_kind("name")) == 1
    assert window.document.review.names() == ["1"] and window.undo_stack.count() == 0


def test_a_template_is_picked_by_its_outline_and_deleted_with_del(driver, window, page, qtbot):
    window.open_path(page)
    x0, y0, _, y1 = window.current_entry().templates[0]
    driver.click_page(window, x0, (y0 + y1) / 2)  # on the left edge
    assert window.page_view.selected() == ("template", "1", 0)
    qtbot.keyClick(window.page_view, Qt.Key_Delete)
    assert window.document.review.names() == []  # nothing else was left of label 1
    assert window.current_label is None
    window.undo_action.trigger()
    assert window.document.review.names() == ["1"] and window.current_label == "1"


def test_a_missed_box_is_added_by_dragging_and_counts(driver, window, page, qtbot):
    matched(driver, window, page)
    qtbot.keyClick(window.page_view, Qt.Key_B)
    assert window.page_view.mode().value == "add missed box"
    driver.drag_page(window, (600, 1500), (680, 1590))
    entry = window.current_entry()
    assert entry.count() == 23 and len(entry.added) == 1
    key = ("match", "1", ("added", 0))
    assert window.page_view.boxes()[key].spec.tag == "added"
    qtbot.keyClick(window.page_view, Qt.Key_Escape)
    driver.click_page(window, 640, 1545)  # a click rejects it like any box
    assert window.current_entry().count() == 22
    window.page_view.select(key)
    window.act.delete_selected.trigger()  # Del removes an added box for good
    assert window.current_entry().added == ()


def test_ctrl_drag_adds_a_missed_box_without_changing_mode(driver, window, page):
    matched(driver, window, page)
    driver.drag_page(window, (600, 1500), (680, 1590), modifier=Qt.ControlModifier)
    assert window.page_view.mode().value == "browse"
    assert len(window.current_entry().added) == 1 and window.current_entry().count() == 23
    driver.drag_page(window, (600, 1500), (500, 1400))  # a plain drag pans
    assert len(window.current_entry().added) == 1


def test_correct_label_reports_every_box_plain_and_undoes(driver, window, page):
    entry = matched(driver, window, page)
    assert any(item.match.pose.rotation or item.match.pose.flip != "none" for item in entry.shown())
    window.act.correct_label.trigger()
    plain = window.current_entry().shown()
    assert all(item.match.pose.rotation == 0 and item.match.pose.flip == "none" for item in plain)
    assert [item.match.box for item in plain] == [item.match.box for item in entry.shown()]
    colours = {spec.colour.name() for spec in (b.spec for b in window.page_view.boxes().values())
               if spec.style.value == "match"}
    assert colours == {"#dc2828"}  # all red: plain
    window.undo_action.trigger()
    assert window.current_entry() == entry


def test_renaming_a_label_renames_its_boxes(driver, window, page, dialogs):
    matched(driver, window, page)
    dialogs.names.append(("fleuron", "upper and lower rows"))
    window.act.rename_label.trigger()
    entry = window.current_entry()
    assert entry.label == "fleuron" and entry.note == "upper and lower rows"
    assert {m.label for m in entry.accepted()} == {"fleuron"}
    assert window.label_list.labels() == ["fleuron"]


def test_wheel_zooms_under_the_pointer_keys_zoom_and_fit_and_a_drag_pans(driver, window, page, qtbot):
    window.resize(1500, 800)  # a page view wide enough for a point off its centre and far from its edges
    qtbot.waitUntil(lambda: window.page_view.viewport().width() > 500)
    window.open_path(page)
    view = window.page_view
    fit = view.current_scale()
    page_rect = view.page_rect()
    held = QPointF(page_rect.width() * 0.55, page_rect.height() * 0.3)  # off the view's centre, far from the edges
    pointer = view.mapFromScene(held)
    held = view.mapToScene(pointer)  # the page point under that screen pixel
    assert (pointer - view.viewport().rect().center()).manhattanLength() > 100
    for _ in range(3):
        wheel = QWheelEvent(QPointF(pointer), QPointF(view.viewport().mapToGlobal(pointer)), QPoint(0, 0),
                            QPoint(0, 240), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        view.wheelEvent(wheel)
    assert view.current_scale() > fit * 3
    under = view.mapToScene(pointer)
    assert abs(under.x() - held.x()) < 2 and abs(under.y() - held.y()) < 2  # the fleuron stays under the pointer
    window.act.fit.trigger()
    assert abs(view.current_scale() - fit) < 1e-6
    qtbot.keyClick(view, Qt.Key_Plus, Qt.ControlModifier)
    qtbot.keyClick(view, Qt.Key_Plus, Qt.ControlModifier)
    assert view.current_scale() > fit
    window.act.actual_size.trigger()
    assert abs(view.current_scale() - 1.0) < 1e-6
    assert window.zoom_label.text() == "100%"

    before = view.visible_page_rect().center()
    driver.drag_page(window, (700, 1200), (600, 1100))
    after = view.visible_page_rect().center()
    assert after.x() > before.x() + 50 and after.y() > before.y() + 50
    assert window.undo_stack.count() == 0  # panning is not an edit


def test_zooming_a_3000_by_2000_scan_repaints_quickly(driver, window, tmp_path):
    import cv2

    rng = np.random.default_rng(0)
    scan = rng.integers(0, 255, (2000, 3000, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "big.png"), scan)
    window.open_path(tmp_path / "big.png")
    view = window.page_view
    view.viewport().repaint()
    started = time.perf_counter()
    for step in range(12):
        (view.zoom_in if step < 6 else view.zoom_out)()
        view.viewport().repaint()
    per_step = (time.perf_counter() - started) / 12
    print(f"zoom step with repaint on 3000x2000: {per_step * 1000:.0f} ms")
    assert per_step < 0.25
