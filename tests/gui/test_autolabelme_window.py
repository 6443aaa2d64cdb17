"""The AutoLabelme window's frame: closing with unsaved work, the label list, the overview, menus."""

from PyQt5.QtCore import QEvent, QPointF, Qt
from PyQt5.QtGui import QMouseEvent
from PyQt5.QtWidgets import QMessageBox, QTableWidget

from autolabelme.autosave import AUTOSAVE_INTERVAL_MS
from autolabelme.dialogs import ShortcutsDialog

pytest_plugins = ["autolabelme.testing"]


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window_open(driver, window, page, dialogs):
    window.open_path(page)
    driver.match_current(window)
    dialogs.questions.append(QMessageBox.Cancel)
    assert not window.close()
    assert window.isVisible() and "not saved" in dialogs.of_kind("question")[0][2]
    dialogs.questions.append(QMessageBox.Save)
    assert window.close()
    assert page.read_text().count('"label": "1"') == 22


def test_choosing_a_label_in_the_list_shows_its_boxes_and_match_all_matches_every_label(driver, window, page,
                                                                                          dialogs):
    window.open_path(page)
    window.controls.set_search_settings(driver.sample_search)
    window.act.draw_template.trigger()
    dialogs.names.append(("2", "The capital N"))
    driver.drag_page(window, (284, 1010), (345, 1090))
    window.act.cancel.trigger()
    assert window.current_label == "2"

    window.act.match_all.trigger()
    driver.wait_idle(window)
    review = window.document.review
    assert review.get("1").count() == 22 and review.get("2").matched
    assert window.undo_stack.count() == 2  # the template, and one step for matching both labels

    window.label_list.setCurrentItem(window.label_list.topLevelItem(0))
    assert window.current_label == "1"
    shown = {key[1] for key in window.page_view.boxes() if key[0] == "match"}
    assert shown == {"1"}  # the page view shows the current label's boxes only
    assert window.overview.box_count() == 22 + review.get("2").count() + 2  # every label, and templates

    window.act.delete_label.trigger()
    assert window.document.review.names() == ["2"] and window.current_label == "2"
    window.undo_action.trigger()
    assert window.document.review.names() == ["1", "2"]


def test_typing_in_a_search_field_does_not_trigger_single_key_shortcuts(driver, window, page, qtbot):
    window.open_path(page)
    driver.match_current(window)
    chosen = window.current_entry().threshold
    field = window.controls.rotation_max
    field.clear()
    field.setFocus()
    qtbot.keyClicks(field, "-90")
    assert field.text() == "-90"
    assert window.current_entry().threshold == chosen  # "-" went into the field, not to the - button


def test_the_overview_outlines_the_view_and_a_click_there_moves_the_page_view(driver, window, page, qtbot):
    window.open_path(page)
    window.page_view.actual_size()
    assert window.overview._frame.isVisible()
    target = window.overview.mapFromScene(QPointF(700, 2000))
    qtbot.mouseClick(window.overview.viewport(), Qt.LeftButton, pos=target)
    centre = window.page_view.visible_page_rect().center()
    assert abs(centre.x() - 700) < 60 and abs(centre.y() - 2000) < 60
    frame = window.overview._frame.rect()
    assert frame.contains(QPointF(700, 2000))


def test_hovering_a_box_shows_its_score_and_pose(driver, window, page):
    window.open_path(page)
    driver.match_current(window)
    item = next(i for i in window.current_entry().shown() if i.match.pose.rotation == 180)
    # offscreen, QTest moves no pointer without a button held: send the move the view would get
    pos = QPointF(driver.view_point(window, *item.match.centre))
    window.page_view.mouseMoveEvent(QMouseEvent(QEvent.MouseMove, pos, Qt.NoButton, Qt.NoButton, Qt.NoModifier))
    message = window.statusBar().currentMessage()
    assert f"score {item.match.score:.3f}" in message and "180°" in message


