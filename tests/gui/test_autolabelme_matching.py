"""Matching in the AutoLabelme window: the worker thread, + and -, Cancel, Next Line, shortcuts."""

import time

from PyQt5.QtCore import Qt

from autolabelme.search_settings import SearchSettings

pytest_plugins = ["autolabelme.testing"]


def test_rematch_finds_both_rows_and_plus_minus_move_the_count_without_matching_again(driver, window, page):
    window.open_path(page)
    driver.match_current(window)
    entry = window.current_entry()
    result = entry.result
    assert entry.count() == driver.sample_count
    assert window.label_list.count_of("1") == "22"
    assert len([k for k in window.page_view.boxes() if k[0] == "match"]) == 22
    assert "22 boxes" in window.controls.threshold_label.text()

    counts = [window.current_entry().count()]
    for _ in range(4):
        window.act.fewer.trigger()
        counts.append(window.current_entry().count())
    assert counts == sorted(counts, reverse=True) and counts[-1] < counts[0]
    assert window.current_entry().threshold > entry.threshold
    for _ in range(4):
        window.act.more.trigger()
    assert window.current_entry().count() == 22
    window.act.more.trigger()  # lower than the default: boxes below 0.6 appear
    assert window.current_entry().count() >= 22
    assert window.current_entry().result is result  # + and - never matched again
    shown = [k for k in window.page_view.boxes() if k[0] == "match"]
    assert len(shown) == window.current_entry().count()


def test_keys_press_the_buttons_and_tooltips_name_them(driver, window, page, qtbot):
    window.open_path(page)
    window.controls.set_search_settings(driver.sample_search)
    window.page_view.setFocus()
    qtbot.keyClick(window.page_view, Qt.Key_Return)
    assert window.is_busy()
    driver.wait_idle(window)
    assert window.current_entry().count() == 22
    chosen = window.current_entry().threshold
    qtbot.keyClick(window.page_view, Qt.Key_Minus)
    assert window.current_entry().threshold > chosen
    qtbot.keyClick(window.page_view, Qt.Key_Z, Qt.ControlModifier)  # undo the -
    assert window.current_entry().threshold == chosen
    assert window.act.rematch.toolTip().endswith("(Return, Enter)")
    assert "(N)" in window.act.next_line.toolTip() and "(C)" in window.act.correct_label.toolTip()
    # Return typed in a search field rematches too, as in the original tool
    window.controls.rotation_min.setFocus()
    qtbot.keyClick(window.controls.rotation_min, Qt.Key_Return)
    assert window.is_busy()
    driver.wait_idle(window)


def test_cancel_stops_a_running_match_adds_nothing_and_leaves_the_window_idle(driver, window, page):
    window.open_path(page)
    # every 5 degrees and both flips over the whole page: 144 poses
    heavy = SearchSettings(rotation_min=0, rotation_max=355, rotation_step=5, flip=True, whole_page=True)
    window.controls.set_search_settings(heavy)
    window.act.rematch.trigger()
    assert window.is_busy() and window.controls.progress.isEnabled()
    assert not window.act.save_json.isEnabled() and window.act.cancel.isEnabled()
    progress, outcome = [], []
    window.worker.progressed.connect(lambda done, total: progress.append(done / total))
    window.worker.cancelled.connect(lambda: outcome.append("cancelled"))
    window.worker.succeeded.connect(lambda _results: outcome.append("succeeded"))
    window.act.cancel.trigger()
    driver.wait_idle(window, timeout=15000)

    assert outcome == ["cancelled"]
    assert max(progress, default=0.0) < 1.0  # the engine stopped before the end
    assert not window.current_entry().matched
    assert window.undo_stack.count() == 0 and not window.isWindowModified()
    assert [k for k in window.page_view.boxes() if k[0] == "match"] == []
    assert "cancelled" in window.statusBar().currentMessage()
    assert window.act.save_json.isEnabled() and window.act.rematch.isEnabled()
    assert window.controls.progress.format() == "idle"
    driver.match_current(window)  # and the next match runs normally
    assert window.current_entry().count() == 22


