"""The file list (folder mode) and the shape list, as in LabelMe; and the label list after Open."""

import shutil

from PyQt5.QtCore import Qt

pytest_plugins = ["autolabelme.testing"]


def test_the_file_list_ticks_saved_pages_and_a_click_opens_one(driver, window, tmp_path, qtbot):
    folder = tmp_path / "book"
    driver.copy_sample(folder, "p1")
    picture = driver.copy_sample(tmp_path / "other", "p2").with_suffix(".jpg")
    shutil.copy(picture, folder / "p2.jpg")
    assert not window.file_dock.isVisibleTo(window)
    window.open_folder(folder)
    files = window.file_list
    assert window.file_dock.isVisibleTo(window)
    assert files.names() == ["p1.json", "p2.jpg"] and files.done() == [True, False]
    assert files.currentRow() == 0

    rect = files.visualItemRect(files.item(1))
    qtbot.mouseClick(files.viewport(), Qt.LeftButton, pos=rect.center())
    assert window.document.source.name == "p2.jpg" and files.currentRow() == 1
    window.open_path(folder / "p1.json")  # a single page: no file list
    assert not window.file_dock.isVisibleTo(window)


def test_the_shape_list_shows_each_box_selects_on_click_and_hides_a_label(driver, window, page, qtbot):
    window.open_path(page)
    driver.match_current(window)
    shapes = window.shape_list
    keys = shapes.keys()
    assert len(keys) == 1 + 22 and keys[0] == ("template", "1", 0)
    top = shapes.label_item("1")
    assert top.text(0) == "1 (22)" and {top.child(i).text(1) for i in range(1, 23)} == {"upright", "turned 180°"}
    lower = next(i for i in range(top.childCount()) if top.child(i).text(1) == "turned 180°")

    qtbot.mouseClick(shapes.viewport(), Qt.LeftButton, pos=shapes.visualItemRect(top.child(lower)).center())
    assert window.page_view.selected() == top.child(lower).data(0, Qt.UserRole)

    top.setCheckState(0, Qt.Unchecked)
    assert not [k for k in window.page_view.boxes() if k[1] == "1"]
    window.shape_list.label_item("1").setCheckState(0, Qt.Checked)
    assert len([k for k in window.page_view.boxes() if k[0] == "match"]) == 22


def test_the_label_list_holds_only_the_new_pages_labels_after_open(driver, window, page, tmp_path):
    window.open_path(page)
    assert window.label_list.labels() == ["1"]
    picture = tmp_path / "bare" / "bare.jpg"
    picture.parent.mkdir()
    shutil.copy(page.with_suffix(".jpg"), picture)
    window.open_path(picture)
    assert window.label_list.labels() == [] and window.label_list.topLevelItemCount() == 0
    assert window.shape_list.keys() == []
    window.open_folder(page.parent)
    assert window.label_list.labels() == ["1"]


def test_the_shape_list_keeps_pose_and_score_in_view_in_a_narrow_dock(driver, window, page, qtbot):
    window.show()
    window.open_path(page)
    driver.match_current(window)
    shapes = window.shape_list
    shapes.resize(240, 400)
    qtbot.wait(50)
    header, metrics = shapes.header(), shapes.fontMetrics()
    top = shapes.label_item("1")
    widest_score = max(metrics.horizontalAdvance(top.child(i).text(2)) for i in range(top.childCount()))
    # The score column ends inside the view and is wide enough for its longest score.
    assert header.sectionPosition(2) + header.sectionSize(2) <= shapes.viewport().width()
    assert header.sectionSize(2) >= widest_score


def test_the_shape_list_starts_wide_enough_to_show_each_boxs_kind_pose_and_score_unclipped(driver, window, page):
    window.open_path(page)
    driver.match_current(window)
    tree = window.shape_list
    metrics = tree.fontMetrics()
    top = tree.topLevelItem(0)
    rows = [top.child(i) for i in range(top.childCount())]
    assert {row.text(0) for row in rows} >= {"template", "template's own", "found"}
    assert any(row.text(1) == "turned 180°" for row in rows)
    for column, indent in ((0, tree.indentation()), (1, 0), (2, 0)):
        widest = max(metrics.horizontalAdvance(row.text(column)) for row in rows)
        assert widest + indent < tree.columnWidth(column), (column, widest, tree.columnWidth(column))
