"""The page review behind the AutoLabelme window: decisions, thresholds, LabelMe in and out."""

import copy

import numpy as np
import pytest

from dea_core.dea.record import shape_verdicts
from dea_core.errors import MatchOptionsError
from dea_core.io.labelme_json import LabelFile, Shape, label_file_from_dict, label_file_to_dict
from dea_core.matching.poses import Pose, pose_quad
from dea_core.matching.result import Match, MatchResult
from dea_core.matching.review import (
    ADDED,
    FOUND,
    LabelReview,
    PageReview,
    review_from_label_file,
    review_to_label_file,
)

TEMPLATE = (100.0, 100.0, 120.0, 110.0)


def match(x, y, score, pose=Pose(), label="0"):
    return Match(label, score, pose, pose_quad(20, 10, pose, (x, y)))


def matched_entry():
    """Label 0: its own template (score 1) and four more, one mirrored, one turned 180."""
    found = (match(110, 105, 1.0), match(150, 105, 0.9), match(190, 105, 0.7, Pose(0, "mirrored")),
             match(230, 105, 0.55, Pose(180)), match(270, 105, 0.45))
    result = MatchResult("0", (TEMPLATE,), found, 0.4, 0.6)
    return LabelReview("0", "This is a Sun", (TEMPLATE,)).with_result(result)


def page_file(shapes):
    return LabelFile(shapes=shapes, image_path="page.png", image_height=400, image_width=600)


def test_threshold_moves_by_steps_between_the_stored_floor_and_the_ceiling():
    entry = matched_entry()
    assert entry.count() == 3  # 1.0, 0.9, 0.7 at the default 0.6
    assert entry.more().threshold == pytest.approx(0.55) and entry.more().count() == 4
    lowest = entry.more().more().more().more()
    assert lowest.threshold == pytest.approx(0.4) and lowest.count() == 5
    assert entry.fewer().fewer().fewer().fewer().fewer().fewer().fewer().fewer().threshold == pytest.approx(0.99)


def test_rejections_survive_threshold_changes_and_a_new_result_clears_them():
    entry = matched_entry().toggled((FOUND, 1)).with_added((300, 100, 320, 110)).toggled((ADDED, 0))
    assert entry.count() == 2
    assert entry.fewer().more().count() == 2
    rematched = entry.with_result(entry.result)
    assert rematched.rejected == {(ADDED, 0)} and rematched.count() == 3


def test_removing_an_added_box_renumbers_the_later_ones_rejections():
    entry = LabelReview("0").with_added((0, 0, 5, 5)).with_added((10, 0, 15, 5)).with_added((20, 0, 25, 5))
    entry = entry.toggled((ADDED, 2)).without_added(0)
    assert len(entry.added) == 2 and entry.rejected == {(ADDED, 1)}
    assert [m.box[0] for m in entry.accepted()] == [10.0]


def test_corrected_label_reports_every_box_plain_over_the_same_box():
    entry = matched_entry().more()
    plain = entry.corrected()
    assert [m.pose for m in plain.accepted()] == [Pose()] * 4
    assert [m.box for m in plain.accepted()] == [m.box for m in entry.accepted()]
    assert plain.corrected().accepted() == entry.accepted()


def test_page_review_adds_renames_and_refuses_a_name_in_use():
    review = PageReview().with_template("0", TEMPLATE, "sun").with_template("1", (0, 0, 9, 9))
    review = review.replaced(matched_entry())
    renamed = review.renamed("0", "sun", "a sun")
    assert renamed.names() == ["sun", "1"]
    assert {m.label for m in renamed.get("sun").accepted()} == {"sun"}
    with pytest.raises(MatchOptionsError, match="already a label '1'"):
        review.renamed("0", "1", None)


def test_saving_writes_the_template_once_the_kept_boxes_and_keeps_other_shapes_untouched():
    polygon = Shape("margin note", [[1, 1], [30, 1], [30, 20]], "polygon", flags={"checked": True},
                    extra={"line_color": [1, 2, 3, 255]})
    entry = matched_entry().toggled((FOUND, 1)).with_added((300, 100, 320, 110))
    review = PageReview((entry, LabelReview("1", None, ((5, 5, 25, 25),))))
    out = review_to_label_file(page_file([polygon]), review)

    data = label_file_to_dict(out)
    labels = [s["label"] for s in data["shapes"]]
    assert labels == ["margin note", "0", "0", "0", "1"]
    assert data["shapes"][0] == label_file_to_dict(page_file([copy.deepcopy(polygon)]))["shapes"][0]
    template, mirrored, added, other_template = data["shapes"][1:]
    assert template["match"]["template"] is True and template["description"] == "This is a Sun"
    assert mirrored["match"]["flip"] == "mirrored" and mirrored["match"]["score"] == 0.7
    assert added["match"].get("manual") is True
    assert "match" not in other_template and other_template["shape_type"] == "rectangle"