def test_bad_search_options_are_refused_in_a_dialog(window, page, dialogs):
    window.open_path(page)
    window.controls.rotation_min.setText("abc")
    assert not window.start_matching(["1"])
    assert "rotation min" in dialogs.of_kind("warning")[0][2]
    assert not window.is_busy()


def test_next_line_goes_label_by_label_and_matches_each_once(driver, window, page, dialogs):
    window.open_path(page)
    window.controls.set_search_settings(driver.sample_search)
    window.act.draw_template.trigger()
    dialogs.names.append(("2 The capital N", ""))
    driver.drag_page(window, (284, 1010), (345, 1090))  # the large initial N
    assert window.document.review.names() == ["1", "2"]
    assert window.document.review.get("2").note == "The capital N"
    window.act.cancel.trigger()  # stop drawing

    window.current_label = None
    window.act.next_line.trigger()
    assert window.current_label == "1" and window.is_busy()
    driver.wait_idle(window)
    window.act.next_line.trigger()
    assert window.current_label == "2" and window.is_busy()
    driver.wait_idle(window)
    assert window.current_entry().count() >= 1
    window.act.previous_line.trigger()
    assert window.current_label == "1" and not window.is_busy()  # matched already: shown, not redone
    assert window.undo_stack.count() == 3  # template, match 1, match 2


def test_matching_with_every_right_angle_both_flips_and_five_sizes_shows_boxes_within_seconds(driver, window, page):
    window.open_path(page)
    search = SearchSettings(rotation_min=0, rotation_max=270, rotation_step=90, flip=True, whole_page=True,
                            scale_min=0.8, scale_max=1.25, scale_count=5)
    started = time.perf_counter()
    driver.match_current(window, search)
    elapsed = time.perf_counter() - started
    assert window.current_entry().count() == 22
    print(f"open-to-boxes match with 4 rotations, flips, 5 sizes: {elapsed:.2f} s")
    assert elapsed < 5.0


def test_one_press_with_the_defaults_finds_all_22_fleurons_named_as_dea_demo_names_them(driver, window, page, qtbot):
    from dea_core.cli.demo_command import DEMO_OPTIONS
    from dea_core.io.labelme_json import load_label_file, load_label_image
    from dea_core.matching.matcher import PageMatcher
    from dea_core.matching.nms import quad_iou

    window.open_path(page)
    assert "whole page" in window.controls.searched.text() and "turned 180" in window.controls.searched.text()
    qtbot.keyClick(window.page_view, Qt.Key_Return)
    driver.wait_idle(window)
    entry = window.current_entry()
    assert entry.count() == 22
    assert "searched upright and turned 180°, mirrored and flipped, 3 sizes, whole page" in (
        window.statusBar().currentMessage())
    assert SearchSettings().to_options(None) == DEMO_OPTIONS  # the window starts with the demo's search

    label_file = load_label_file(page)
    demo = PageMatcher(load_label_image(label_file)).match("1", entry.templates[0], DEMO_OPTIONS).above()
    for match in entry.accepted():
        twin = max(demo, key=lambda m: quad_iou(m.quad, match.quad))
        assert quad_iou(twin.quad, match.quad) > 0.5
        assert (twin.pose.rotation, twin.pose.flip) == (match.pose.rotation, match.pose.flip)
    assert sorted({(m.pose.rotation, m.pose.flip) for m in entry.accepted()}) == [(0.0, "none"), (180.0, "none")]


def test_the_original_tools_search_is_one_click_away(window):
    from autolabelme.search_settings import ORIGINAL_SEARCH

    window.controls.original_button.click()
    assert window.controls.search_settings() == ORIGINAL_SEARCH
    assert window.controls.searched.text() == "Searches: upright, 2 template heights around"
    window.controls.default_button.click()
    assert window.controls.search_settings() == SearchSettings()
