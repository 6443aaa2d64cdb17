"""Alignment: ours beside SIFT + MAGSAC and SIFT + MAGSAC + DIS flow, on real pictures with a known warp.

Run:  .venv/bin/python benchmarks/alignment.py [--side 1200] [--seed 0] [--limit N] [--device auto]
Each picture of shared/data/pairs and shared/data/pages, resized to SIDE px on its long side, is
warped by a random homography plus a smooth elastic field and re-inked (contrast, gamma, ink
spread, blur, noise, JPEG): dea_core.alignment.synthetic. Every method then aligns the original
(source) to that reference; its mapping is compared with the true one on the reference pixels
whose true source point lies inside the source. Prints PCK at 1, 3 and 5 px, the mean end-point
error and seconds per pair, with the machine, load and date.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from dea_core.alignment.coarse import CoarseOptions, fit_coarse_models
from dea_core.alignment.errors import AlignmentError
from dea_core.alignment.mapping import homography_mapping, identity_mapping, warp_image
from dea_core.alignment.pipeline import AlignOptions, align_pair
from dea_core.alignment.synthetic import synthetic_pair
from dea_core.io.images import read_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
THRESHOLDS = (1.0, 3.0, 5.0)

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


# Pixels this close to ink (reference pixels whose 7x7 neighbourhood varies) carry alignment
# evidence; further out, on blank paper, the true bend cannot be seen, only guessed.
NEAR_INK_PX = 15


@dataclass
class Tally:
    errors: list[np.ndarray] = field(default_factory=list)
    near_ink: list[np.ndarray] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    failures: int = 0

    def row(self, name: str, near_ink: bool = False) -> str:
        chosen = self.near_ink if near_ink else self.errors
        every = np.concatenate(chosen)
        pck = " | ".join(f"{(every <= t).mean():.3f}" for t in THRESHOLDS)
        per_pair = np.mean([e.mean() for e in chosen])
        return (f"| {name} | {pck} | {every.mean():.2f} | {per_pair:.2f} | {np.median(self.seconds):.2f} | "
                f"{np.max(self.seconds):.2f} | {self.failures} |")


def no_alignment(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    return identity_mapping(*reference.shape[:2])


def sift_magsac(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    models = fit_coarse_models(_gray(reference), _gray(source), CoarseOptions(max_homographies=1,
                                                                              source_scales=(1.0,)))
    return homography_mapping(models.homographies[0].matrix, *reference.shape[:2])


def sift_magsac_dis(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    mapping = sift_magsac(reference, source)
    warped = warp_image(_gray(source), mapping)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(_gray(reference), warped, None)
    follow = identity_mapping(*reference.shape[:2]) + flow
    return cv2.remap(mapping, follow[..., 0], follow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def ours(device: str) -> Method:
    options = AlignOptions(device=device)
    return lambda reference, source: align_pair(reference, source, options).mapping


def pictures(side: int) -> list[tuple[str, np.ndarray]]:
    files = sorted((DATA / "pairs").glob("*/*")) + sorted((DATA / "pages").glob("*"))
    found = []
    for path in files:
        image = read_image(path)
        scale = side / max(image.shape[:2])
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        found.append((path.stem, cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)))
    return found


def run(side: int, seed: int, limit: int | None, device: str) -> dict[str, Tally]:
    methods: dict[str, Method] = {"no alignment": no_alignment, "SIFT + MAGSAC homography": sift_magsac,
                                  "SIFT + MAGSAC + DIS flow": sift_magsac_dis, "ours (coarse + fine)": ours(device)}
    tallies = {name: Tally() for name in methods}
    rng = np.random.default_rng(seed)
    for stem, source in pictures(side)[:limit]:
        pair = synthetic_pair(rng, source)
        mask = pair.evaluation_mask(source.shape)
        ink = near_ink(pair.reference)[mask]
        for name, method in methods.items():
            start = time.perf_counter()
            try:
                mapping = method(pair.reference, source)
            except AlignmentError:
                tallies[name].failures += 1
                mapping = identity_mapping(*source.shape[:2])  # a failure counts as no alignment
            tallies[name].seconds.append(time.perf_counter() - start)
            error = np.linalg.norm(mapping - pair.mapping, axis=2)[mask]
            tallies[name].errors.append(error)
            tallies[name].near_ink.append(error[ink])
            print(f"  {stem[:40]:40s} {name:28s} PCK@1 {(error <= 1).mean():.3f} EPE {error.mean():6.2f} "
                  f"{tallies[name].seconds[-1]:.2f} s", flush=True)
    return tallies


def near_ink(reference: np.ndarray) -> np.ndarray:
    """(H, W) bool: reference pixels within NEAR_INK_PX of a pixel whose neighbourhood varies."""
    gray = _gray(reference).astype(np.float32) / 255
    spread = np.sqrt(np.maximum(cv2.blur(gray * gray, (7, 7)) - cv2.blur(gray, (7, 7)) ** 2, 0))
    size = 2 * NEAR_INK_PX + 1
    return cv2.dilate((spread > 0.05).astype(np.uint8), np.ones((size, size), np.uint8)) > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    tallies = run(args.side, args.seed, args.limit, args.device)
    print(f"\n{datetime.date.today()}, {platform.node()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__} {args.device} "
          f"({'CUDA' if torch.cuda.is_available() else 'no CUDA'}), OpenCV {cv2.__version__}; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{len(tallies['no alignment'].errors)} pairs at {args.side} px, seed {args.seed}\n")
    for title, near in (("all reference pixels whose true source point is inside the source", False),
                        (f"only those within {NEAR_INK_PX} px of ink", True)):
        print(f"{title}:\n")
        print("| method | PCK@1 | PCK@3 | PCK@5 | mean error (px) | mean of per-pair mean errors | "
              "median s/pair | max s/pair | failed |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, tally in tallies.items():
            print(tally.row(name, near))
        print()


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


if __name__ == "__main__":
    main()
