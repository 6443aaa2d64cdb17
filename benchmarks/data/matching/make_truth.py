"""Build the hand-checked real-scan matching truth, independently of dea_core.

Candidates come from plain cv2.matchTemplate (TM_CCOEFF_NORMED) of each type's template in the 8
dihedral poses, plus, for types with a separately cut mirror sort, a helper template cut from one
mirrored occurrence; greedy non-overlap suppression keeps the best candidate at each place. Every
candidate is then judged by eye: the verdicts live in `<stem>.review.json` beside this script, and
`build` turns review + candidates into `<stem>.truth.json` and the contact sheet `<stem>.truth.png`.

Usage (from the repository root):
  python benchmarks/data/matching/make_truth.py view IMAGE x0,y0,x1,y1 ZOOM OUT.png
  python benchmarks/data/matching/make_truth.py tight IMAGE x0,y0,x1,y1              (shrink to ink)
  python benchmarks/data/matching/make_truth.py candidates REVIEW.json OUTDIR   (strips to look at)
  python benchmarks/data/matching/make_truth.py build REVIEW.json               (truth + sheet)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
POSES: tuple[tuple[int, str], ...] = tuple((r, f) for f in ("none", "mirrored") for r in (0, 90, 180, 270))
COLOURS = {  # BGR, one per pose
    (0, "none"): (0, 170, 0),
    (90, "none"): (255, 80, 0),
    (180, "none"): (0, 0, 230),
    (270, "none"): (0, 140, 255),
    (0, "mirrored"): (200, 0, 200),
    (90, "mirrored"): (200, 200, 0),
    (180, "mirrored"): (120, 0, 90),
    (270, "mirrored"): (0, 90, 150),
}
OVERLAP = 0.25  # a candidate sharing more than this of the smaller box with a better one is dropped
Box = list[int]


def load_gray(image: str) -> np.ndarray:
    """The page as float32 grey, (H, W); `image` is relative to the repository root."""
    page = cv2.imread(str(ROOT / image), cv2.IMREAD_GRAYSCALE)
    if page is None:
        sys.exit(f"{image}: cannot read the image")
    return page.astype(np.float32)


def posed(patch: np.ndarray, rotation: int, flip: str) -> np.ndarray:
    """The patch flipped left-right first (if mirrored), then turned counter-clockwise on screen."""
    out = patch[:, ::-1] if flip == "mirrored" else patch
    turn = {0: None, 90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    return np.ascontiguousarray(
        out if turn[rotation] is None else cv2.rotate(np.ascontiguousarray(out), turn[rotation])
    )


def crop(page: np.ndarray, box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return page[y0:y1, x0:x1]


def compose_helper(rotation: int, flip: str) -> tuple[int, str]:
    """Pose relative to the main template of a helper (mirror-sort) template posed so."""
    return rotation, "none" if flip == "mirrored" else "mirrored"


def inside(box: Box, areas: list[Box]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(a[0] <= cx < a[2] and a[1] <= cy < a[3] for a in areas)


def overlap_of_smaller(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller


def peaks(scores: np.ndarray, size: tuple[int, int], threshold: float) -> list[tuple[float, int, int]]:
    """Local maxima (score, x, y) of a score map above threshold, one per half-template window."""
    kw, kh = max(3, size[0] // 2) | 1, max(3, size[1] // 2) | 1
    local = cv2.dilate(scores, np.ones((kh, kw), np.uint8))
    ys, xs = np.nonzero((scores >= local) & (scores >= threshold))
    return [(float(scores[y, x]), int(x), int(y)) for y, x in zip(ys, xs)]


def candidates(
    page: np.ndarray, kind: dict, areas: list[Box], threshold: float, outside: float
) -> list[dict]:
    """Non-overlapping candidates of one type, best first, each with its main-template score."""
    sources = [("main", kind["template"])]
    if kind.get("mirror_sort_template"):
        sources.append(("helper", kind["mirror_sort_template"]))
    raw, main_maps = [], {}
    m = kind.get("match_margin", 0)  # white kept around tiny pieces (colons) so NCC sees their shape
    for source, box in sources:
        patch = crop(page, [box[0] - m, box[1] - m, box[2] + m, box[3] + m])
        for rotation, flip in POSES:
            templ = posed(patch, rotation, flip)
            scores = cv2.matchTemplate(page, templ, cv2.TM_CCOEFF_NORMED)
            pose = (rotation, flip) if source == "main" else compose_helper(rotation, flip)
            h, w = templ.shape
            if source == "main":
                main_maps[pose] = (scores, w, h)
            for score, x, y in peaks(scores, (w, h), min(threshold, outside)):
                cand = [x + m, y + m, x + w - m, y + h - m]
                limit = (
                    threshold
                    if inside(cand, areas)
                    else (outside if kind.get("search", "page") == "page" else 2.0)
                )
                if score >= limit:
                    raw.append(
                        {
                            "score": round(score, 4),
                            "box": cand,
                            "rotation": pose[0],
                            "flip": pose[1],
                            "source": source,
                        }
                    )
    raw.sort(key=lambda c: -c["score"])
    kept = suppress(raw)
    for i, cand in enumerate(kept):
        cand["id"] = i
        cand["main_score"] = round(best_main_score(main_maps, cand["box"]), 4)
    return kept


def suppress(raw: list[dict]) -> list[dict]:
    """Greedy non-overlap suppression of candidates sorted best first (vectorised over the kept)."""
    kept: list[dict] = []
    boxes = np.zeros((len(raw), 4), np.float64)
    for cand in raw:
        b = np.array(cand["box"], np.float64)
        k = boxes[: len(kept)]
        w = np.minimum(k[:, 2], b[2]) - np.maximum(k[:, 0], b[0])
        h = np.minimum(k[:, 3], b[3]) - np.maximum(k[:, 1], b[1])
        areas = np.minimum((k[:, 2] - k[:, 0]) * (k[:, 3] - k[:, 1]), (b[2] - b[0]) * (b[3] - b[1]))
        if not np.any((w > 0) & (h > 0) & (np.clip(w, 0, None) * np.clip(h, 0, None) > OVERLAP * areas)):
            boxes[len(kept)] = b
            kept.append(cand)
    return kept


def best_main_score(main_maps: dict, box: Box, slack: int = 3) -> float:
    """Best main-template score over the 8 poses, centred within `slack` px of the box centre."""
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    best = -1.0
    for scores, w, h in main_maps.values():
        x, y = cx - w // 2, cy - h // 2
        ys = slice(max(0, y - slack), max(0, y + slack + 1))
        xs = slice(max(0, x - slack), max(0, x + slack + 1))
        window = scores[ys, xs]
        if window.size:
            best = max(best, float(window.max()))
    return best


def zoomed(patch: np.ndarray, height: int) -> np.ndarray:
    """A grey patch as BGR uint8 scaled to `height` px (nearest, so pixels stay visible)."""
    f = height / patch.shape[0]
    big = cv2.resize(patch, (max(1, round(patch.shape[1] * f)), height), interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(np.clip(big, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def strip_sheet(
    page: np.ndarray, kind: dict, cands: list[dict], height: int = 90, columns: int = 4
) -> np.ndarray:
    """Cells 'template in the candidate's pose | candidate (+4 px context)', with id, score, pose."""
    cells = []
    for c in cands:
        source = kind["template"] if c["source"] == "main" else kind["mirror_sort_template"]
        pose = (
            (c["rotation"], c["flip"]) if c["source"] == "main" else compose_helper(c["rotation"], c["flip"])
        )
        left = posed(crop(page, source), *pose)
        x0, y0, x1, y1 = c["box"]
        m = 4
        right = np.full((y1 - y0 + 2 * m, x1 - x0 + 2 * m), 255, np.float32)
        sub = page[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m]
        right[
            max(0, m - y0) : max(0, m - y0) + sub.shape[0], max(0, m - x0) : max(0, m - x0) + sub.shape[1]
        ] = sub
        lp = np.full((right.shape[0], left.shape[1] + 2 * m), 255, np.float32)
        lp[m : m + left.shape[0], m : m + left.shape[1]] = left
        a, b = zoomed(lp, height), zoomed(right, height)
        cell = np.full((height + 22, a.shape[1] + b.shape[1] + 12, 3), 255, np.uint8)
        cell[:height, : a.shape[1]] = a
        cell[:height, a.shape[1] + 6 : a.shape[1] + 6 + b.shape[1]] = b
        text = f"#{c['id']} {c['score']:.2f}/{c['main_score']:.2f} {c['rotation']}{'M' if c['flip'] == 'mirrored' else ''}{'h' if c['source'] == 'helper' else ''}"
        cv2.putText(cell, text, (2, height + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 200), 1, cv2.LINE_AA)
        cells.append(cell)
    return grid(cells, columns)


