"""Default boxes and SSD's box encoding."""

import math

import pytest
import torch

from dea_core.detection.boxes import cxcywh_to_xyxy, decode, encode, pairwise_iou, xyxy_to_cxcywh
from dea_core.detection.priors import FEATURE_MAPS, PriorLayout, make_priors


def test_ssd300_has_8732_default_boxes_and_the_fast_layout_1940():
    assert make_priors(PriorLayout("ssd300")).shape == (8732, 4)
    assert make_priors(PriorLayout("fast")).shape == (1940, 4)
    assert sum(n * n for n in FEATURE_MAPS) == 1940
    assert PriorLayout("ssd300").boxes_per_cell() == (4, 6, 6, 6, 4, 4)


def test_first_cell_boxes_follow_the_reports_scales_and_ratios():
    priors = make_priors(PriorLayout("ssd300"))
    first = priors[:4]
    centre = 0.5 / 38
    assert torch.allclose(first[:, :2], torch.tensor([[centre, centre]] * 4))
    expected = [(0.1, 0.1), (math.sqrt(0.1 * 0.2),) * 2, (0.1 * math.sqrt(2), 0.1 / math.sqrt(2)),
                (0.1 / math.sqrt(2), 0.1 * math.sqrt(2))]
    assert torch.allclose(first[:, 2:], torch.tensor(expected, dtype=torch.float32))
    last = priors[-4:]  # the 1x1 map: scale 0.9, the extra box sqrt(0.9 x 1)
    assert torch.allclose(last[1, 2:], torch.tensor([math.sqrt(0.9)] * 2))


def test_fast_layout_is_one_box_of_aspect_ratio_2_per_cell():
    priors = make_priors(PriorLayout("fast"))
    assert torch.allclose(priors[0, 2:], torch.tensor([0.1 * math.sqrt(2), 0.1 / math.sqrt(2)]))
    assert torch.allclose(priors[38 * 38, 2:], torch.tensor([0.2 * math.sqrt(2), 0.2 / math.sqrt(2)]))
    # the 1x1 map's box 0.9 sqrt 2 wide is clipped to the picture
    assert torch.allclose(priors[-1], torch.tensor([0.5, 0.5, 1.0, 0.9 / math.sqrt(2)]))


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="ssd300"):
        PriorLayout("ssd512")


def test_encode_decode_round_trip():
    priors = make_priors()
    generator = torch.Generator().manual_seed(0)
    centre = torch.rand(len(priors), 2, generator=generator)
    size = 0.02 + 0.5 * torch.rand(len(priors), 2, generator=generator)
    boxes = cxcywh_to_xyxy(torch.cat((centre, size), dim=1))
    assert torch.allclose(decode(encode(boxes, priors), priors), boxes, atol=1e-5)
    assert torch.allclose(xyxy_to_cxcywh(boxes), torch.cat((centre, size), dim=1), atol=1e-6)


def test_encoding_of_a_prior_itself_is_zero_and_uses_variances():
    prior = torch.tensor([[0.5, 0.5, 0.2, 0.1]])
    assert torch.allclose(encode(cxcywh_to_xyxy(prior), prior), torch.zeros(1, 4), atol=1e-5)
    shifted = torch.tensor([[0.52, 0.5, 0.4, 0.1]])  # 0.02 = 0.1 x width right, twice as wide
    expected = torch.tensor([[0.02 / (0.1 * 0.2), 0.0, math.log(2) / 0.2, 0.0]])
    assert torch.allclose(encode(cxcywh_to_xyxy(shifted), prior), expected, atol=1e-5)


def test_pairwise_iou_by_hand():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [2.0, 2.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [0.5, 0.5, 1.5, 1.5]])
    assert torch.allclose(pairwise_iou(a, b), torch.tensor([[1 / 7, 0.0, 1.0, 0.25]]))
