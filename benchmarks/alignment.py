"""Alignment: ours beside SIFT + MAGSAC and SIFT + MAGSAC + DIS flow, on real pairs and on real pictures warped.

Run:  .venv/bin/python benchmarks/alignment.py [--preset fine-bend|broad|both] [--side 1200] [--seed 0]
      [--limit N] [--only NAME,...] [--landmarks benchmarks/data/alignment] [--no-landmarks]
First the real pairs with hand-placed landmarks (benchmarks/landmark_pairs.py): each method aligns
the source to the reference and sends the reference landmarks through its mapping; the error is
the distance to the hand-placed source landmark (median, 90th percentile, share under 1 and 3 px).
Then each picture of shared/data/pairs and shared/data/pages, resized to SIDE px on its long side,
is warped by a random homography plus a smooth bend and re-inked (dea_core.alignment.synthetic;
"fine-bend": features of 40-100 px, 2-6 px; "broad": a 4x4 grid, 2-4 px). Every method aligns
the original (source) to that reference; its mapping is compared with the true one on the
reference pixels whose true source point lies inside the source: PCK at 1, 3 and 5 px and the
mean end-point error, over all such pixels, near ink, and far from ink (blank paper). Times are
seconds per pair, with the ratio to SIFT + MAGSAC on the same pair; machine, load and date printed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from landmark_pairs import DEFAULT_FOLDER, read_landmark_pairs

from dea_core.alignment.coarse import CoarseOptions, fit_coarse_models
from dea_core.alignment.errors import AlignmentError
from dea_core.alignment.mapping import (
    homography_mapping,
    identity_mapping,
    sample_mapping,
    warp_image,
)
from dea_core.alignment.pipeline import AlignOptions, align_pair
from dea_core.alignment.synthetic import FINE_BEND, WarpSpec, synthetic_pair
from dea_core.io.images import read_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
THRESHOLDS = (1.0, 3.0, 5.0)
PRESETS = {"fine-bend": FINE_BEND, "broad": WarpSpec()}
PEER = "SIFT + MAGSAC homography"

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


# Pixels this close to ink (reference pixels whose 7x7 neighbourhood varies) carry alignment
# evidence; further out, on blank paper, the true bend cannot be seen, only guessed.
NEAR_INK_PX = 15


@dataclass
class Tally:
    errors: list[np.ndarray] = field(default_factory=list)
    near_ink: list[np.ndarray] = field(default_factory=list)
    far: list[np.ndarray] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    failures: int = 0

    def row(self, name: str, chosen: list[np.ndarray]) -> str:
        every = np.concatenate(chosen) if chosen else np.zeros(1)
        pck = " | ".join(f"{(every <= t).mean():.3f}" for t in THRESHOLDS)
        per_pair = np.mean([e.mean() for e in chosen if e.size]) if chosen else 0.0
        return (f"| {name} | {pck} | {every.mean():.2f} | {per_pair:.2f} | {np.median(self.seconds):.2f} | "
                f"{np.max(self.seconds):.2f} | {np.median(self.ratios):.1f} | {np.max(self.ratios):.1f} | "
                f"{self.failures} |")

    def landmark_row(self, name: str) -> str:
        every = np.concatenate(self.errors)
        return (f"| {name} | {np.median(every):.2f} | {np.percentile(every, 90):.2f} | {(every < 1).mean():.3f} | "
                f"{(every < 3).mean():.3f} | {np.median(self.seconds):.2f} | {np.median(self.ratios):.1f} | "
                f"{self.failures} |")


def no_alignment(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    return identity_mapping(*reference.shape[:2])


def sift_magsac(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    models = fit_coarse_models(_gray(reference), _gray(source), CoarseOptions(max_homographies=1,
                                                                              source_scales=(1.0,),
                                                                              dense_fallback=False))
    return homography_mapping(models.homographies[0].matrix, *reference.shape[:2])


def sift_magsac_dis(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    mapping = sift_magsac(reference, source)
    warped = warp_image(_gray(source), mapping)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(_gray(reference), warped, None)
    follow = identity_mapping(*reference.shape[:2]) + flow
    return cv2.remap(mapping, follow[..., 0], follow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def ours(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    return align_pair(reference, source, AlignOptions()).mapping


def ours_coarse(reference: np.ndarray, source: np.ndarray) -> np.ndarray:
    return align_pair(reference, source, AlignOptions(fine=None)).mapping


METHODS: dict[str, Method] = {"no alignment": no_alignment, PEER: sift_magsac,
                              "SIFT + MAGSAC + DIS flow": sift_magsac_dis,
                              "ours, coarse stage only": ours_coarse, "ours (coarse + fine)": ours}


def pictures(side: int, only: str | None = None) -> list[tuple[str, np.ndarray]]:
    files = sorted((DATA / "pairs").glob("*/*")) + sorted((DATA / "pages").glob("*"))
    if only:
        files = [path for path in files if any(part in path.name for part in only.split(","))]
    found = []
    for path in files:
        image = read_image(path)
        scale = side / max(image.shape[:2])
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        found.append((path.stem, cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)))
    return found


def timed(tallies: dict[str, Tally], reference: np.ndarray, source: np.ndarray) -> dict[str, np.ndarray]:
    """Every method's mapping of one pair, its time and its time over the peer's noted in `tallies`."""
    mappings = {}
    for name, method in METHODS.items():
        start = time.perf_counter()
        try:
            mappings[name] = method(reference, source)
        except AlignmentError:
            tallies[name].failures += 1
            mappings[name] = identity_mapping(*reference.shape[:2])  # a failure counts as no alignment
        tallies[name].seconds.append(time.perf_counter() - start)
    for tally in tallies.values():
        tally.ratios.append(tally.seconds[-1] / max(tallies[PEER].seconds[-1], 1e-9))
    return mappings


def run_landmarks(folder: Path) -> tuple[dict[str, Tally], list[str]]:
    tallies = {name: Tally() for name in METHODS}
    pairs = read_landmark_pairs(folder)
    for pair in pairs:
        mappings = timed(tallies, pair.reference, pair.source)
        for name, mapping in mappings.items():
            error = np.linalg.norm(sample_mapping(mapping, pair.reference_points) - pair.source_points, axis=1)
            tallies[name].errors.append(error)
            print(f"  {pair.name[:40]:40s} {name:28s} median {np.median(error):6.2f} px, under 1 px "
                  f"{(error < 1).mean():.2f} ({len(error)} points) {tallies[name].seconds[-1]:.2f} s", flush=True)
    return tallies, [pair.name for pair in pairs]


def run_synthetic(spec: WarpSpec, side: int, seed: int, limit: int | None, only: str | None) -> dict[str, Tally]:
    tallies = {name: Tally() for name in METHODS}
    rng = np.random.default_rng(seed)
    for stem, source in pictures(side, only)[:limit]:
        pair = synthetic_pair(rng, source, spec)
        mask = pair.evaluation_mask(source.shape)
        ink = near_ink(pair.reference)[mask]
        for name, mapping in timed(tallies, pair.reference, source).items():
            error = np.linalg.norm(mapping - pair.mapping, axis=2)[mask]
            tallies[name].errors.append(error)
            tallies[name].near_ink.append(error[ink])
            tallies[name].far.append(error[~ink])
            print(f"  {stem[:40]:40s} {name:28s} PCK@1 {(error <= 1).mean():.3f} near ink {(error[ink] <= 1).mean():.3f}"
                  f" EPE {error.mean():6.2f} far {error[~ink].mean() if (~ink).any() else 0:5.2f} "
                  f"{tallies[name].seconds[-1]:.2f} s", flush=True)
    return tallies


def near_ink(reference: np.ndarray) -> np.ndarray:
    """(H, W) bool: reference pixels within NEAR_INK_PX of a pixel whose neighbourhood varies."""
    gray = _gray(reference).astype(np.float32) / 255
    spread = np.sqrt(np.maximum(cv2.blur(gray * gray, (7, 7)) - cv2.blur(gray, (7, 7)) ** 2, 0))
    size = 2 * NEAR_INK_PX + 1
    return cv2.dilate((spread > 0.05).astype(np.uint8), np.ones((size, size), np.uint8)) > 0


def print_landmarks(tallies: dict[str, Tally], names: list[str], folder: Path) -> None:
    pairs = len(tallies[PEER].errors)
    points = sum(len(e) for e in tallies[PEER].errors)
    print(f"\nReal pairs with hand-placed landmarks ({pairs} pairs, {points} points, {folder}), at their own size; "
          "error = distance (px) from the hand-placed source point to where the method sends the reference point:\n")
    print("| method | median error | 90th percentile | share under 1 px | share under 3 px | median s/pair | "
          "median time / SIFT + MAGSAC | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for name, tally in tallies.items():
        print(tally.landmark_row(name))
    print("\nMedian error (px) per pair, and its number of points:\n")
    print("| pair | points | " + " | ".join(tallies) + " |")
    print("|---|---|" + "---|" * len(tallies))
    for index, pair in enumerate(names):
        medians = " | ".join(f"{np.median(tally.errors[index]):.2f}" for tally in tallies.values())
        print(f"| {pair} | {len(tallies[PEER].errors[index])} | {medians} |")
    print()


def print_synthetic(tallies: dict[str, Tally], preset: str) -> None:
    if not tallies[PEER].seconds:
        return
    header = ("| method | PCK@1 | PCK@3 | PCK@5 | mean error (px) | mean of per-pair mean errors | median s/pair | "
              "max s/pair | median time / SIFT + MAGSAC | max ratio | failed |")
    for title, part in (("all reference pixels whose true source point is inside the source", "errors"),
                        (f"only those within {NEAR_INK_PX} px of ink", "near_ink"),
                        (f"only those further than {NEAR_INK_PX} px from ink (blank paper)", "far")):
        print(f"Preset {preset}, {title}:\n")
        print(header)
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, tally in tallies.items():
            print(tally.row(name, getattr(tally, part)))
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=(*PRESETS, "both"), default="fine-bend")
    parser.add_argument("--side", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--only", help="only the pictures whose names contain one of these (comma-separated)")
    parser.add_argument("--landmarks", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--no-landmarks", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(2)
    load_before = os.getloadavg()
    landmarks = None if args.no_landmarks else run_landmarks(args.landmarks)
    presets = list(PRESETS) if args.preset == "both" else [args.preset]
    synthetic = {preset: run_synthetic(PRESETS[preset], args.side, args.seed, args.limit, args.only) for preset in presets}
    print(f"\n{datetime.date.today()}, {platform.node()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads); load average "
          f"(1, 5, 15 min) {tuple(round(v, 2) for v in load_before)} before, "
          f"{tuple(round(v, 2) for v in os.getloadavg())} after; synthetic pairs at {args.side} px, seed {args.seed}")
    if landmarks is not None:
        print_landmarks(*landmarks, args.landmarks)
    for preset, tallies in synthetic.items():
        print_synthetic(tallies, preset)


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


if __name__ == "__main__":
    main()
