"""The window and `dea match` write the same file for the same page and settings."""

import json

import cv2

from autolabelme.search_settings import SearchSettings
from dea_core.cli.main import main
from dea_core.io.labelme_json import Shape, new_label_file, save_label_file

pytest_plugins = ["autolabelme.testing"]

# `dea match ... --rotations 0,90,180,270 --flip --scales 0.8:1.25:5 --neighbourhood page` in the window.
CLI_FORM = ["--rotations", "0,90,180,270", "--flip", "--scales", "0.8:1.25:5", "--neighbourhood", "page"]
WINDOW_FORM = SearchSettings(rotation_min=0, rotation_max=270, rotation_step=90, flip=True, whole_page=True,
                             scale_min=0.8, scale_max=1.25, scale_count=5)


def test_match_all_in_the_window_saves_the_file_dea_match_writes(driver, window, cinna_headpiece, tmp_path):
    crop = cinna_headpiece
    cv2.imwrite(str(tmp_path / "cinna.png"), crop.image)
    shapes = [Shape("lily", [list(crop.lily[:2]), list(crop.lily[2:])]),
              Shape("scroll", [list(crop.scroll[:2]), list(crop.scroll[2:])], description="scroll, mirror sorts too")]
    h, w = crop.image.shape
    page = save_label_file(new_label_file(tmp_path / "cinna.png", w, h, shapes), tmp_path / "cinna.json")

    assert main(["match", str(page), "-o", str(tmp_path / "cli.json"), "-q", *CLI_FORM]) == 0

    window.open_path(page)
    window.controls.set_search_settings(WINDOW_FORM)
    window.act.match_all.trigger()
    assert window.is_busy()
    driver.wait_idle(window, timeout=60000)
    assert window.save_json_as(tmp_path / "window.json")

    cli, gui = (json.loads((tmp_path / name).read_text()) for name in ("cli.json", "window.json"))
    assert gui["shapes"] == cli["shapes"]
    assert gui["imagePath"] == cli["imagePath"]
    assert sum(s["label"] == "scroll" for s in cli["shapes"]) == crop.scrolls
    assert sum(s["match"]["template"] for s in cli["shapes"]) == 2
