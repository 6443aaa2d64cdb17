"""Hand-placed landmarks for real alignment pairs: crops, candidate points, zoomed check sheets.

Independent of dea_core on purpose: these points are the truth the alignment engine is scored
against, so nothing of the engine helps place them.

Workflow per pair (PAIRS below says what is cut from which image):
  propose PAIR   corners on the prepared reference, each carried to the source by a SIFT
                 homography and refined by local NCC; written to review/PAIR.json
  patches PAIR   zoomed side-by-side patches (crosshair on each point, pixels shown as they are)
                 to check every candidate by eye; the reviewer then writes in review/PAIR.json
                 which points to drop and how far to move the source point of others
  finish PAIR    applies the review and writes PAIR.landmarks.json and PAIR.landmarks.png

Run from the repository root:  .venv/bin/python benchmarks/data/alignment/make_landmarks.py propose NAME
Coordinates: pixel centres at integers (as OpenCV), in the prepared (cropped, then turned) images.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
REVIEW = HERE / "review"

TRAGIQUES = "../shared/data/pairs/tragiques1616_headpiece/tragiques1616_"
REGNARD = "../shared/data/pages/1696_regnard_foire-st-germain_bpt6k1281160s_f11.jpg"
BRUEGHEL = "../shared/data/pairs/artminer_brueghel_detail/ArtMiner_Detail_Res13_"
MEGADEPTH = "../shared/data/pairs/megadepth/MegaDepth_Train_Org_2_"
HOLBERG = "../shared/data/pages/1741_holberg_klimius_bpt6k822192_f4.png"

# name -> (reference side, source side); a side is (image, box [x0, y0, x1, y1] or None, transform)
PAIRS: dict[str, tuple[tuple, tuple]] = {
    "tragiques_f39_f25": ((TRAGIQUES + "f39_headpiece.png", None, "none"),
                          (TRAGIQUES + "f25_headpiece_third.png", None, "rotate180")),
    "tragiques_f39_f85": ((TRAGIQUES + "f39_headpiece.png", None, "none"),
                          (TRAGIQUES + "f85_headpiece.png", None, "none")),
    "regnard_fleuron_casts": ((REGNARD, [475, 222, 557, 330], "none"), (REGNARD, [557, 227, 639, 335], "none")),
    # The PNGs end in transparent rows; the boxes keep the painted part.
    "brueghel_detail": ((BRUEGHEL + "10.png", [0, 0, 315, 432], "none"), (BRUEGHEL + "11.png", [0, 0, 357, 473], "none")),
    "megadepth": ((MEGADEPTH + "1.jpg", None, "none"), (MEGADEPTH + "2.jpg", None, "none")),
    "holberg_sort_casts": ((HOLBERG, [604, 561, 750, 609], "none"), (HOLBERG, [750, 561, 895, 609], "none")),
    "regnard_row_turned": ((REGNARD, [226, 216, 1128, 348], "none"), (REGNARD, [224, 326, 1128, 453], "rotate180")),
}


def read_side(side: tuple) -> np.ndarray:
    """The prepared image of one side: (H, W, 3) uint8 BGR, cropped to the box, then turned."""
    image, box, transform = side
    pixels = cv2.imread(str(ROOT / image), cv2.IMREAD_COLOR)
    if pixels is None:
        raise SystemExit(f"{image}: cannot be read")
    if box is not None:
        x0, y0, x1, y1 = box
        pixels = pixels[y0:y1, x0:x1]
    if transform == "rotate180":
        pixels = cv2.rotate(pixels, cv2.ROTATE_180)
    elif transform == "mirror":
        pixels = cv2.flip(pixels, 1)
    return np.ascontiguousarray(pixels)


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def sift_matches(ref: np.ndarray, src: np.ndarray, ratio: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """SIFT matches passing the ratio test: reference points (N, 2) and source points (N, 2)."""
    sift = cv2.SIFT_create()
    kr, dr = sift.detectAndCompute(grey(ref), None)
    ks, ds = sift.detectAndCompute(grey(src), None)
    matches = cv2.BFMatcher().knnMatch(dr, ds, k=2)
    good = [m for m, n in matches if m.distance < ratio * n.distance]
    return (np.float64([kr[m.queryIdx].pt for m in good]), np.float64([ks[m.trainIdx].pt for m in good]))


def sift_homography(ref: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Reference -> source homography (3, 3) from SIFT matches and MAGSAC, the first guess only."""
    pr, ps = sift_matches(ref, src)
    h, _ = cv2.findHomography(pr, ps, cv2.USAC_MAGSAC, 4.0)
    return h


