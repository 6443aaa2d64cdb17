"""The whole AutoLabelme round on a generated page with known ornaments: open, match every label,
+ and -, reject and undo, save, and labelme's own loader reads the result."""

import os

from PyQt5.QtCore import Qt

from dea_core.matching.matcher import PageMatcher

pytest_plugins = ["autolabelme.testing"]


def test_a_generated_page_is_matched_checked_saved_and_opened_by_labelme(driver, window, generated_page, qtbot,
                                                                          tmp_path):
    assert window.open_path(generated_page.json_path)
    labels = window.document.review.names()
    assert sorted(labels) == sorted(generated_page.counts)  # one template box per ornament type
    window.controls.set_search_settings(driver.generated_search)

    # what the engine itself finds with these options: the window must show and save exactly that
    options = window.controls.search_settings().to_options(None)
    engine = PageMatcher(window.document.image)
    expected = {label: len(engine.match(label, window.document.review.get(label).templates[0], options)
                           .above()) for label in labels}
    assert sum(expected.values()) >= len(labels)

    window.current_label = None
    for label in labels:  # Next Line >> matches each label in turn
        qtbot.keyClick(window.page_view, Qt.Key_N)
        assert window.current_label == label and window.is_busy()
        driver.wait_idle(window)
        assert window.current_entry().count() == expected[label], label
        assert window.label_list.count_of(label) == str(expected[label])

    busiest = max(expected, key=expected.get)
    window.choose_label(busiest)
    full = window.current_entry().count()
    # The cut lies in the gap of the label's own scores: its matches stand well above it.
    for _ in range(8):
        window.act.fewer.trigger()
    fewer = window.current_entry().count()
    for _ in range(16):
        window.act.more.trigger()
    more = window.current_entry().count()
    assert fewer <= full <= more and fewer < more  # the count moved, with no new match
    assert window.current_entry().threshold == window.current_entry().floor()  # + stops at what was kept

    window.undo_stack.undo()  # a run of + and - on one label undoes as one step
    assert window.current_entry().threshold == window.current_entry().result.threshold
    assert window.current_entry().count() == full
    item = window.current_entry().shown()[1]
    driver.click_page(window, *item.match.centre)
    assert window.current_entry().count() == full - 1
    window.undo_stack.undo()
    assert window.current_entry().count() == full
    window.undo_stack.redo()
    assert window.current_entry().count() == full - 1

    out = tmp_path / "checked.json"
    assert window.save_json_as(out)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from labelme import LabelFile

    shapes = LabelFile(str(out)).shapes
    assert len(shapes) == sum(expected.values()) - 1
    by_label = {label: sum(s["label"] == label for s in shapes) for label in labels}
    assert by_label == {label: expected[label] - (label == busiest) for label in labels}
    assert all("match" in s["other_data"] for s in shapes)
