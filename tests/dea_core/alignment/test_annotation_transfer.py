"""Boxes drawn on the reference printing land on the same fleuron blocks of the other printings."""

from pathlib import Path

import numpy as np
import pytest

from dea_core.alignment.annotations import to_reference, to_source
from dea_core.alignment.pipeline import AlignOptions, align_pair
from dea_core.io.images import read_image
from dea_core.io.labelme_json import Shape, load_label_file, new_label_file, save_label_file

# The six double-scroll blocks of the reference (f39, 640 px wide), x0..x1 and y0..y1, read off the
# picture's ink profile (columns darker than grey 110 on more than 8% of the rows).
REFERENCE_BLOCKS = [(67, 150), (156, 233), (238, 319), (326, 404), (410, 489), (494, 578)]
REFERENCE_ROWS = (25, 104)
# The same blocks on the other printings, read off each picture the same way, independently of any
# alignment. On f25 the whole headpiece was printed upside down (SIFT finds 172 inliers for the half
# turn, 19 for the upright model; check by eye with the picture turned), so the reference's first
# block is f25's last.
SOURCE_BLOCKS = {
    "tragiques1616_f85_headpiece.jpg": [(91, 190), (201, 294), (304, 398), (410, 501), (512, 604), (614, 713)],
    "tragiques1616_f25_headpiece_third.jpg": [(490, 564), (408, 483), (319, 402), (239, 315), (158, 232),
                                              (72, 150)],
}
# A centre further off than this would be visibly off the block (blocks are about 100 px apart).
CENTRE_TOLERANCE_PX = 4


def block_boxes(reference_path: Path) -> object:
    shapes = [Shape(label=f"block {i + 1}", points=[[x0, REFERENCE_ROWS[0]], [x1, REFERENCE_ROWS[1]]])
              for i, (x0, x1) in enumerate(REFERENCE_BLOCKS)]
    return new_label_file(reference_path, 640, 121, shapes)


@pytest.fixture(scope="module")
def alignments(data_dir):
    reference = read_image(data_dir / "tragiques1616_f39_headpiece.png")
    return {name: align_pair(reference, read_image(data_dir / name), AlignOptions())
            for name in SOURCE_BLOCKS}


@pytest.mark.parametrize("name", sorted(SOURCE_BLOCKS))
def test_boxes_land_on_the_same_blocks_of_another_printing_even_upside_down(alignments, data_dir, name):
    labels = block_boxes(data_dir / "tragiques1616_f39_headpiece.png")
    source = read_image(data_dir / name)
    moved = to_source(labels, alignments[name].mapping, data_dir / name, (source.shape[1], source.shape[0]))
    assert moved.skipped == ()
    found = np.array([sorted((shape.points[0][0], shape.points[1][0])) for shape in moved.label_file.shapes])
    expected = np.array(SOURCE_BLOCKS[name], float)
    assert np.abs(found.mean(axis=1) - expected.mean(axis=1)).max() <= CENTRE_TOLERANCE_PX
    # The box around a slightly turned block is a little wider than the block's ink profile.
    widths, expected_widths = found[:, 1] - found[:, 0], expected[:, 1] - expected[:, 0]
    assert np.all((widths > 0.9 * expected_widths) & (widths < 1.15 * expected_widths))
    assert [s.label for s in moved.label_file.shapes] == [s.label for s in labels.shapes]
    assert all(s.shape_type == "rectangle" for s in moved.label_file.shapes)


def test_there_and_back_returns_the_boxes_and_the_files_are_labelme(alignments, data_dir, tmp_path):
    name = "tragiques1616_f85_headpiece.jpg"
    labels = block_boxes(data_dir / "tragiques1616_f39_headpiece.png")
    labels.shapes.append(Shape(label="centre", points=[[320.0, 64.0]], shape_type="point"))
    labels.shapes.append(Shape(label="edge", points=[[70, 30], [570, 30], [570, 100]], shape_type="linestrip"))
    source = read_image(data_dir / name)
    mapping = alignments[name].mapping
    there = to_source(labels, mapping, data_dir / name, (source.shape[1], source.shape[0])).label_file
    saved = save_label_file(there, tmp_path / "f85.json")
    back = to_reference(load_label_file(saved), mapping, data_dir / "tragiques1616_f39_headpiece.png").label_file
    for original, returned in zip(labels.shapes[-2:], back.shapes[-2:]):
        np.testing.assert_allclose(returned.points, original.points, atol=0.5)
    assert back.image_width == 640 and back.image_height == 121