def loose_sift_pairs(ref: np.ndarray, src: np.ndarray, cell: int, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """SIFT matches (reference (N, 2), source (N, 2)) within `tolerance` px of a MAGSAC homography,
    at most one per cell x cell square: first guesses for pictures whose mapping is not one plane."""
    pr, ps = sift_matches(ref, src, 0.75)
    h, _ = cv2.findHomography(pr, ps, cv2.USAC_MAGSAC, tolerance)
    off = np.hypot(*(cv2.perspectiveTransform(pr.reshape(-1, 1, 2), h).reshape(-1, 2) - ps).T)
    taken: dict[tuple[int, int], int] = {}
    for i in np.argsort(off):
        if off[i] < tolerance:
            taken.setdefault((int(pr[i, 0]) // cell, int(pr[i, 1]) // cell), i)
    chosen = np.array(sorted(taken.values()), dtype=int)
    return pr[chosen], ps[chosen]


def ink_corners(ref: np.ndarray) -> np.ndarray:
    """Corners (N, 2) of the ink outline: vertices of a polygon fitted to the Otsu-thresholded,
    slightly smoothed picture, strongest turns first. They are stroke ends, notches, junctions."""
    smooth = cv2.GaussianBlur(grey(ref), (0, 0), 1.2)
    _, ink = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    outlines, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    found, turns = [], []
    for outline in outlines:
        if cv2.arcLength(outline, True) < 25:
            continue
        polygon = cv2.approxPolyDP(outline, 1.5, True).reshape(-1, 2).astype(np.float64)
        if len(polygon) < 3:
            continue
        before, after = np.roll(polygon, 1, 0) - polygon, np.roll(polygon, -1, 0) - polygon
        cosine = (before * after).sum(1) / (np.hypot(*before.T) * np.hypot(*after.T) + 1e-9)
        found.append(polygon)
        turns.append(cosine)
    if not found:
        return np.zeros((0, 2))
    corners, cosine = np.concatenate(found), np.concatenate(turns)
    return corners[np.argsort(-cosine)]


def spread_corners(ref: np.ndarray, count: int, cell: int, away_from: list, quality: float,
                   outline: bool) -> np.ndarray:
    """Up to `count` strong corners (N, 2), at most one per cell x cell square, so they spread,
    none within cell / 2 of the points `away_from`. `outline`: corners of the ink outline
    (ink_corners) instead of Shi-Tomasi corners."""
    if outline:
        found = ink_corners(ref)
    else:
        # Smoothed first, so corners sit on the shape of the ink, not on its speckle.
        smooth = cv2.GaussianBlur(grey(ref), (0, 0), 2.0)
        found = cv2.goodFeaturesToTrack(smooth, maxCorners=count * 8, qualityLevel=quality,
                                        minDistance=cell // 2, blockSize=9).reshape(-1, 2)
    taken: dict[tuple[int, int], np.ndarray] = {}
    earlier = np.array(away_from, dtype=np.float64).reshape(-1, 2)
    for x, y in found:
        if len(earlier) and np.hypot(*(earlier - (x, y)).T).min() < cell / 2:
            continue
        taken.setdefault((int(x) // cell, int(y) // cell), np.array([x, y]))
    return np.array(list(taken.values()))[:count]


def refine_ncc(ref: np.ndarray, src: np.ndarray, pr: np.ndarray, guess: np.ndarray,
               half: int, reach: int) -> tuple[np.ndarray, float]:
    """Source point of reference point `pr` near `guess` by NCC of a (2 half + 1)^2 patch,
    searched `reach` px around, with a parabola through the peak for the sub-pixel part."""
    r = half + reach
    # Padded with the edge pixels (paper), so points near the edge of a tight crop are searched too.
    gr, gs = (cv2.copyMakeBorder(grey(im).astype(np.float32), r, r, r, r, cv2.BORDER_REPLICATE) for im in (ref, src))
    x, y = int(round(pr[0])) + r, int(round(pr[1])) + r
    gx, gy = int(round(guess[0])) + r, int(round(guess[1])) + r
    if min(x - half, y - half, gx - r, gy - r) < 0 or x + half >= gr.shape[1] or y + half >= gr.shape[0] \
            or gx + r >= gs.shape[1] or gy + r >= gs.shape[0]:
        return guess, -1.0
    template = gr[y - half:y + half + 1, x - half:x + half + 1]
    window = gs[gy - r:gy + r + 1, gx - r:gx + r + 1]
    score = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(score)

    def vertex(a: float, b: float, c: float) -> float:
        d = a - 2 * b + c
        return 0.0 if d >= 0 else 0.5 * (a - c) / d

    dx = vertex(*score[by, bx - 1:bx + 2]) if 0 < bx < score.shape[1] - 1 else 0.0
    dy = vertex(*score[by - 1:by + 2, bx]) if 0 < by < score.shape[0] - 1 else 0.0
    found = np.array([gx - reach + bx + dx + (pr[0] + r - x) - r, gy - reach + by + dy + (pr[1] + r - y) - r])
    return found, float(best)


def propose(name: str, count: int, cell: int, half: int, reach: int, append: bool, quality: float,
            outline: bool, at: list[float] | None, sift_tolerance: float, within: list[int] | None,
            by_hand_guess: bool) -> None:
    """Candidates for a pair; with `append`, more of them, away from those already reviewed;
    `at`: reference points placed by hand (x0 y0 x1 y1 ...) instead of detected corners;
    `sift_tolerance`: SIFT matches near a loose homography as the points and their first guesses;
    `within`: corners inside this reference box [x0, y0, x1, y1] only (the part that the seeds map);
    `by_hand_guess`: `at` holds xr yr xs ys, the source point guessed by hand too."""
    ref, src = (read_side(side) for side in PAIRS[name])
    review = load_review(name)
    earlier = review.get("candidates", []) if append else []
    seeds = np.array(review.get("seeds", []), dtype=np.float64).reshape(-1, 4)
    if len(seeds) >= 3:
        # An affine fit: a few hand points close together make a plain homography fit unstable.
        design = np.hstack([seeds[:, :2], np.ones((len(seeds), 1))])
        affine = np.linalg.lstsq(design, seeds[:, 2:], rcond=None)[0].T
        h = np.vstack([affine, [0.0, 0.0, 1.0]])
    else:
        h = sift_homography(ref, src)
    if at and len(at) % 4 == 0 and by_hand_guess:
        corners, guesses = np.array(at, dtype=np.float64).reshape(-1, 4)[:, :2], np.array(at).reshape(-1, 4)[:, 2:]
    elif at:
        corners = np.array(at, dtype=np.float64).reshape(-1, 2)
    elif sift_tolerance:
        corners, guesses = loose_sift_pairs(ref, src, cell, sift_tolerance)
        if earlier:
            before = np.array([c[:2] for c in earlier])
            fresh = np.array([np.hypot(*(before - c).T).min() >= cell / 2 for c in corners])
            corners, guesses = corners[fresh], guesses[fresh]
    else:
        corners = spread_corners(ref, count * 20 if within else count, cell, [c[:2] for c in earlier], quality,
                                 outline)
        if within:
            x0, y0, x1, y1 = within
            inside = (corners[:, 0] >= x0) & (corners[:, 0] < x1) & (corners[:, 1] >= y0) & (corners[:, 1] < y1)
            corners = corners[inside][:count]
    if not sift_tolerance and not by_hand_guess:
        guesses = cv2.perspectiveTransform(corners.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
    candidates = list(earlier)
    for pr, guess in zip(corners, guesses):
        ps, score = refine_ncc(ref, src, pr, guess, half, reach)
        candidates.append([round(float(pr[0]), 2), round(float(pr[1]), 2),
                           round(float(ps[0]), 2), round(float(ps[1]), 2), round(score, 3)])
    review["candidates"] = candidates
    review.setdefault("drop", [])
    review.setdefault("move", {})
    save_review(name, review)
    print(f"{name}: {len(candidates)} candidates, homography\n{np.round(h, 4)}")


def load_review(name: str) -> dict:
    path = REVIEW / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_review(name: str, review: dict) -> None:
    REVIEW.mkdir(exist_ok=True)
    (REVIEW / f"{name}.json").write_text(json.dumps(review, indent=1) + "\n")


def reviewed_points(review: dict) -> list[tuple[int, list[float]]]:
    """(candidate number, [xr, yr, xs, ys]) kept after the review, moves applied, plus added points."""
    kept = []
    for i, (xr, yr, xs, ys, _) in enumerate(review["candidates"]):
        if i in review["drop"]:
            continue
        dx, dy = review["move"].get(str(i), (0.0, 0.0))
        kept.append((i, [xr, yr, round(xs + dx, 2), round(ys + dy, 2)]))
    for j, point in enumerate(review.get("added", [])):
        kept.append((len(review["candidates"]) + j, point))
    return kept


def zoom_patch(image: np.ndarray, x: float, y: float, half: int, zoom: int) -> np.ndarray:
    """Nearest-neighbour zoom of the (2 half + 1)^2 pixels around (x, y), crosshair on (x, y)."""
    cx, cy = int(round(x)), int(round(y))
    pad = 2 * half
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 160, 0))
    patch = padded[cy + half:cy + 3 * half + 1, cx + half:cx + 3 * half + 1]
    big = cv2.resize(patch, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    px = int(round((x - cx + half + 0.5) * zoom))
    py = int(round((y - cy + half + 0.5) * zoom))
    gap, arm = zoom, 4 * zoom
    for a, b in (((px - arm, py), (px - gap, py)), ((px + gap, py), (px + arm, py)),
                 ((px, py - arm), (px, py - gap)), ((px, py + gap), (px, py + arm))):
        cv2.line(big, a, b, (0, 0, 255), 1)
    cv2.circle(big, (px, py), 1, (0, 0, 255), -1)
    return big


def patches(name: str, half: int, zoom: int, per_sheet: int, columns: int, only: list[int] | None,
            start_at: int) -> None:
    ref, src = (read_side(side) for side in PAIRS[name])
    review = load_review(name)
    if only:
        rows = [(i, c[:4]) for i, c in enumerate(review["candidates"]) if i in only]
    else:
        rows = [(i, c[:4]) for i, c in enumerate(review["candidates"])] + \
               [(len(review["candidates"]) + j, p) for j, p in enumerate(review.get("added", []))]
        moved = dict(reviewed_points(review))
        rows = [(i, moved.get(i, p)) for i, p in rows if i >= start_at]
    out = Path("/tmp/landmark_patches") / name
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    for start in range(0, len(rows), per_sheet):
        tiles = []
        for i, (xr, yr, xs, ys) in rows[start:start + per_sheet]:
            pair = np.hstack([zoom_patch(ref, xr, yr, half, zoom),
                              np.full(((2 * half + 1) * zoom, 6, 3), 255, np.uint8),
                              zoom_patch(src, xs, ys, half, zoom)])
            label = np.full((22, pair.shape[1], 3), 255, np.uint8)
            cv2.putText(label, f"{i}  r({xr:.1f},{yr:.1f}) s({xs:.1f},{ys:.1f})", (4, 16),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
            tiles.append(cv2.copyMakeBorder(np.vstack([label, pair]), 4, 4, 4, 4,
                                            cv2.BORDER_CONSTANT, value=(255, 255, 255)))
        while len(tiles) % columns:
            tiles.append(np.full_like(tiles[0], 255))
        sheet = np.vstack([np.hstack(tiles[k:k + columns]) for k in range(0, len(tiles), columns)])
        path = out / f"{start:03d}.png"
        cv2.imwrite(str(path), sheet)
        print(path)


def coordinate_grid(image: np.ndarray, zoom: int, step: int = 5, region: list[int] | None = None) -> np.ndarray:
    """Nearest-neighbour zoom of `region` [x0, y0, x1, y1] (default: all) with a line through every
    `step`-th pixel centre, labelled every second line, for reading off coordinates by hand."""
    x0, y0, x1, y1 = region or (0, 0, image.shape[1], image.shape[0])
    big = cv2.resize(image[y0:y1, x0:x1], None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    for v in range(0, max(image.shape[:2]), step):
        colour = (255, 0, 0) if v % (2 * step) == 0 else (255, 200, 150)
        if x0 <= v < x1:
            c = int((v - x0 + 0.5) * zoom)
            cv2.line(big, (c, 0), (c, big.shape[0]), colour, 1)
            if v % (2 * step) == 0:
                cv2.putText(big, str(v), (c + 2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
        if y0 <= v < y1:
            c = int((v - y0 + 0.5) * zoom)
            cv2.line(big, (0, c), (big.shape[1], c), colour, 1)
            if v % (2 * step) == 0:
                cv2.putText(big, str(v), (2, c - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
    return big


def contact_sheet(ref: np.ndarray, src: np.ndarray, points: list[list[float]]) -> np.ndarray:
    """Both prepared images side by side, numbered points, thin lines joining each pair."""
    (hr, wr), (hs, ws) = ref.shape[:2], src.shape[:2]
    stacked = wr > 1.6 * hr  # wide ornaments one above the other, pictures side by side
    if stacked:
        scale = min(1600.0 / max(wr, ws), 1000.0 / (hr + hs))
    else:
        scale = min(1600.0 / (wr + ws), 900.0 / max(hr, hs))
    smooth = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    r = cv2.resize(ref, None, fx=scale, fy=scale, interpolation=smooth)
    s = cv2.resize(src, None, fx=scale, fy=scale, interpolation=smooth)
    if stacked:
        canvas = np.full((r.shape[0] + s.shape[0] + 30, max(r.shape[1], s.shape[1]), 3), 255, np.uint8)
        offset = (0, r.shape[0] + 30)
    else:
        canvas = np.full((max(r.shape[0], s.shape[0]), r.shape[1] + s.shape[1] + 30, 3), 255, np.uint8)
        offset = (r.shape[1] + 30, 0)
    canvas[:r.shape[0], :r.shape[1]] = r
    canvas[offset[1]:offset[1] + s.shape[0], offset[0]:offset[0] + s.shape[1]] = s
    colours = [(0, 0, 255), (255, 0, 0), (0, 150, 0), (200, 0, 200), (0, 140, 255), (160, 120, 0)]
    for k, (xr, yr, xs, ys) in enumerate(points):
        colour = colours[k % len(colours)]
        a = (int(round((xr + 0.5) * scale - 0.5)), int(round((yr + 0.5) * scale - 0.5)))
        b = (int(round((xs + 0.5) * scale - 0.5)) + offset[0], int(round((ys + 0.5) * scale - 0.5)) + offset[1])
        cv2.line(canvas, a, b, colour, 1, cv2.LINE_AA)
        for p in (a, b):
            cv2.circle(canvas, p, 3, colour, 1, cv2.LINE_AA)
            cv2.putText(canvas, str(k), (p[0] + 4, p[1] - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1,
                        cv2.LINE_AA)
    return canvas


def finish(name: str) -> None:
    ref_side, src_side = PAIRS[name]
    ref, src = read_side(ref_side), read_side(src_side)
    review = load_review(name)
    points = [p for _, p in reviewed_points(review)]
    record = {
        "reference": {"image": ref_side[0], "box": ref_side[1], "transform": ref_side[2]},
        "source": {"image": src_side[0], "box": src_side[1], "transform": src_side[2]},
        "points": [[round(float(v), 2) for v in p] for p in points],
        "notes": review.get("notes", ""),
    }
    (HERE / f"{name}.landmarks.json").write_text(json.dumps(record, indent=1) + "\n")
    cv2.imwrite(str(HERE / f"{name}.landmarks.png"), contact_sheet(ref, src, points))
    moved = sum(1 for i in review["move"] if int(i) not in review["drop"])
    print(f"{name}: {len(points)} points ({len(review['candidates'])} proposed, {len(review['drop'])} dropped, "
          f"{moved} moved, {len(review.get('added', []))} added by hand)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["propose", "patches", "finish", "crops"])
    parser.add_argument("name", choices=sorted(PAIRS))
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--cell", type=int, default=40, help="at most one candidate per cell x cell px")
    parser.add_argument("--half", type=int, default=12, help="patch half-size in px")
    parser.add_argument("--reach", type=int, default=6, help="NCC search radius in px around the guess")
    parser.add_argument("--quality", type=float, default=0.03, help="corner strength, share of the strongest")
    parser.add_argument("--outline", action="store_true", help="corners of the ink outline, not Shi-Tomasi")
    parser.add_argument("--at", type=float, nargs="*", help="reference points placed by hand: x0 y0 x1 y1 ...")
    parser.add_argument("--sift", type=float, default=0.0,
                        help="candidates from SIFT matches within this many px of a homography")
    parser.add_argument("--grid", type=int, default=5, help="grid line spacing in px (crops)")
    parser.add_argument("--rbox", type=int, nargs=4, help="crops: grid of this part of the reference only")
    parser.add_argument("--sbox", type=int, nargs=4, help="crops: grid of this part of the source only")
    parser.add_argument("--guessed", action="store_true", help="--at gives xr yr xs ys: source guessed by hand")
    parser.add_argument("--within", type=int, nargs=4, help="propose: corners inside this reference box only")
    parser.add_argument("--zoom", type=int, default=6)
    parser.add_argument("--per-sheet", type=int, default=12)
    parser.add_argument("--columns", type=int, default=3)
    parser.add_argument("--only", type=int, nargs="*", help="patches of these candidates only")
    parser.add_argument("--start", type=int, default=0, help="patches from this candidate on")
    parser.add_argument("--append", action="store_true", help="add candidates away from the earlier ones")
    args = parser.parse_args()
    if args.step == "propose":
        propose(args.name, args.count, args.cell, args.half, args.reach, args.append, args.quality,
                args.outline, args.at, args.sift, args.within, args.guessed)
    elif args.step == "patches":
        patches(args.name, args.half, args.zoom, args.per_sheet, args.columns, args.only, args.start)
    elif args.step == "crops":
        out = Path("/tmp/landmark_patches") / f"{args.name}_crops"
        out.mkdir(parents=True, exist_ok=True)
        for tag, side, region in zip(("reference", "source"), PAIRS[args.name], (args.rbox, args.sbox)):
            prepared = read_side(side)
            cv2.imwrite(str(out / f"{tag}.png"), prepared)
            cv2.imwrite(str(out / f"{tag}_grid.png"), coordinate_grid(prepared, args.zoom, args.grid, region))
            print(out / f"{tag}.png")
    else:
        finish(args.name)


if __name__ == "__main__":
    main()