def grid(cells: list[np.ndarray], columns: int) -> np.ndarray:
    if not cells:
        return np.full((20, 20, 3), 255, np.uint8)
    w = max(c.shape[1] for c in cells) + 8
    h = max(c.shape[0] for c in cells) + 8
    rows = (len(cells) + columns - 1) // columns
    out = np.full((rows * h, columns * w, 3), 200, np.uint8)
    for i, c in enumerate(cells):
        r, k = divmod(i, columns)
        out[r * h : r * h + c.shape[0], k * w : k * w + c.shape[1]] = c
    return out


def draw_boxes(page: np.ndarray, area: Box, items: list[dict], zoom: float, numbered: bool) -> np.ndarray:
    """The area at `zoom` with each item's box in its pose colour (template thick, mirror sort dashed)."""
    x0, y0, x1, y1 = area
    sub = page[y0:y1, x0:x1]
    img = cv2.cvtColor(
        cv2.resize(
            np.clip(sub, 0, 255).astype(np.uint8), None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA
        ),
        cv2.COLOR_GRAY2BGR,
    )
    for it in items:
        bx = [
            round((it["box"][0] - x0) * zoom),
            round((it["box"][1] - y0) * zoom),
            round((it["box"][2] - x0) * zoom) - 1,
            round((it["box"][3] - y0) * zoom) - 1,
        ]
        colour = COLOURS[(it["rotation"], it["flip"])]
        thick = 3 if it.get("template") else 1
        if it.get("mirror_sort"):
            dashed_rect(img, bx, colour)
            cv2.putText(
                img, "MS", (bx[0] + 2, bx[3] - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA
            )
        else:
            cv2.rectangle(img, (bx[0], bx[1]), (bx[2], bx[3]), colour, thick)
        tag = it.get("tag", "")
        if it.get("template"):
            tag = ("T " + tag).strip()
        if numbered or it.get("template"):
            cv2.putText(
                img,
                tag,
                (bx[0] + 1, bx[1] - 3 if bx[1] > 14 else bx[1] + 12),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.42,
                colour,
                1,
                cv2.LINE_AA,
            )
    return img


def dashed_rect(img: np.ndarray, b: list[int], colour: tuple[int, int, int], dash: int = 5) -> None:
    x0, y0, x1, y1 = b
    for x in range(x0, x1, 2 * dash):
        cv2.line(img, (x, y0), (min(x + dash, x1), y0), colour, 2)
        cv2.line(img, (x, y1), (min(x + dash, x1), y1), colour, 2)
    for y in range(y0, y1, 2 * dash):
        cv2.line(img, (x0, y), (x0, min(y + dash, y1)), colour, 2)
        cv2.line(img, (x1, y), (x1, min(y + dash, y1)), colour, 2)


def legend(width: int) -> np.ndarray:
    out = np.full((54, width, 3), 255, np.uint8)
    for i, (pose, colour) in enumerate(COLOURS.items()):
        x, y = 8 + (i % 4) * 170, 16 + (i // 4) * 18
        cv2.rectangle(out, (x, y - 10), (x + 18, y + 2), colour, 2)
        cv2.putText(
            out,
            f"rot {pose[0]} {pose[1]}",
            (x + 24, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    cv2.putText(
        out,
        "thick = template (T), dashed + MS = mirror sort",
        (8, 50),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    return out


def stack(images: list[np.ndarray]) -> np.ndarray:
    w = max(i.shape[1] for i in images)
    padded = [np.pad(i, ((0, 6), (0, w - i.shape[1]), (0, 0)), constant_values=255) for i in images]
    return np.vstack(padded)


def sheet_zoom(areas: list[Box]) -> float:
    return min(2.0, 1400 / max(a[2] - a[0] for a in areas))


def run_candidates(review_path: Path) -> tuple[dict, np.ndarray, dict[str, list[dict]]]:
    review = json.loads(review_path.read_text())
    page = load_gray(review["image"])
    found = {
        k["label"]: candidates(
            page, k, review["ornament_areas"], review["threshold"], review["threshold_outside"]
        )
        for k in review["types"]
    }
    return review, page, found


def cmd_view(image: str, box: str, zoom: str, out: str) -> None:
    """An area at zoom with a labelled 10-px grid, to read coordinates off."""
    page = load_gray(image)
    x0, y0, x1, y1 = (int(v) for v in box.split(","))
    z = float(zoom)
    img = draw_boxes(page, [x0, y0, x1, y1], [], z, False)
    for x in range((x0 // 10 + 1) * 10, x1, 10):
        strong = x % 50 == 0
        cv2.line(
            img, (round((x - x0) * z), 0), (round((x - x0) * z), 6 if not strong else 14), (0, 0, 255), 1
        )
        if x % 50 == 0:
            cv2.putText(
                img, str(x), (round((x - x0) * z) + 2, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1
            )
    for y in range((y0 // 10 + 1) * 10, y1, 10):
        strong = y % 50 == 0
        cv2.line(
            img, (0, round((y - y0) * z)), (6 if not strong else 14, round((y - y0) * z)), (255, 0, 0), 1
        )
        if strong:
            cv2.putText(
                img, str(y), (16, round((y - y0) * z) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 0, 0), 1
            )
    cv2.imwrite(out, img)


def tightened(page: np.ndarray, box: Box, min_blob: int = 6) -> Box:
    """The box shrunk to the ink inside it (Otsu on the box, specks under `min_blob` px ignored)."""
    sub = np.clip(crop(page, box), 0, 255).astype(np.uint8)
    _, ink = cv2.threshold(sub, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink)
    blobs = [s for s in stats[1:n] if s[cv2.CC_STAT_AREA] >= min_blob]
    if not blobs:
        return box
    x0 = min(s[0] for s in blobs)
    y0 = min(s[1] for s in blobs)
    x1 = max(s[0] + s[2] for s in blobs)
    y1 = max(s[1] + s[3] for s in blobs)
    return [box[0] + int(x0), box[1] + int(y0), box[0] + int(x1), box[1] + int(y1)]


def cmd_tight(image: str, box: str) -> None:
    """Print a hand-drawn box shrunk to its ink, with its size."""
    page = load_gray(image)
    b = tightened(page, [int(v) for v in box.split(",")])
    print(",".join(map(str, b)), "size", b[2] - b[0], b[3] - b[1])


def cmd_candidates(review_path: Path, outdir: Path) -> None:
    """Strips and numbered overviews of every type's candidates, to judge by eye."""
    review, page, found = run_candidates(review_path)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = review_path.name.removesuffix(".review.json")
    for kind in review["types"]:
        cands = found[kind["label"]]
        for start in range(0, len(cands), 24):
            cv2.imwrite(
                str(outdir / f"{stem}.{kind['label']}.strip{start // 24}.png"),
                strip_sheet(page, kind, cands[start : start + 24]),
            )
        items = [dict(c, tag=str(c["id"])) for c in cands]
        for i, area in enumerate(review["ornament_areas"]):
            near = [c for c in items if overlap_of_smaller(c["box"], area) > 0]
            cv2.imwrite(
                str(outdir / f"{stem}.{kind['label']}.area{i}.png"),
                draw_boxes(page, area, near, sheet_zoom([area]), True),
            )
        print(
            kind["label"], len(cands), "candidates;", " ".join(f"#{c['id']}:{c['score']:.2f}" for c in cands)
        )


def cmd_build(review_path: Path) -> None:
    """Apply the verdicts: write the truth JSON and its contact sheet, print the counts."""
    review, page, found = run_candidates(review_path)
    stem = review_path.name.removesuffix(".review.json")
    types, kept_scores, rejected_scores, rejected, drawn, counts = [], [], [], [], [], []
    for kind in review["types"]:
        verdict = review["verdicts"][kind["label"]]
        cands = found[kind["label"]]
        keep = set(verdict["keep"])
        mirror = set(verdict.get("mirror_sort", []))
        occ = []
        for c in cands:
            if c["id"] not in keep:
                rejected.append((kind["label"], c["box"], c["main_score"]))
                continue
            pose = verdict.get("pose", {}).get(
                str(c["id"]), verdict.get("pose_all", [c["rotation"], c["flip"]])
            )
            box = verdict.get("box", {}).get(str(c["id"]), c["box"])
            occ.append(
                {
                    "box": box,
                    "rotation": pose[0],
                    "flip": pose[1],
                    "scale": 1.0,
                    "mirror_sort": c["id"] in mirror,
                }
            )
            if c["id"] not in mirror:
                kept_scores.append((kind["label"], c["main_score"]))
        for added in verdict.get("added", []):
            occ.append(
                {
                    "box": added["box"],
                    "rotation": added["rotation"],
                    "flip": added["flip"],
                    "scale": 1.0,
                    "mirror_sort": added.get("mirror_sort", False),
                }
            )
        occ.sort(key=lambda o: (o["box"][1] // 20, o["box"][0]))
        if not any(o["box"] == kind["template"] and (o["rotation"], o["flip"]) == (0, "none") for o in occ):
            sys.exit(f"{review_path}: the template of {kind['label']} is not among its occurrences")
        types.append(
            {
                "label": kind["label"],
                "template": kind["template"],
                "mirror_sort_template": kind.get("mirror_sort_template"),
                "symmetric_poses": kind.get("symmetric_poses", []),
                "occurrences": occ,
            }
        )
        drawn += [
            dict(
                o,
                template=o["box"] == kind["template"],
                tag=kind["label"] if o["box"] == kind["template"] else "",
            )
            for o in occ
        ]
        counts.append(
            f"{kind['label']}: {len(cands)} candidates, {len(keep)} kept, {len(occ) - len(keep)} added, {sum(o['mirror_sort'] for o in occ)} mirror sort"
        )
    kept_boxes = [o["box"] for t in types for o in t["occurrences"]]
    for label, box, score in rejected:  # a piece kept under another label is no chance match of this one
        if all(overlap_of_smaller(box, b) <= 0.5 for b in kept_boxes):
            rejected_scores.append((label, score))
    for kind in review["types"]:
        low = min(s for lab, s in kept_scores if lab == kind["label"])
        high = max((s for lab, s in rejected_scores if lab == kind["label"]), default=None)
        counts.append(f"  gap {kind['label']}: lowest kept {low:.3f}, highest rejected {high}")
    truth = {
        "image": review["image"],
        "types": types,
        "ornament_areas": review["ornament_areas"],
        "score_gap": {
            "lowest_kept": min(s for _, s in kept_scores),
            "highest_rejected": max((s for _, s in rejected_scores), default=None),
        },
    }
    (HERE / f"{stem}.truth.json").write_text(dumps(truth) + "\n")
    z = sheet_zoom(review["ornament_areas"])
    panels = [
        draw_boxes(page, a, [d for d in drawn if overlap_of_smaller(d["box"], a) > 0.5], z, False)
        for a in review["ornament_areas"]
    ]
    title = np.full((26, 200, 3), 255, np.uint8)
    panels = [title, *panels, legend(720)]
    img = stack(panels)
    cv2.putText(
        img,
        f"{Path(review['image']).name}: ornament areas only, x{z:.2f}",
        (6, 18),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.imwrite(str(HERE / f"{stem}.truth.png"), img)
    print("\n".join(counts))
    print("score gap", truth["score_gap"])


def dumps(truth: dict) -> str:
    """JSON with each box and each occurrence on one line, readable in a diff."""
    text = json.dumps(truth, indent=1)
    text = re.sub(
        r"\[\s*([^\[\]{}]*?)\s*\]",
        lambda m: (
            "[" + ", ".join(p.strip() for p in m.group(1).split(",")) + "]" if m.group(1).strip() else "[]"
        ),
        text,
    )
    return re.sub(
        r"\{\s*(\"box\"[^{}]*?)\s*\}",
        lambda m: "{" + " ".join(p.strip() for p in m.group(1).split("\n")) + "}",
        text,
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["view"] and len(args) == 5:
        cmd_view(*args[1:])
    elif args[:1] == ["tight"] and len(args) == 3:
        cmd_tight(*args[1:])
    elif args[:1] == ["candidates"] and len(args) == 3:
        cmd_candidates(Path(args[1]), Path(args[2]))
    elif args[:1] == ["build"] and len(args) == 2:
        cmd_build(Path(args[1]))
    else:
        sys.exit(__doc__)
