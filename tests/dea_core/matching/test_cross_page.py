"""Templates from one page matched on another (AutoLabelme's folder mode)."""

import numpy as np

from dea_core.io.labelme_json import load_label_file, load_label_image
from dea_core.matching.cross_page import match_templates_from_elsewhere, template_crop
from dea_core.matching.matcher import MatchOptions, PageMatcher
from dea_core.paths import SAMPLE_PAGE_JSON

BOX = (239.0, 228.0, 314.0, 313.0)
OPTIONS = MatchOptions(rotations=(0.0, 180.0), flip=True, neighbourhood=None)


def test_a_template_cut_from_a_page_finds_what_the_page_itself_finds_on_a_shifted_copy():
    page = load_label_image(load_label_file(SAMPLE_PAGE_JSON))
    crop = template_crop(page, BOX)
    assert crop.shape == (85, 75, 3)
    own = PageMatcher(page).match("1", BOX, OPTIONS).above(0.6)

    # another page: the same scan shifted 37 px right and 50 px down on a white margin
    other = np.full((page.shape[0] + 50, page.shape[1] + 37, 3), 255, np.uint8)
    other[50:, 37:] = page
    found = match_templates_from_elsewhere(other, "1", [crop], OPTIONS).above(0.6)

    assert len(found) == len(own) == 22
    expected = np.array([(m.centre[0] + 37, m.centre[1] + 50) for m in own])
    got = np.array([m.centre for m in found])
    # the coarse grid falls differently on the shifted page: a few pixels, not a different ornament
    nearest = np.abs(expected[:, None, :] - got[None, :, :]).max(axis=2).min(axis=1)
    assert nearest.max() <= 6
    assert all(m.quad[:, 1].max() <= other.shape[0] for m in found)  # nothing from the pasted strip


def test_a_page_without_the_ornament_gives_no_match():
    page = load_label_image(load_label_file(SAMPLE_PAGE_JSON))
    crop = template_crop(page, BOX)
    blank = np.full((600, 400, 3), 240, np.uint8)
    assert match_templates_from_elsewhere(blank, "1", [crop], OPTIONS).above(0.6) == []
