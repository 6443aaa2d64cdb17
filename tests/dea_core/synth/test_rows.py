"""The rows preset: small pieces edge to edge in rows, a variant sharing a motif, rules between."""

import itertools

import numpy as np

from dea_core.matching.poses import Pose
from dea_core.synth import generate_rows_page
from dea_core.synth.pages import Degradation


def test_rows_pages_set_small_pieces_edge_to_edge_with_a_plain_template_for_each_label():
    page = generate_rows_page(np.random.default_rng(3))
    labels = {o.label for o in page.ornaments}
    assert len(labels) == 4 and set(page.templates) == labels
    assert any(label.endswith("_variant") for label in labels)
    for label, box in page.templates.items():
        plain = [o for o in page.ornaments if o.label == label and o.pose == Pose()]
        assert plain and plain[0].box == box
    heights = {round(o.box[3] - o.box[1]) for o in page.ornaments if o.pose.rotation % 180 == 0}
    assert max(heights) <= 46
    # Neighbours in a row touch: at most a pixel apart, or three across a rule.
    row = sorted((o for o in page.ornaments if o.box[1] == page.ornaments[0].box[1]), key=lambda o: o.box[0])
    gaps = [b.box[0] - a.box[2] for a, b in itertools.pairwise(row)]
    assert len(row) >= 10 and max(gaps) <= 4 and min(gaps) >= 0
    assert any(gap >= 3 for gap in gaps)  # a rule


def test_the_variant_repeats_half_of_its_piece_mirrored():
    page = generate_rows_page(np.random.default_rng(3))
    gray = page.image.mean(axis=2)
    variant = next(label for label in page.templates if label.endswith("_variant"))
    x0, y0, x1, y1 = (int(round(v)) for v in page.templates[variant])
    crop = gray[y0:y1, x0:x1]
    half = crop.shape[1] // 2
    left, right = crop[:, :half], crop[:, -half:][:, ::-1]
    assert np.corrcoef(left.ravel(), right.ravel())[0, 1] > 0.8


def test_each_occurrence_is_its_own_cast_even_on_a_clean_page():
    page = generate_rows_page(np.random.default_rng(5), degradation=Degradation.off())
    gray = page.image.mean(axis=2)
    label = next(iter(page.templates))
    plain = [o for o in page.ornaments if o.label == label and o.pose == Pose()][:2]
    crops = [gray[int(o.box[1]):int(o.box[3]), int(o.box[0]):int(o.box[2])] for o in plain]
    assert crops[0].shape == crops[1].shape
    # Not a pixel copy of one bitmap, yet plainly the same design.
    assert np.abs(crops[0] - crops[1]).max() > 40
    assert np.corrcoef(crops[0].ravel(), crops[1].ravel())[0, 1] > 0.6
    assert page.designs[label].shape == crops[0].shape
