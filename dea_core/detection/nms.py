"""Non-maximum suppression in torch, per class; torchvision's compiled kernel when it loads.

torchvision's ops do not load with the CPU torch of our machines, so the plain version is the one
that normally runs; both keep exactly the same boxes (tests compare with a brute-force loop).
"""

from __future__ import annotations

import torch

from dea_core.detection.boxes import pairwise_iou

try:  # pragma: no cover - depends on the machine
    from torchvision.ops import nms as _torchvision_nms
except (ImportError, RuntimeError, OSError, AttributeError):  # absent, or compiled for another torch
    _torchvision_nms = None


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices (K,) int64 of the boxes kept, best score first.

    boxes: (N, 4) xyxy; scores: (N,). A box is dropped when it overlaps a better kept box by an
    IoU above `iou_threshold`.
    """
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    if _torchvision_nms is not None:
        return _torchvision_nms(boxes.float(), scores.float(), iou_threshold)
    order = scores.argsort(descending=True, stable=True)
    overlaps = pairwise_iou(boxes[order].float(), boxes[order].float())
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    above = (overlaps > iou_threshold).cpu()
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= above[i]
    return order[torch.tensor(keep, dtype=torch.int64, device=order.device)]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor,
                iou_threshold: float) -> torch.Tensor:
    """NMS within each class only: indices (K,) of the boxes kept, best score first.

    Boxes of different classes are shifted apart so that they never overlap (torchvision's trick).
    """
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.int64, device=boxes.device)
    shift = classes.to(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)
    return nms(boxes + shift, scores, iou_threshold)
