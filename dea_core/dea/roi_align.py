"""RoIAlign in plain torch: a fixed k x k feature grid for each box of any size, without rounding.

torchvision's compiled `roi_align` does not load with the CPU torch wheel on our machines, so the
DEA carries its own. The arithmetic follows Mask R-CNN's definition, as torchvision computes it:
each of the k x k bins of a box is sampled at a regular grid of points (`sampling_ratio` per side,
or ceil(box side / k) when it is 0 or less), each point read by bilinear interpolation, and the
bin is the average (or the maximum) of its points. With `aligned`, box corners are shifted by half
a pixel so that a box's pixel edges, not its pixel centres, map onto the feature map.

Boxes are grouped by their sampling grid so that each group is one vectorised gather.
"""

from __future__ import annotations

from typing import Final

import torch

MODES: Final = ("avg", "max")


def roi_align(features: torch.Tensor, rois: torch.Tensor, output_size: int | tuple[int, int],
              spatial_scale: float = 1.0, sampling_ratio: int = -1, aligned: bool = False,
              mode: str = "avg") -> torch.Tensor:
    """Pool each box to (C, kh, kw).

    features: (N, C, H, W); rois: (K, 5) rows (batch index, x0, y0, x1, y1) in input pixels, which
    `spatial_scale` (map size / input size) brings to map cells. Returns (K, C, kh, kw).
    """
    if mode not in MODES:
        raise ValueError(f"unknown RoIAlign mode {mode!r}; choose one of {', '.join(MODES)}")
    height, width = (output_size, output_size) if isinstance(output_size, int) else output_size
    channels = features.shape[1]
    out = features.new_zeros((rois.shape[0], channels, height, width))
    if rois.shape[0] == 0:
        return out
    geometry = _box_geometry(rois.to(features.dtype), spatial_scale, aligned, (height, width), sampling_ratio)
    grids = torch.stack(geometry["grid"], dim=1)
    for grid in torch.unique(grids, dim=0).tolist():
        members = torch.nonzero((grids == torch.tensor(grid, device=grids.device)).all(dim=1)).squeeze(1)
        if min(grid) > 0:
            out[members] = _pool_group(features, rois[members, 0].long(),
                                       {key: value[members] for key, value in geometry.items() if key != "grid"},
                                       (height, width), (int(grid[0]), int(grid[1])), mode)
    return out


def _box_geometry(rois: torch.Tensor, scale: float, aligned: bool, bins: tuple[int, int],
                  sampling_ratio: int) -> dict:
    offset = 0.5 if aligned else 0.0
    x0, y0 = rois[:, 1] * scale - offset, rois[:, 2] * scale - offset
    box_w, box_h = rois[:, 3] * scale - offset - x0, rois[:, 4] * scale - offset - y0
    if not aligned:  # the original definition never lets a box be smaller than one cell
        box_w, box_h = box_w.clamp(min=1.0), box_h.clamp(min=1.0)
    bin_h, bin_w = box_h / bins[0], box_w / bins[1]
    if sampling_ratio > 0:
        grid_h = grid_w = torch.full_like(x0, sampling_ratio, dtype=torch.long)
    else:
        grid_h, grid_w = torch.ceil(bin_h).long(), torch.ceil(bin_w).long()
    return {"x0": x0, "y0": y0, "bin_h": bin_h, "bin_w": bin_w, "grid": (grid_h, grid_w)}


def _pool_group(features: torch.Tensor, images: torch.Tensor, geometry: dict, bins: tuple[int, int],
                grid: tuple[int, int], mode: str) -> torch.Tensor:
    """Boxes sharing one sampling grid: (M, C, kh, kw)."""
    ys = _sample_coordinates(geometry["y0"], geometry["bin_h"], bins[0], grid[0])  # (M, kh * gh)
    xs = _sample_coordinates(geometry["x0"], geometry["bin_w"], bins[1], grid[1])  # (M, kw * gw)
    values = _bilinear(features, images, ys, xs)  # (M, C, kh * gh, kw * gw)
    m, c = values.shape[:2]
    values = values.reshape(m, c, bins[0], grid[0], bins[1], grid[1])
    if mode == "max":
        return values.amax(dim=(3, 5))
    return values.sum(dim=(3, 5)) / (grid[0] * grid[1])


def _sample_coordinates(start: torch.Tensor, bin_size: torch.Tensor, bins: int, grid: int) -> torch.Tensor:
    """Sampling points along one axis, bin by bin: (M, bins * grid)."""
    steps = (torch.arange(bins * grid, device=start.device, dtype=start.dtype) // grid
             + (torch.arange(bins * grid, device=start.device, dtype=start.dtype) % grid + 0.5) / grid)
    return start[:, None] + steps[None, :] * bin_size[:, None]


def _bilinear(features: torch.Tensor, images: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    """Bilinear reads of features[image] at every (y, x) of the grids ys x xs: (M, C, Py, Px).

    Points more than one cell outside the map read 0; points within a cell of the edge read the
    edge (torchvision's convention).
    """
    height, width = features.shape[-2:]
    y_low, y_high, y_frac, y_inside = _axis_corners(ys, height)
    x_low, x_high, x_frac, x_inside = _axis_corners(xs, width)
    flat = features.flatten(2)  # (N, C, H * W)
    picked = flat[images]  # (M, C, H * W)

    def read(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        index = (rows[:, :, None] * width + cols[:, None, :]).flatten(1)  # (M, Py * Px)
        gathered = picked.gather(2, index[:, None, :].expand(-1, picked.shape[1], -1))
        return gathered.reshape(*picked.shape[:2], rows.shape[1], cols.shape[1])

    wy, wx = y_frac[:, None, :, None], x_frac[:, None, None, :]
    value = ((1 - wy) * (1 - wx) * read(y_low, x_low) + (1 - wy) * wx * read(y_low, x_high)
             + wy * (1 - wx) * read(y_high, x_low) + wy * wx * read(y_high, x_high))
    inside = (y_inside[:, :, None] & x_inside[:, None, :])[:, None]
    return value * inside


def _axis_corners(coords: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    inside = (coords >= -1.0) & (coords <= size)
    coords = coords.clamp(min=0.0)
    low = torch.floor(coords).long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    fraction = torch.where(low >= size - 1, torch.zeros_like(coords), coords - low.to(coords.dtype))
    return low, high, fraction, inside

