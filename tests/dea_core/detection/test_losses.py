"""Every box loss against values worked out by hand."""

import math

import pytest
import torch

from dea_core.detection.losses import iou_family_loss, multibox_loss, smooth_l1
from dea_core.detection.priors import PriorLayout, make_priors


def loss(kind, a, b):
    return float(iou_family_loss(torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64), kind)[0])


# Overlapping: A (0,0,2,2), B (1,1,4,3): intersection 1, union 4 + 6 - 1 = 9, hull (0,0,4,3) of area 12,
# centres (1,1) and (2.5,2): rho^2 = 3.25, hull diagonal^2 = 25; widths 2 vs 3, heights 2 vs 2.
A, B = (0.0, 0.0, 2.0, 2.0), (1.0, 1.0, 4.0, 3.0)
V = 4 / math.pi**2 * (math.atan(3 / 2) - math.atan(2 / 2)) ** 2
OVERLAPPING = {
    "iou": 1 - 1 / 9,
    "giou": 1 - 1 / 9 + (12 - 9) / 12,
    "diou": 1 - 1 / 9 + 3.25 / 25,
    "ciou": 1 - 1 / 9 + 3.25 / 25 + V / (1 - 1 / 9 + V) * V,
    "eiou": 1 - 1 / 9 + 3.25 / 25 + (2 - 3) ** 2 / 16 + 0 / 9,
}
# Apart: (0,0,1,1) and (2,0,3,1): IoU 0, hull (0,0,3,1) of area 3, union 2, rho^2 = 4, diagonal^2 = 10.
APART = {"iou": 1.0, "giou": 1 + 1 / 3, "diou": 1 + 4 / 10, "ciou": 1 + 4 / 10, "eiou": 1 + 4 / 10}
# Enclosing: (1,1,2,2) inside (0,0,4,4): IoU 1/16, the hull is the outer box so GIoU = IoU;
# centres (1.5,1.5) and (2,2): rho^2 = 0.5, diagonal^2 = 32; sizes 1 vs 4.
ENCLOSED = {"iou": 15 / 16, "giou": 15 / 16, "diou": 15 / 16 + 0.5 / 32, "ciou": 15 / 16 + 0.5 / 32,
            "eiou": 15 / 16 + 0.5 / 32 + 9 / 16 + 9 / 16}


@pytest.mark.parametrize("kind", ["iou", "giou", "diou", "ciou", "eiou"])
def test_iou_losses_by_hand(kind):
    assert loss(kind, A, B) == pytest.approx(OVERLAPPING[kind], abs=1e-6)
    assert loss(kind, (0, 0, 1, 1), (2, 0, 3, 1)) == pytest.approx(APART[kind], abs=1e-6)
    assert loss(kind, (1, 1, 2, 2), (0, 0, 4, 4)) == pytest.approx(ENCLOSED[kind], abs=1e-6)
    assert loss(kind, A, A) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("kind", ["giou", "diou", "ciou", "eiou"])
def test_losses_beyond_iou_still_pull_apart_boxes_together(kind):
    predicted = torch.tensor([[0.0, 0.0, 1.0, 1.0]], requires_grad=True)
    iou_family_loss(predicted, torch.tensor([[2.0, 0.0, 3.0, 1.0]]), kind).sum().backward()
    assert predicted.grad[0, 2] < 0  # moving the right edge towards the target lowers the loss


def test_iou_loss_gives_no_gradient_to_apart_boxes():
    predicted = torch.tensor([[0.0, 0.0, 1.0, 1.0]], requires_grad=True)
    iou_family_loss(predicted, torch.tensor([[2.0, 0.0, 3.0, 1.0]]), "iou").sum().backward()
    assert torch.all(predicted.grad == 0)


def test_smooth_l1_by_hand():
    predicted = torch.tensor([[0.0, 0.5, 3.0, -2.0]])
    target = torch.zeros(1, 4)
    assert float(smooth_l1(predicted, target)[0]) == pytest.approx(0 + 0.125 + 2.5 + 1.5)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="diou"):
        iou_family_loss(torch.zeros(1, 4), torch.zeros(1, 4), "l2")


@pytest.mark.parametrize("kind", ["smooth_l1", "iou", "giou", "diou", "ciou", "eiou"])
def test_multibox_loss_is_finite_and_counts_positives(kind):
    priors = make_priors(PriorLayout("fast"))
    generator = torch.Generator().manual_seed(0)
    offsets = torch.randn(2, len(priors), 4, generator=generator) * 0.1
    scores = torch.randn(2, len(priors), 3, generator=generator)
    boxes = [torch.tensor([[0.1, 0.1, 0.25, 0.2], [0.5, 0.5, 0.9, 0.8]]), torch.zeros(0, 4)]
    labels = [torch.tensor([1, 2]), torch.zeros(0, dtype=torch.int64)]
    total, parts = multibox_loss(offsets, scores, priors, boxes, labels, kind)
    assert torch.isfinite(total)
    assert parts["positives"] >= 2
    assert total.item() == pytest.approx(parts["confidence"] + parts["localization"], rel=1e-5)
