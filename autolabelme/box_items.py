"""The boxes drawn over the page: what a box looks like, and how its colour tells its pose."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt
from PyQt5.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF
from PyQt5.QtWidgets import QGraphicsItem, QGraphicsPolygonItem, QGraphicsRectItem

from autolabelme.box_geometry import handles
from dea_core.matching.overview import pose_colour
from dea_core.matching.poses import Pose
from dea_core.matching.result import Match

TEMPLATE_COLOUR = QColor(160, 0, 170)
REJECTED_COLOUR = QColor(120, 120, 120)
SELECTED_COLOUR = QColor(255, 200, 0)
SUGGESTION_COLOUR = QColor(255, 120, 0)
ANOMALY_COLOUR = QColor(200, 0, 0)
# A box narrower than this on screen shows no tag: the tags of a zoomed-out row would cover the page.
MIN_TAGGED_WIDTH = 30.0
# The side of a resize handle on screen, in pixels (edit mode).
HANDLE_SIDE = 8.0


class BoxStyle(Enum):
    MATCH = "match"
    REJECTED = "rejected"
    ADDED = "added"
    TEMPLATE = "template"  # a template box of the current label
    OTHER_TEMPLATE = "other template"  # a template box of another label
    SUGGESTED = "suggested"  # found by the detector, not accepted yet
    FLAGGED = "flagged"  # the DEA says it differs from what it learnt


@dataclass(frozen=True)
class BoxSpec:
    """One box to draw: key (what a click on it means to the window), corners (4, 2) in page
    pixels, colour, style, the short tag shown on it and its tooltip."""

    key: object
    quad: np.ndarray
    colour: QColor
    style: BoxStyle
    tag: str = ""
    tip: str = ""

    @property
    def is_template(self) -> bool:
        return self.style in (BoxStyle.TEMPLATE, BoxStyle.OTHER_TEMPLATE)


def pose_name(pose: Pose) -> str:
    """The pose in the legend's words: 'upright', 'turned 180°', 'mirrored', 'flipped, x1.25'."""
    parts = [] if pose.flip == "none" else [pose.flip]
    if pose.rotation % 360:
        parts.append(f"turned {pose.rotation:g}°")
    parts = parts or ["upright"]
    if abs(pose.scale - 1.0) > 1e-6:
        parts.append(f"x{pose.scale:.2f}")
    return ", ".join(parts)


def boxes_text(count: int) -> str:
    """'1 box', '22 boxes'."""
    return f"{count} box" if count == 1 else f"{count} boxes"


def match_colour(match: Match) -> QColor:
    """Red plain, blue flipped or mirrored, green rotated (the engine's colours, BGR to RGB)."""
    b, g, r = pose_colour(match)
    return QColor(r, g, b)


class TagItem(QGraphicsItem):
    """A small label on a white tab, the same size on screen at any zoom."""

    def __init__(self, text: str, colour: QColor, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.text, self.colour = text, colour
        self.font = QFont()
        self.font.setPointSizeF(8.0)
        metrics = QFontMetricsF(self.font)
        # Above the box's top-left corner, so the tag covers the margin, not the ornament.
        height = metrics.height() + 2
        self._rect = QRectF(0, -height, metrics.horizontalAdvance(text) + 6, height)
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(255, 255, 255, 225))
        painter.drawRect(self._rect)
        painter.setPen(self.colour)
        painter.setFont(self.font)
        painter.drawText(self._rect, Qt.AlignCenter, self.text)


