"""A picture of the page with every match drawn, coloured by pose as in the original tool."""

from __future__ import annotations

import cv2
import numpy as np

from dea_core.matching.result import Match

# BGR: red plain, blue flipped or mirrored, green rotated (the original AutoLabelme's colours).
POSE_COLOURS = {"plain": (40, 40, 220), "flip": (220, 90, 30), "rotated": (40, 160, 40)}


def pose_colour(match: Match) -> tuple[int, int, int]:
    """The colour that tells a person how the occurrence is turned."""
    if match.pose.flip != "none":
        return POSE_COLOURS["flip"]
    if match.pose.rotation % 360:
        return POSE_COLOURS["rotated"]
    return POSE_COLOURS["plain"]


def draw_matches(page: np.ndarray, matches: list[Match]) -> np.ndarray:
    """page: (H, W) or (H, W, 3) uint8. Returns a BGR copy with each match's outline and score.

    The label and score sit on a white tab inside the box's top-left corner, small enough that
    touching boxes in a headpiece row stay readable.
    """
    canvas = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR) if page.ndim == 2 else page.copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 1200))
    for match in matches:
        colour = pose_colour(match)
        points = np.round(match.quad).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [points], True, colour, thickness, cv2.LINE_AA)
        _draw_tab(canvas, f"{match.label} {match.score:.2f}", match, colour)
    return canvas


def _draw_tab(canvas: np.ndarray, text: str, match: Match, colour: tuple[int, int, int]) -> None:
    x0, y0, x1, _ = (int(round(v)) for v in match.box)
    scale = float(np.clip((x1 - x0) / 160, 0.3, 0.8))
    (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(canvas, (x0 + 1, y0 + 1), (x0 + width + 3, y0 + height + baseline + 2), (255, 255, 255), -1)
    cv2.putText(canvas, text, (x0 + 2, y0 + height + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
