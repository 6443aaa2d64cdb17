"""Which default box answers for which ornament, and which background boxes teach the classifier.

Matching (SSD): a prior is positive for the ground-truth box it overlaps most when that IoU is above
0.5; besides, every ground-truth box claims its own best prior whatever the IoU, so that no ornament
goes unlearnt. Hard negative mining keeps, per image, the background priors the classifier is most
wrong about, three for every positive.
"""

from __future__ import annotations

from typing import Final

import torch

from dea_core.detection.boxes import cxcywh_to_xyxy, pairwise_iou

MATCH_IOU: Final = 0.5
NEGATIVES_PER_POSITIVE: Final = 3


def match_priors(gt_boxes: torch.Tensor, gt_labels: torch.Tensor, priors: torch.Tensor,
                 threshold: float = MATCH_IOU) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets of every prior for one image.

    gt_boxes: (G, 4) xyxy in [0, 1]; gt_labels: (G,) int64 classes from 1 (0 is background);
    priors: (P, 4) cxcywh. Returns (boxes (P, 4) xyxy of the matched ground truth, labels (P,)
    int64 with 0 for background). With no ground truth every prior is background.
    """
    count = priors.shape[0]
    if gt_boxes.numel() == 0:
        return priors.new_zeros((count, 4)), torch.zeros(count, dtype=torch.int64, device=priors.device)
    overlaps = pairwise_iou(gt_boxes, cxcywh_to_xyxy(priors))  # (G, P)
    best_iou, best_gt = overlaps.max(dim=0)
    best_prior = overlaps.argmax(dim=1)
    # Each ground truth keeps its best prior; if two want the same prior the later one wins,
    # as in the reference implementation (it never happens with non-overlapping ornaments).
    for gt_index, prior_index in enumerate(best_prior.tolist()):
        best_gt[prior_index] = gt_index
        best_iou[prior_index] = 2.0
    labels = gt_labels[best_gt].clone()
    labels[best_iou < threshold] = 0
    return gt_boxes[best_gt], labels


def hard_negative_mask(background_loss: torch.Tensor, positives: torch.Tensor,
                       ratio: int = NEGATIVES_PER_POSITIVE) -> torch.Tensor:
    """(B, P) bool: per image, the `ratio` x max(positives, 1) negatives with the highest loss.

    background_loss: (B, P) cross-entropy of each prior against "background"; positives: (B, P) bool.
    An image without any ornament still gives `ratio` negatives, so crops of plain text teach
    the classifier too (the reference code would take none from them).
    """
    loss = background_loss.detach().clone()
    loss[positives] = -1.0  # positives are never negatives
    order = loss.argsort(dim=1, descending=True)
    rank = order.argsort(dim=1)
    wanted = (ratio * positives.sum(dim=1, keepdim=True).clamp(min=1)).clamp(max=positives.shape[1] - 1)
    return (rank < wanted) & ~positives
