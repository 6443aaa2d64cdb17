"""Template matching: ours beside the original AutoLabelme algorithm, on the same generated pages.

Run:  .venv/bin/python benchmarks/matching.py [--pages 4] [--size 2000x2800]
Prints one table (time per label, precision, recall, F1 and pose accuracy at IoU 0.5) for two
search settings: the suite's usual one (4 rotations, both flips, 5 scales) and the original
tool's published defaults (0 and 180 degrees, flips, 25 scales from 0.5 to 2).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from original_matcher import ORIGINAL_SCALES, original_match

from dea_core.matching.evaluation import MatchScore, score_matches
from dea_core.matching.matcher import MatchOptions, PageMatcher
from dea_core.matching.poses import scale_steps
from dea_core.synth.pages import PageSpec, generate_page


@dataclass(frozen=True)
class Setting:
    name: str
    options: MatchOptions


SETTINGS = (
    Setting("4 rotations, flips, 5 scales",
            MatchOptions(rotations=(0, 90, 180, 270), flip=True, scales=scale_steps(0.8, 1.25, 5), neighbourhood=None)),
    Setting("original defaults: 0/180, flips, 25 scales",
            MatchOptions(rotations=(0, 180), flip=True, scales=ORIGINAL_SCALES, neighbourhood=None)),
)
ORIGINAL_THRESHOLDS = (0.6, 0.75)


@dataclass
class Tally:
    seconds: list[float] = field(default_factory=list)
    score: MatchScore = field(default_factory=lambda: MatchScore(0, 0, 0, 0))


def run(pages: int, size: tuple[int, int], seed: int) -> list[tuple[str, str, str, Tally]]:
    rows: dict[tuple[str, str, str], Tally] = {}
    rng = np.random.default_rng(seed)
    generated = [generate_page(rng, replace(PageSpec.preset("standard"), width=size[0], height=size[1]))
                 for _ in range(pages)]
    for setting in SETTINGS:
        for page in generated:
            gray = cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY)
            matcher = PageMatcher(gray)
            for label, box in page.templates.items():
                template = gray[int(box[1]):int(np.ceil(box[3])), int(box[0]):int(np.ceil(box[2]))]
                truths = [o for o in page.ornaments if o.label == label]
                start = time.perf_counter()
                result = matcher.match(label, box, setting.options)
                _add(rows, (setting.name, "ours", "auto"), time.perf_counter() - start,
                     score_matches(result.above(), truths, {label: template}))
                start = time.perf_counter()
                found = original_match(gray, label, tuple(int(round(v)) for v in box), setting.options.poses(),
                                       min(ORIGINAL_THRESHOLDS), setting.options.neighbourhood)
                seconds = time.perf_counter() - start
                for threshold in ORIGINAL_THRESHOLDS:
                    kept = [m for m in found if m.score >= threshold]
                    _add(rows, (setting.name, "original", f"{threshold:.2f}"), seconds,
                         score_matches(kept, truths, {label: template}))
    return [(*key, tally) for key, tally in rows.items()]


def _add(rows: dict, key: tuple[str, str, str], seconds: float, score: MatchScore) -> None:
    tally = rows.setdefault(key, Tally())
    tally.seconds.append(seconds)
    tally.score = tally.score + score


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def print_table(rows: list[tuple[str, str, str, Tally]], pages: int, size: tuple[int, int]) -> None:
    print(f"# Template matching, {datetime.date.today()}, {cpu_name()}, {os.cpu_count()} cores, "
          f"load before the run {os.getloadavg()[0]:.2f}, OpenCV {cv2.__version__}")
    print(f"# {pages} generated pages of {size[0]}x{size[1]} (standard preset), full-page search, IoU 0.5")
    print()
    print("| setting | matcher | threshold | s / label (mean) | s / label (max) | precision | recall | F1 "
          "| right pose |")
    print("|---|---|---|---|---|---|---|---|---|")
    for setting, method, threshold, tally in rows:
        s = tally.score
        print(f"| {setting} | {method} | {threshold} | {np.mean(tally.seconds):.2f} | {np.max(tally.seconds):.2f} | "
              f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.pose_accuracy:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--size", default="2000x2800", help="page WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    print_table(run(args.pages, size, args.seed), args.pages, size)


if __name__ == "__main__":
    main()