def test_reading_back_a_saved_review_gives_the_same_boxes_and_a_threshold_that_shows_them_all():
    entry = matched_entry().more().toggled((FOUND, 2)).with_added((300, 100, 320, 110))
    saved = review_to_label_file(page_file([]), PageReview((entry,)))
    again, others = review_from_label_file(label_file_from_dict(label_file_to_dict(saved), "saved.json"))

    back = again.get("0")
    assert others.shapes == []
    assert back.note == "This is a Sun" and back.templates == (TEMPLATE,)
    assert back.count() == entry.count() == 4
    assert back.threshold == pytest.approx(0.55)
    assert sorted(np.round(m.quad, 1).tolist() for m in back.accepted()) == \
        sorted(np.round(m.quad, 1).tolist() for m in entry.accepted())


def test_plain_rectangles_are_templates_except_beside_a_template_record_where_they_are_additions():
    saved = review_to_label_file(page_file([]), PageReview((matched_entry(),)))
    saved.shapes.append(Shape("0", [[400, 100], [420, 110]]))  # drawn in LabelMe after matching
    saved.shapes.append(Shape("2 A crown", [[10, 300], [40, 330]]))  # a new ornament type
    review, _ = review_from_label_file(saved)
    assert len(review.get("0").added) == 1 and review.get("0").templates == (TEMPLATE,)
    assert review.get("2").templates == ((10, 300, 40, 330),) and review.get("2").note == "A crown"
    assert not review.get("2").matched


def test_a_template_that_finds_itself_at_a_size_near_one_is_still_written_once_as_drawn():
    own = Match("0", 0.98, Pose(scale=0.995), pose_quad(20, 10, Pose(scale=0.995), (110.4, 105.2)))
    result = MatchResult("0", (TEMPLATE,), (own, match(150, 105, 0.9)), 0.4, 0.6)
    entry = LabelReview("0", None, (TEMPLATE,)).with_result(result)
    shapes = review_to_label_file(page_file([]), PageReview((entry,))).shapes
    assert len(shapes) == 2
    assert shapes[0].extra["match"]["template"] is True and shapes[0].extra["match"]["scale"] == 0.995
    assert shapes[0].points == [[100.0, 100.0], [120.0, 110.0]]


def test_boxes_of_a_scored_file_are_occurrences_the_dea_found_and_a_plain_box_beside_them_is_a_template():
    def scored(label, box, record):
        return Shape(label, [list(box[:2]), list(box[2:])], extra={"dea": record})

    shapes = [scored("0", (10, 10, 30, 20), {"anomaly_score": 0.2, "detection_score": 0.83, "unknown": False}),
              scored("unknown vignette", (40, 10, 60, 20), {"anomaly_score": 1.0, "detection_score": 0.0, "unknown": True}),
              scored("0", (70, 10, 90, 20), {"detection_score": "not a number", "threshold": "n/a"}),
              scored("0", (100, 10, 120, 20), {"detection_score": float("nan")}),
              Shape("1", [[200.0, 10.0], [220.0, 20.0]])]
    review, base = review_from_label_file(page_file(shapes))
    assert not base.shapes
    assert sorted(m.score for m in review.get("0").accepted()) == [0.0, 0.0, pytest.approx(0.83)]
    assert [m.score for m in review.get("unknown vignette").accepted()] == [0.0]  # its label is not "unknown"
    assert not review.get("0").templates and not review.get("unknown vignette").templates
    assert review.total() == 4 and review.get("1").templates == ((200.0, 10.0, 220.0, 20.0),)
    verdicts, threshold = shape_verdicts(shapes)  # the window's reading of the same records: unreadable numbers as 0 too
    assert [v.detection_score for v in verdicts] == [pytest.approx(0.83), 0.0, 0.0, 0.0]
    assert threshold is None
