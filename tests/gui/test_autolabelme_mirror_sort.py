"""A second box drawn under the same label, around a mirror sort, is its template in the window."""

import cv2
import numpy as np

from autolabelme.search_settings import SearchSettings
from dea_core.io.labelme_json import Shape, new_label_file, save_label_file

pytest_plugins = ["autolabelme.testing"]


def test_a_second_template_box_of_a_label_finds_its_mirror_sorts_reported_mirrored(
        driver, window, dialogs, cinna_headpiece, tmp_path):
    crop = cinna_headpiece
    cv2.imwrite(str(tmp_path / "cinna.png"), crop.image)
    h, w = crop.image.shape
    shapes = [Shape("scroll", [list(crop.scroll[:2]), list(crop.scroll[2:])])]
    page = save_label_file(new_label_file(tmp_path / "cinna.png", w, h, shapes), tmp_path / "cinna.json")
    window.open_path(page)

    dialogs.names.append(("scroll", ""))
    window.act.draw_template.trigger()
    x0, y0, x1, y1 = crop.mirror_sort_scroll
    driver.drag_page(window, (x0, y0), (x1, y1))
    window.act.draw_template.trigger()
    entry = window.current_entry()
    assert entry.label == "scroll" and len(entry.templates) == 2

    # Quarter turns too: two scrolls of the crop are set turned.
    driver.match_current(window, SearchSettings(rotation_min=0, rotation_max=270, rotation_step=90, flip=True,
                                                whole_page=True, scale_min=0.8, scale_max=1.25, scale_count=5))
    kept = window.current_entry().accepted()
    assert len(kept) == crop.scrolls
    mirrored = [m for m in kept if np.linalg.det(m.pose.linear_map()) < 0]
    assert len(mirrored) == crop.mirror_sorts
    own = min(kept, key=lambda m: np.abs(np.array(m.box) - np.array(crop.mirror_sort_scroll)).max())
    assert own.score == 1.0 and np.linalg.det(own.pose.linear_map()) < 0