class BoxItem(QGraphicsPolygonItem):
    """A match, an added box or a template box; its look follows its style and selection."""

    def __init__(self, spec: BoxSpec, line_width: float = 2.0) -> None:
        super().__init__(QPolygonF([QPointF(float(x), float(y)) for x, y in spec.quad]))
        self.spec = spec
        self.line_width = line_width
        self.tag = TagItem(spec.tag, spec.colour, self) if spec.tag else None
        if self.tag is not None:
            x0, y0 = spec.quad.min(axis=0)
            self.tag.setPos(float(x0), float(y0))
        self.quad = np.asarray(spec.quad, dtype=float)
        self.handle_items: list[QGraphicsRectItem] = []
        if spec.tip:
            self.setToolTip(spec.tip)
        self.setZValue({BoxStyle.OTHER_TEMPLATE: 1, BoxStyle.TEMPLATE: 3}.get(spec.style, 2))
        self.set_selected(False)

    def set_quad(self, quad: np.ndarray) -> None:
        """Show the box at new corners (while it is dragged in edit mode)."""
        self.quad = np.asarray(quad, dtype=float)
        self.setPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in self.quad]))
        if self.tag is not None:
            x0, y0 = self.quad.min(axis=0)
            self.tag.setPos(float(x0), float(y0))
        if self.handle_items:
            self.show_handles(True)

    def show_handles(self, on: bool) -> None:
        """Small squares at the corners (and sides, when upright) to resize the box by (edit mode)."""
        for item in self.handle_items:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.handle_items = []
        if not on:
            return
        pen = QPen(QColor(40, 40, 40), 1)
        pen.setCosmetic(True)
        for _handle, point in handles(self.quad):
            square = QGraphicsRectItem(-HANDLE_SIDE / 2, -HANDLE_SIDE / 2, HANDLE_SIDE, HANDLE_SIDE, self)
            square.setFlag(QGraphicsItem.ItemIgnoresTransformations)
            square.setPen(pen)
            square.setBrush(QBrush(SELECTED_COLOUR))
            square.setPos(float(point[0]), float(point[1]))
            self.handle_items.append(square)

    @property
    def key(self) -> object:
        return self.spec.key

    def set_selected(self, selected: bool) -> None:
        style = self.spec.style
        pen = QPen(self.spec.colour, self.line_width + (1.5 if selected else 0.0))
        pen.setCosmetic(True)
        if style in (BoxStyle.REJECTED, BoxStyle.OTHER_TEMPLATE, BoxStyle.SUGGESTED):
            pen.setStyle(Qt.DashLine)
        elif style is BoxStyle.TEMPLATE:
            pen.setStyle(Qt.DashDotLine)
        self.setPen(pen)
        fill = QColor(SELECTED_COLOUR if selected else self.spec.colour)
        fill.setAlpha(70 if selected else {BoxStyle.REJECTED: 30, BoxStyle.SUGGESTED: 30, BoxStyle.FLAGGED: 150}.get(style, 0))
        # A flagged vignette is hatched: its red is the red of an upright match too.
        pattern = Qt.BDiagPattern if style is BoxStyle.FLAGGED and not selected else Qt.SolidPattern
        self.setBrush(QBrush(fill, pattern) if fill.alpha() else QBrush(Qt.NoBrush))
        self.setZValue(10 if selected else {BoxStyle.OTHER_TEMPLATE: 1, BoxStyle.TEMPLATE: 3}.get(style, 2))

    def show_tag(self, on_screen_width: float, selected: bool) -> None:
        """Tags only on boxes wide enough on screen to hold them (else a zoomed-out row of tags
        would cover the page and the neighbours' boxes), and on the selected box."""
        if self.tag is not None:
            wide_enough = on_screen_width >= max(MIN_TAGGED_WIDTH, self.tag.boundingRect().width() + 4)
            self.tag.setVisible(selected or wide_enough)

    def width(self) -> float:
        xs = self.quad[:, 0]
        return float(xs.max() - xs.min())

    def near_border(self, point: QPointF, tolerance: float) -> bool:
        """True when `point` (page pixels) lies within `tolerance` of the outline."""
        quad = self.quad
        for i in range(4):
            (x0, y0), (x1, y1) = quad[i], quad[(i + 1) % 4]
            if _segment_distance(point.x(), point.y(), x0, y0, x1, y1) <= tolerance:
                return True
        return False


def _segment_distance(px: float, py: float, x0: float, y0: float, x1: float, y1: float) -> float:
    dx, dy = x1 - x0, y1 - y0
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / length))
    return math.hypot(px - (x0 + t * dx), py - (y0 + t * dy))