def test_shortcuts_dialog_lists_every_command_with_its_keys(window, monkeypatch):
    shown = []
    monkeypatch.setattr(ShortcutsDialog, "exec_", lambda dialog: shown.append(dialog) or 0)
    window.act.shortcuts.trigger()
    rows = {}
    table = shown[0].findChild(QTableWidget)
    for row in range(table.rowCount()):
        rows[table.item(row, 0).text()] = table.item(row, 1).text()
    assert rows["Rematch"] == "Return, Enter"
    assert rows["Next Line >>"] == "N" and rows["Correct Label"] == "C"
    assert rows["Undo"].startswith("Ctrl+Z") and "F14" not in rows["Undo"]  # named "Undo", not "Undo Match 2"
    assert rows["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert rows["Edit Boxes"] == "Ctrl+J" and rows["Duplicate Box"] == "Ctrl+Shift+D"
    table = shown[0].table
    assert table.horizontalScrollBar().maximum() == 0 or not table.horizontalScrollBar().isVisible()
    # The Training menu's rarely used entries (dialogs that start long work) have no keys.
    training = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Training")
    rare = {action.text().replace("&", "") for action in training.actions()} | {"AutoLabelme Guide", "Files", "Boxes"}
    assert rows["Detect on This Page"] == "Ctrl+D"
    assert all(keys for name, keys in rows.items() if name not in rare)


def test_recent_files_menu_and_autosave_timer(window, page):
    window.open_path(page)
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == [str(page)]
    assert window.autosave_timer.isActive() and window.autosave_timer.interval() == AUTOSAVE_INTERVAL_MS


def test_menus_name_every_item_and_greyed_items_say_why(driver, window, page):
    match_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Match")
    names = [a.text() for a in match_menu.actions() if not a.isSeparator()]
    assert "&More Boxes (+)" in names and "&Fewer Boxes (-)" in names and "+" not in names
    assert window.controls.more_button.text() == "+" and window.controls.fewer_button.text() == "-"
    assert not window.heatmap_action.isEnabled() and not window.heatmap_action.isChecked()  # no ticked grey item
    assert "Score This Page first" in window.heatmap_action.toolTip()
    prepare = window.train_act.prepare
    assert not prepare.isEnabled() and "open a folder" in prepare.toolTip() and "open a folder" in prepare.statusTip()
    assert all(menu.toolTipsVisible() for menu in window._menus)


def test_score_tags_sit_above_their_boxes_and_the_templates_own_match_is_tagged_template(driver, window, page):
    window.open_path(page)
    driver.match_current(window)
    boxes = window.page_view.boxes()
    tags = {key: item.tag.text for key, item in boxes.items() if key[0] == "match"}
    assert list(tags.values()).count("template") == 1 and "1.00" not in tags.values()
    for item in boxes.values():
        if item.tag is not None:
            top = item.mapToScene(item.tag.mapToParent(item.tag.boundingRect().bottomLeft()))
            assert top.y() <= item.quad[:, 1].min() + 0.01  # the tag ends where the box begins
    assert window.controls.threshold_label.text().endswith("22 boxes")


def test_brightness_and_contrast_change_the_page_shown_not_the_scan(window, page, monkeypatch):
    from autolabelme.brightness import BrightnessDialog

    window.open_path(page)
    scan = window.document.image.copy()
    before = window.page_view._pixmap_item.pixmap().toImage().pixelColor(5, 5).lightness()

    def move_sliders(dialog):
        dialog.brightness.setValue(60)
        return 0

    monkeypatch.setattr(BrightnessDialog, "exec_", move_sliders)
    window.act.brightness.trigger()
    after = window.page_view._pixmap_item.pixmap().toImage().pixelColor(5, 5).lightness()
    assert after < before * 0.75 and (window.document.image == scan).all()
    assert all(not action.icon().isNull() for action in (window.act.open, window.act.save_json, window.act.edit_mode))
