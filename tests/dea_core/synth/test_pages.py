"""Synthetic pages: seeded, and their ground truth checkable against the pixels."""

import json
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import pytest

from dea_core.io import read_image
from dea_core.matching.poses import Pose, render_pose
from dea_core.synth import (
    PRESETS,
    Degradation,
    PageSpec,
    PlacedOrnament,
    SyntheticPage,
    generate_page,
    load_pieces,
    load_symmetry,
    read_truth,
    write_labelme,
)

SMALL = {"width": 1000, "height": 1400}
PIECES = load_pieces()
SYMMETRY = load_symmetry()


def _page(seed: int, spec: PageSpec) -> SyntheticPage:
    return generate_page(np.random.default_rng(seed), spec)


@pytest.fixture(scope="module")
def easy() -> SyntheticPage:
    return _page(0, PageSpec.preset("easy"))


@pytest.fixture(scope="module")
def clean() -> SyntheticPage:
    return _page(1, PageSpec(degradation=Degradation.off()))


@pytest.fixture(scope="module")
def standard() -> SyntheticPage:
    return _page(2, PageSpec.preset("standard"))


@pytest.fixture(scope="module")
def hard() -> SyntheticPage:
    return _page(3, PageSpec.preset("hard"))


def _ncc(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Normalised cross-correlation over `mask` in long double: the independent reference."""
    a = a[mask > 0].astype(np.longdouble)
    b = b[mask > 0].astype(np.longdouble)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _truth_score(page: SyntheticPage, ornament: PlacedOrnament, pose: Pose | None = None) -> float:
    """NCC of the page under the ornament's box with the raw piece rendered in `pose` (default: its own)."""
    gray = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
    expected, mask = render_pose(PIECES[ornament.label], pose or ornament.pose, border_value=255)
    x0, y0, x1, y1 = (round(v) for v in ornament.box)
    crop = gray[y0:y1, x0:x1]
    if crop.shape != expected.shape:
        # Rounding, or the page's slight perspective tilting the quad inside its box.
        assert np.abs(np.subtract(crop.shape, expected.shape)).max() <= 3
        expected = cv2.resize(expected, crop.shape[::-1], interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(mask, crop.shape[::-1], interpolation=cv2.INTER_NEAREST)
    return _ncc(crop, expected, mask)


def _wrong_pose(pose: Pose) -> Pose:
    """The same turn and size with the wrong flip: mirrored for plain, plain for any flip."""
    return replace(pose, flip="mirrored" if pose.flip == "none" else "none")


def _in_template_frame(page: SyntheticPage, ornament: PlacedOrnament) -> np.ndarray:
    """The page under the ornament's quad resampled onto the upright template grid (H, W)."""
    h, w = PIECES[ornament.label].shape
    target = np.float32([[0, 0], [w, 0], [w, h], [0, h]]) - 0.5
    matrix = cv2.getPerspectiveTransform(target, np.float32(ornament.quad) - 0.5)
    gray = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
    return cv2.warpPerspective(gray, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REPLICATE)


def test_same_seed_same_page_and_other_seeds_differ():
    spec = PageSpec.preset("standard", **SMALL)
    first, again, other = _page(11, spec), _page(11, spec), _page(12, spec)
    assert np.array_equal(first.image, again.image)
    truth = [(o.label, o.pose, o.box) for o in first.ornaments]
    assert truth == [(o.label, o.pose, o.box) for o in again.ornaments]
    assert all(np.array_equal(a.quad, b.quad) for a, b in zip(first.ornaments, again.ornaments))
    assert first.templates == again.templates
    assert not np.array_equal(first.image, other.image)
    assert [o.box for o in first.ornaments] != [o.box for o in other.ornaments]


def test_page_image_is_bgr_of_the_asked_size(standard):
    assert standard.image.shape == (2000, 1400, 3) and standard.image.dtype == np.uint8


def test_clean_truth_matches_the_pixels(clean):
    scores = [_truth_score(clean, o) for o in clean.ornaments]
    assert min(scores) > 0.9


def test_degraded_truth_still_matches_the_pixels(easy, standard, hard):
    assert min(_truth_score(easy, o) for o in easy.ornaments) > 0.6
    assert np.median([_truth_score(standard, o) for o in standard.ornaments]) > 0.6
    assert np.median([_truth_score(hard, o) for o in hard.ornaments]) > 0.6


def test_a_wrongly_declared_flip_scores_clearly_lower(clean, easy):
    checked = 0
    for page in (clean, easy):
        for ornament in page.ornaments:
            wrong = _wrong_pose(ornament.pose)
            if SYMMETRY[ornament.label].looks_same(ornament.pose, wrong):
                continue
            right_score, wrong_score = _truth_score(page, ornament), _truth_score(page, ornament, wrong)
            assert wrong_score < right_score - 0.3, (ornament.label, ornament.pose, right_score, wrong_score)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("name", ["clean", "easy", "standard", "hard"])
def test_every_label_has_a_template_box_on_a_plain_instance(name, request):
    page = request.getfixturevalue(name)
    labels = {o.label for o in page.ornaments}
    assert set(page.templates) == labels
    for label, box in page.templates.items():
        assert any(o.label == label and o.pose == Pose() and o.box == box for o in page.ornaments)


@pytest.mark.parametrize("name", ["clean", "easy", "standard", "hard"])
def test_instances_do_not_overlap_and_lie_inside_the_page(name, request):
    page = request.getfixturevalue(name)
    height, width = page.image.shape[:2]
    for o in page.ornaments:
        x0, y0, x1, y1 = o.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert np.allclose(o.box, (*o.quad.min(0), *o.quad.max(0)))
    for a, b in combinations(page.ornaments, 2):
        overlap_w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
        overlap_h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
        assert overlap_w <= 0 or overlap_h <= 0, (a.label, a.box, b.label, b.box)


def test_ornaments_keep_clear_of_the_text():
    """Blank every ornament's box: nothing dark is left within 4 px of any box, yet text remains."""
    spec = PageSpec.preset("standard", **SMALL, degradation=Degradation.off(), clutter=0.0)
    page = _page(4, spec)
    dark = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY) < 128
    boxes = [tuple(round(v) for v in o.box) for o in page.ornaments]
    for x0, y0, x1, y1 in boxes:
        dark[y0:y1, x0:x1] = False
    assert dark.sum() > 2000
    for (x0, y0, x1, y1), o in zip(boxes, page.ornaments):
        assert dark[max(0, y0 - 4):y1 + 4, max(0, x0 - 4):x1 + 4].sum() <= 2, (o.label, o.pose, o.box)


def test_pages_mix_pieces_and_poses(standard, hard):
    counts: dict[str, int] = {}
    for o in standard.ornaments:
        counts[o.label] = counts.get(o.label, 0) + 1
    assert 2 <= len(counts) <= 4 and min(counts.values()) >= 2
    poses = [o.pose for o in standard.ornaments]
    assert any(p.flip == "mirrored" for p in poses)
    assert any(p.rotation in (90.0, 270.0) for p in poses)
    assert any(p.scale != 1.0 for p in poses)
    seeds_with_odd_angles = [
        any(o.pose.rotation % 90 for o in page.ornaments)
        for page in [hard, *(_page(s, PageSpec.preset("hard", **SMALL)) for s in (5, 6))]
    ]
    assert any(seeds_with_odd_angles)


def test_the_spec_limits_the_poses():
    spec = PageSpec(**SMALL, rotations=(0.0,), flips=("none",), scale_range=(1.0, 1.0),
                    degradation=Degradation.off())
    page = _page(7, spec)
    assert page.ornaments and all(o.pose == Pose() for o in page.ornaments)
    only_mirror = replace(spec, flips=("none", "mirrored"), rotations=(0.0, 180.0))
    poses = {o.pose for o in _page(8, only_mirror).ornaments}
    assert all(p.flip != "flipped" and p.rotation in (0.0, 180.0) for p in poses)


def test_the_perspective_moves_the_truth_quads_with_the_page():
    flat_spec = PageSpec(**SMALL, degradation=Degradation.off())
    warped_spec = PageSpec(**SMALL, degradation=replace(Degradation.off(), perspective=1.0))
    flat, warped = _page(9, flat_spec), _page(9, warped_spec)
    assert [(o.label, o.pose) for o in flat.ornaments] == [(o.label, o.pose) for o in warped.ornaments]
    moved = [np.abs(w.quad - f.quad).max() for f, w in zip(flat.ornaments, warped.ornaments)]
    assert max(moved) > 4
    along_warped, along_flat = [], []
    for f, w in zip(flat.ornaments, warped.ornaments):
        piece = PIECES[w.label]
        mask = np.full(piece.shape, 255, np.uint8)
        along_warped.append(_ncc(_in_template_frame(warped, w), piece, mask))
        along_flat.append(_ncc(_in_template_frame(warped, f), piece, mask))
    assert min(along_warped) > 0.85
    assert np.mean(along_warped) > np.mean(along_flat) + 0.2


def test_labelme_and_truth_files_round_trip(easy, tmp_path: Path):
    json_path = write_labelme(easy, tmp_path / "out", "page")
    assert json_path == tmp_path / "out" / "page.json"
    assert np.array_equal(read_image(tmp_path / "out" / "page.png"), easy.image)
    labelme = json.loads(json_path.read_text(encoding="utf-8"))
    height, width = easy.image.shape[:2]
    assert labelme["version"] == "5.5.0" and labelme["flags"] == {}
    assert (labelme["imagePath"], labelme["imageData"]) == ("page.png", None)
    assert (labelme["imageHeight"], labelme["imageWidth"]) == (height, width)
    assert {s["label"] for s in labelme["shapes"]} == set(easy.templates)
    for shape in labelme["shapes"]:
        assert shape["shape_type"] == "rectangle" and shape["group_id"] is None and shape["mask"] is None
        (x0, y0), (x1, y1) = shape["points"]
        assert (x0, y0, x1, y1) == easy.templates[shape["label"]]
    truth = read_truth(tmp_path / "out" / "page.truth.json")
    assert len(truth) == len(easy.ornaments)
    for read, original in zip(truth, easy.ornaments):
        assert (read.label, read.pose, read.box) == (original.label, original.pose, original.box)
        assert np.array_equal(read.quad, original.quad)


def test_read_truth_rejects_other_files(tmp_path: Path):
    path = tmp_path / "x.truth.json"
    path.write_text('{"shapes": []}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.truth\.json"):
        read_truth(path)


def test_presets_and_spec_checks():
    assert PRESETS == ("easy", "standard", "hard")
    assert PageSpec.preset("standard") == PageSpec()
    easy, hard = PageSpec.preset("easy"), PageSpec.preset("hard")
    assert easy.degradation.perspective == 0 < hard.degradation.perspective
    assert any(r % 90 for r in hard.rotations)
    assert PageSpec.preset("hard", width=2000, height=2800).width == 2000
    with pytest.raises(ValueError, match="preset"):
        PageSpec.preset("medium")
    with pytest.raises(ValueError, match="page size"):
        PageSpec(width=2100)
    with pytest.raises(ValueError, match="plain"):
        PageSpec(rotations=(90.0,))
    with pytest.raises(ValueError, match="scale_range"):
        PageSpec(scale_range=(1.1, 1.5))
    with pytest.raises(ValueError, match="unknown pieces"):
        _page(0, PageSpec(pieces=("no_such_piece",)))


def test_a_page_without_text_and_with_chosen_pieces():
    names = ("holberg1741_tulip", "regnard1696_fleuron")
    spec = PageSpec(**SMALL, pieces=names, text=False, kinds=(2, 2))
    page = _page(10, spec)
    assert {o.label for o in page.ornaments} == set(names)
