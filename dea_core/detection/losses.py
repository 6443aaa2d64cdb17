"""Box regression losses: smooth L1 on encoded offsets and the IoU family on decoded boxes.

Each IoU-family loss takes predicted and target xyxy boxes (N, 4) and returns (N,) losses:

- IoU:  1 - IoU
- GIoU: 1 - IoU + |C \\ (A u B)| / |C|, C the smallest box enclosing both (Rezatofighi 2019)
- DIoU: 1 - IoU + rho^2 / c^2, rho the distance between centres, c the diagonal of C (Zheng 2020)
- CIoU: DIoU + alpha v, v = 4/pi^2 (atan(w_t/h_t) - atan(w/h))^2, alpha = v / (1 - IoU + v),
  alpha held constant in the gradient as in the paper
- EIoU: DIoU + (w - w_t)^2 / C_w^2 + (h - h_t)^2 / C_h^2 (Zhang 2021)

GIoU, DIoU, CIoU and EIoU still give a gradient when the boxes do not overlap; for a box inside the
other, GIoU falls back to IoU while DIoU still pulls the centres together.
"""

from __future__ import annotations

import math
from typing import Final

import torch

from dea_core.detection.boxes import box_area, decode, encode
from dea_core.detection.matching import hard_negative_mask, match_priors

LOSS_KINDS: Final = ("smooth_l1", "iou", "giou", "diou", "ciou", "eiou")
_EPS: Final = 1e-7


def smooth_l1(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth L1 (beta 1) of encoded offsets (N, 4), summed over the 4 coordinates: (N,)."""
    diff = (predicted - target).abs()
    return torch.where(diff < 1.0, 0.5 * diff**2, diff - 0.5).sum(dim=-1)


def iou_family_loss(predicted: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Loss of xyxy `predicted` boxes against `target` boxes (N, 4) -> (N,); kind: iou, giou, ..."""
    if kind not in LOSS_KINDS[1:]:
        raise ValueError(f"unknown IoU loss {kind!r}; choose one of {', '.join(LOSS_KINDS[1:])}")
    predicted, target = predicted.float(), target.float()
    low = torch.maximum(predicted[:, :2], target[:, :2])
    high = torch.minimum(predicted[:, 2:], target[:, 2:])
    inter = (high - low).clamp(min=0).prod(dim=-1)
    union = box_area(predicted) + box_area(target) - inter
    iou = inter / (union + _EPS)
    if kind == "iou":
        return 1.0 - iou
    enclosing = torch.maximum(predicted[:, 2:], target[:, 2:]) - torch.minimum(predicted[:, :2], target[:, :2])
    if kind == "giou":
        hull = enclosing.prod(dim=-1)
        return 1.0 - iou + (hull - union) / (hull + _EPS)
    diagonal = (enclosing**2).sum(dim=-1) + _EPS
    centre_gap = (((predicted[:, :2] + predicted[:, 2:]) - (target[:, :2] + target[:, 2:])) ** 2).sum(dim=-1) / 4
    diou = 1.0 - iou + centre_gap / diagonal
    size, target_size = predicted[:, 2:] - predicted[:, :2], target[:, 2:] - target[:, :2]
    if kind == "diou":
        return diou
    if kind == "ciou":
        angle_gap = torch.atan(target_size[:, 0] / (target_size[:, 1] + _EPS)) - torch.atan(
            size[:, 0] / (size[:, 1] + _EPS))
        v = (4 / math.pi**2) * angle_gap**2
        with torch.no_grad():
            alpha = v / (1.0 - iou + v + _EPS)
        return diou + alpha * v
    return diou + ((size - target_size) ** 2 / (enclosing**2 + _EPS)).sum(dim=-1)


def multibox_loss(offsets: torch.Tensor, scores: torch.Tensor, priors: torch.Tensor,
                  gt_boxes: list[torch.Tensor], gt_labels: list[torch.Tensor], kind: str = "diou",
                  alpha: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """SSD's loss: (confidence cross-entropy + alpha x localization) / number of positives.

    offsets: (B, P, 4) predicted encodings; scores: (B, P, C+1) logits, class 0 = background;
    priors: (P, 4) cxcywh; gt_boxes / gt_labels: per image (G, 4) xyxy in [0, 1] and (G,) int64.
    kind: one of LOSS_KINDS; smooth L1 compares encodings, the IoU family decoded boxes.
    Returns the loss and its parts as floats ({"loss", "confidence", "localization", "positives"}).
    """
    if kind not in LOSS_KINDS:
        raise ValueError(f"unknown box loss {kind!r}; choose one of {', '.join(LOSS_KINDS)}")
    matched = [match_priors(b, lbl, priors) for b, lbl in zip(gt_boxes, gt_labels)]
    target_boxes = torch.stack([m[0] for m in matched])
    target_labels = torch.stack([m[1] for m in matched])
    positives = target_labels > 0
    count = positives.sum().clamp(min=1).float()

    scores = scores.float()
    per_prior = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]), target_labels.reshape(-1),
                                                  reduction="none").reshape(target_labels.shape)
    with torch.no_grad():
        background = -torch.log_softmax(scores, dim=-1)[..., 0]
    chosen = positives | hard_negative_mask(background, positives)
    confidence = per_prior[chosen].sum()

    offsets = offsets.float()
    if kind == "smooth_l1":
        localization = smooth_l1(offsets[positives], encode(target_boxes, priors)[positives]).sum()
    else:
        localization = iou_family_loss(decode(offsets, priors)[positives], target_boxes[positives], kind).sum()
    loss = (confidence + alpha * localization) / count
    parts = {"loss": float(loss.detach()), "confidence": float(confidence.detach() / count),
             "localization": float(localization.detach() / count), "positives": float(positives.sum())}
    return loss, parts
