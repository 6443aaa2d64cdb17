"""Box arithmetic and SSD's offset encoding, in torch.

Boxes are (N, 4): `xyxy` = (x0, y0, x1, y1) corners, `cxcywh` = (centre x, centre y, width,
height). The encoding is SSD's: centre offsets in units of the prior's size divided by 0.1, log
size ratios divided by 0.2 (the "variances" of the original Caffe code).
"""

from __future__ import annotations

from typing import Final

import torch

VARIANCES: Final = (0.1, 0.2)
# exp() of a wild log-ratio overflows in half precision; no real box is 1000x its prior.
_MAX_LOG_RATIO: Final = 6.9


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) centre-size boxes as corners."""
    centre, size = boxes[..., :2], boxes[..., 2:]
    return torch.cat((centre - size / 2, centre + size / 2), dim=-1)


def xyxy_to_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) corner boxes as centre-size."""
    low, high = boxes[..., :2], boxes[..., 2:]
    return torch.cat(((low + high) / 2, high - low), dim=-1)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) xyxy -> (...) areas; an inverted box has area 0."""
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def pairwise_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of every box of a (N, 4) with every box of b (M, 4), both xyxy: (N, M)."""
    low = torch.maximum(a[:, None, :2], b[None, :, :2])
    high = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (high - low).clamp(min=0).prod(dim=-1)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union.clamp(min=1e-12)


def encode(boxes: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
    """Offsets of xyxy `boxes` (..., P, 4) from cxcywh `priors` (P, 4), as SSD regresses them."""
    target = xyxy_to_cxcywh(boxes)
    centre = (target[..., :2] - priors[:, :2]) / (VARIANCES[0] * priors[:, 2:])
    size = torch.log(target[..., 2:].clamp(min=1e-6) / priors[:, 2:]) / VARIANCES[1]
    return torch.cat((centre, size), dim=-1)


def decode(offsets: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
    """xyxy boxes (..., P, 4) from predicted `offsets` (..., P, 4) and cxcywh `priors` (P, 4)."""
    centre = priors[:, :2] + offsets[..., :2] * VARIANCES[0] * priors[:, 2:]
    size = priors[:, 2:] * torch.exp((offsets[..., 2:] * VARIANCES[1]).clamp(max=_MAX_LOG_RATIO))
    return cxcywh_to_xyxy(torch.cat((centre, size), dim=-1))
