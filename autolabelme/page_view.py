"""The page pane: one QGraphicsScene with the scan and its boxes; zoom, pan, click and draw.

The scan is a single pixmap item and every box its own item, so zooming, panning and changing a
box repaint only what moved; nothing re-renders the page picture.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from PyQt5.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PyQt5.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)

from autolabelme.box_geometry import Handle, handles, moved, resized
from autolabelme.box_items import HANDLE_SIDE, TEMPLATE_COLOUR, BoxItem, BoxSpec, TagItem

ZOOM_STEP = 1.25
MAX_SCALE = 16.0
# A drawn box smaller than this (page pixels) is a slip of the mouse, not a box.
MIN_DRAWN_SIDE = 4.0
# How near (screen pixels) a click must be to a template's outline to pick the template.
BORDER_PICK = 5


def pixmap_from_bgr(image: np.ndarray) -> QPixmap:
    """A QPixmap of a BGR (H, W, 3) uint8 page (converted once, when the page opens)."""
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    height, width = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, width, height, 3 * width, QImage.Format_RGB888).copy())


class Mode(Enum):
    BROWSE = "browse"
    DRAW_TEMPLATE = "draw template"
    ADD_MISSED = "add missed box"
    EDIT = "edit boxes"  # LabelMe's edit mode: select, move, resize, nudge


DRAWING_MODES = (Mode.DRAW_TEMPLATE, Mode.ADD_MISSED)
# Arrow keys in edit mode: the box moves one page pixel, ten with Shift.
NUDGE = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1)}


class PageView(QGraphicsView):
    """Shows the page; signals what the person clicked or drew, in page pixels."""

    boxDrawn = pyqtSignal(QRectF, object)  # the box, and the Mode it was drawn in
    boxClicked = pyqtSignal(object)  # the key of the box, or None for the page itself
    boxHovered = pyqtSignal(object)
    boxEdited = pyqtSignal(object, object)  # edit mode: the key, and the box's new corners (4, 2)
    zoomChanged = pyqtSignal(float)
    viewMoved = pyqtSignal(QRectF)  # the part of the page in view

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.DontSavePainterState)
        self.setFrameShape(QFrame.NoFrame)
        self.setBackgroundBrush(QColor(70, 70, 70))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self._pixmap_item: QGraphicsPixmapItem | None = None
        self._boxes: dict[object, BoxItem] = {}
        self._selected: object = None
        self._hovered: object = None
        self._mode = Mode.BROWSE
        self._fit_mode = True
        self._press: QPoint | None = None
        self._press_button = Qt.NoButton
        self._panning = False
        self._drawing: QGraphicsRectItem | None = None
        self._drawing_mode = Mode.BROWSE
        self._draw_start = QPointF()
        # edit mode's drag: (key, handle or None for a move, where it started on the page, the corners then)
        self._editing: tuple[object, Handle | None, QPointF, np.ndarray] | None = None
        self._hint = self.scene().addText("")
        self.horizontalScrollBar().valueChanged.connect(self._emit_view_moved)
        self.verticalScrollBar().valueChanged.connect(self._emit_view_moved)

    # page and boxes
    def set_hint(self, text: str) -> None:
        """A line shown on an empty view (no page open)."""
        self._hint.setPlainText(text)
        self._hint.setDefaultTextColor(QColor(230, 230, 230))
        self._hint.setVisible(self._pixmap_item is None)

    def set_page(self, pixmap: QPixmap | None) -> None:
        scene = self.scene()
        for item in self._boxes.values():
            scene.removeItem(item)
        self._boxes.clear()
        self._selected = self._hovered = None
        if self._pixmap_item is not None:
            scene.removeItem(self._pixmap_item)
            self._pixmap_item = None
        if pixmap is not None:
            self._pixmap_item = scene.addPixmap(pixmap)
            self._pixmap_item.setTransformationMode(Qt.SmoothTransformation)
            self._pixmap_item.setZValue(0)
            scene.setSceneRect(QRectF(pixmap.rect()).adjusted(-20, -20, 20, 20))
        else:
            scene.setSceneRect(self._hint.boundingRect())
        self._hint.setVisible(pixmap is None)
        self.fit()

    def replace_picture(self, pixmap: QPixmap) -> None:
        """Show another rendering of the same page (brightness, contrast); boxes and zoom stay."""
        if self._pixmap_item is not None:
            self._pixmap_item.setPixmap(pixmap)

    def page_rect(self) -> QRectF:
        return QRectF() if self._pixmap_item is None else self._pixmap_item.boundingRect()

    def set_boxes(self, specs: list[BoxSpec]) -> None:
        """Replace the boxes; the selection stays on the box with the same key, if any."""
        scene = self.scene()
        for item in self._boxes.values():
            scene.removeItem(item)
        self._boxes = {}
        for spec in specs:
            item = BoxItem(spec)
            scene.addItem(item)
            self._boxes[spec.key] = item
        if self._selected not in self._boxes:
            self._selected = None
        if self._selected is not None:
            self._mark_selected(True)
        self._update_tags()

    def _mark_selected(self, on: bool) -> None:
        item = self._boxes[self._selected]
        item.set_selected(on)
        item.show_handles(on and self._mode is Mode.EDIT)

    def boxes(self) -> dict[object, BoxItem]:
        return dict(self._boxes)

    def selected(self) -> object:
        return self._selected

    def select(self, key: object) -> None:
        if self._selected in self._boxes:
            self._mark_selected(False)
        self._selected = key if key in self._boxes else None
        if self._selected is not None:
            self._mark_selected(True)
        self._update_tags()

    def centre_on_box(self, key: object) -> None:
        if key in self._boxes:
            self.ensureVisible(self._boxes[key].boundingRect(), 40, 40)

    # modes
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        self._mode = mode
        self._cancel_drawing()
        self._editing = None
        if self._selected in self._boxes:
            self._mark_selected(True)
        self.viewport().setCursor(self._mode_cursor())

    def _mode_cursor(self) -> Qt.CursorShape:
        return Qt.CrossCursor if self._mode in DRAWING_MODES else Qt.ArrowCursor

    # zoom
    def current_scale(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """The whole page in view (and kept so when the window is resized, until the next zoom)."""
        self._fit_mode = True
        if self.page_rect().isEmpty():
            self.resetTransform()
        else:  # the scene's margin too, so that no scroll bar shows at fit
            self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
        self._zoomed()

    def actual_size(self) -> None:
        self._set_scale(1.0)

    def zoom_in(self) -> None:
        self._set_scale(self.current_scale() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_scale(self.current_scale() / ZOOM_STEP)

    def _min_scale(self) -> float:
        rect = self.page_rect()
        if rect.isEmpty():
            return 0.05
        view = self.viewport().size()
        return 0.5 * min(view.width() / rect.width(), view.height() / rect.height())

    def _set_scale(self, scale: float, anchor: QGraphicsView.ViewportAnchor = QGraphicsView.AnchorViewCenter) -> None:
        if self._pixmap_item is None:
            return
        scale = max(self._min_scale(), min(MAX_SCALE, scale))
        factor = scale / self.current_scale()
        self._fit_mode = False
        self.setTransformationAnchor(anchor)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.AnchorViewCenter)
        self._zoomed()

    def _zoomed(self) -> None:
        self._update_tags()
        self.zoomChanged.emit(self.current_scale())
        self._emit_view_moved()

    def _update_tags(self) -> None:
        scale = self.current_scale()
        for key, item in self._boxes.items():
            item.show_tag(item.width() * scale, key == self._selected)

    def visible_page_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def _emit_view_moved(self, *_args) -> None:
        self.viewMoved.emit(self.visible_page_rect())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()
        else:
            self._emit_view_moved()

    def wheelEvent(self, event) -> None:
        """Zoom around the pointer: the page point under it stays under it."""
        steps = event.angleDelta().y() / 120.0
        if steps and self._pixmap_item is not None:
            pointer = event.pos()
            held = self.mapToScene(pointer)
            self._set_scale(self.current_scale() * ZOOM_STEP ** steps, QGraphicsView.NoAnchor)
            drift = self.mapFromScene(held) - pointer
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        event.accept()

    # mouse: click to pick, drag to pan (browse) or to draw
    def key_at(self, view_pos: QPoint) -> object:
        """What a click at `view_pos` means: a template when near its outline or on its tag, else
        the match under it, else a template around it; None for bare page."""
        scene_pos = self.mapToScene(view_pos)
        near = QRect(view_pos - QPoint(BORDER_PICK, BORDER_PICK), QSize(2 * BORDER_PICK + 1, 2 * BORDER_PICK + 1))
        for item in self.items(view_pos):
            if isinstance(item, TagItem) and item.isVisible():
                return item.parentItem().key
        around = self.items(near)
        tolerance = BORDER_PICK / max(self.current_scale(), 1e-6)
        templates = [i for i in around if isinstance(i, BoxItem) and i.spec.is_template]
        for item in templates:
            if item.near_border(scene_pos, tolerance):
                return item.key
        for item in self.items(view_pos):
            if isinstance(item, BoxItem) and not item.spec.is_template:
                return item.key
        for item in templates:
            if item.contains(item.mapFromScene(scene_pos)):
                return item.key
        return None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton and self._pixmap_item is not None and (
                self._mode in DRAWING_MODES or event.modifiers() & Qt.ControlModifier):
            # Ctrl+drag adds a missed box without leaving browsing or editing
            mode = self._mode if self._mode in DRAWING_MODES else Mode.ADD_MISSED
            self._start_drawing(self.mapToScene(event.pos()), mode)
        elif event.button() == Qt.LeftButton and self._mode is Mode.EDIT and self._start_edit(event.pos()):
            pass
        elif event.button() in (Qt.LeftButton, Qt.MiddleButton):
            self._press, self._press_button, self._panning = event.pos(), event.button(), False
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._drawing is not None:
            self._drawing.setRect(self._drawn_rect(self.mapToScene(event.pos())))
        elif self._editing is not None:
            key, _handle, _start, _quad = self._editing
            self._boxes[key].set_quad(self._edited_quad(event.pos()))
        elif self._press is not None:
            self._pan_to(event.pos())
        else:
            key = self.key_at(event.pos())
            if key != self._hovered:
                self._hovered = key
                self.boxHovered.emit(key)
        super().mouseMoveEvent(event)  # QGraphicsView keeps the pointer's place (hover, anchors)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._editing is not None and event.button() == Qt.LeftButton:
            key, _handle, _start, before = self._editing
            after = self._edited_quad(event.pos())
            self._editing = None
            if float(np.abs(after - before).max()) >= 0.5:
                self.boxEdited.emit(key, after)
            else:
                self._boxes[key].set_quad(before)
        elif self._drawing is not None and event.button() == Qt.LeftButton:
            rect = self._drawn_rect(self.mapToScene(event.pos()))
            self._cancel_drawing()
            if rect.width() >= MIN_DRAWN_SIDE and rect.height() >= MIN_DRAWN_SIDE:
                self.boxDrawn.emit(rect, self._drawing_mode)
        elif self._press is not None and event.button() == self._press_button:
            self._pan_to(event.pos())
            clicked = not self._panning and self._press_button == Qt.LeftButton
            self._press, self._panning = None, False
            self.viewport().setCursor(self._mode_cursor())
            if clicked:
                self.boxClicked.emit(self.key_at(event.pos()))
        event.accept()

    # edit mode: take a box by a handle (resize) or inside (move); arrow keys nudge it
    def handle_at(self, view_pos: QPoint) -> Handle | None:
        """The selected box's handle under `view_pos` (screen pixels), if any."""
        item = self._boxes.get(self._selected)
        if item is None:
            return None
        for handle, point in handles(item.quad):
            where = self.mapFromScene(QPointF(float(point[0]), float(point[1])))
            if (where - view_pos).manhattanLength() <= HANDLE_SIDE:
                return handle
        return None

    def _start_edit(self, view_pos: QPoint) -> bool:
        """A press in edit mode: True when it took a box (selected it, ready to move or resize)."""
        handle = self.handle_at(view_pos)
        key = self._selected if handle is not None else self.key_at(view_pos)
        if key is None or not self.is_editable(key):
            return False
        if key != self._selected:
            self.select(key)
            self.boxClicked.emit(key)
        self._editing = (key, handle, self.mapToScene(view_pos), self._boxes[key].quad.copy())
        return True

    @staticmethod
    def is_editable(key: object) -> bool:
        """Templates, matches and added boxes are edited by hand; suggestions and DEA marks are not."""
        return isinstance(key, tuple) and key[0] in ("template", "match")

    def _edited_quad(self, view_pos: QPoint) -> np.ndarray:
        _key, handle, start, quad = self._editing
        point = self._clamped(self.mapToScene(view_pos))
        if handle is None:
            return moved(quad, point.x() - start.x(), point.y() - start.y())
        return resized(quad, handle, (point.x(), point.y()))

    def keyPressEvent(self, event) -> None:
        step = NUDGE.get(event.key())
        item = self._boxes.get(self._selected)
        if self._mode is Mode.EDIT and step is not None and item is not None and self.is_editable(self._selected):
            size = 10 if event.modifiers() & Qt.ShiftModifier else 1
            self.boxEdited.emit(self._selected, moved(item.quad, step[0] * size, step[1] * size))
            event.accept()
            return
        super().keyPressEvent(event)

    def _pan_to(self, pos: QPoint) -> None:
        """Drag the page with the pointer once it has moved further than a click's wobble."""
        delta = pos - self._press
        if not self._panning and (delta.manhattanLength() >= QApplication.startDragDistance()
                                  or self._press_button == Qt.MiddleButton):
            self._panning = True
            self.viewport().setCursor(Qt.ClosedHandCursor)
        if self._panning:
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            self._press = pos

    def leaveEvent(self, event) -> None:
        if self._hovered is not None:
            self._hovered = None
            self.boxHovered.emit(None)
        super().leaveEvent(event)

    def _start_drawing(self, point: QPointF, mode: Mode) -> None:
        self._draw_start = self._clamped(point)
        self._drawing_mode = mode
        colour = TEMPLATE_COLOUR if mode is Mode.DRAW_TEMPLATE else QColor(220, 40, 40)
        pen = QPen(colour, 2, Qt.DashLine)
        pen.setCosmetic(True)
        self._drawing = self.scene().addRect(QRectF(self._draw_start, self._draw_start), pen)
        self._drawing.setZValue(20)

    def _drawn_rect(self, point: QPointF) -> QRectF:
        return QRectF(self._draw_start, self._clamped(point)).normalized()

    def _clamped(self, point: QPointF) -> QPointF:
        rect = self.page_rect()
        return QPointF(min(max(point.x(), rect.left()), rect.right()), min(max(point.y(), rect.top()), rect.bottom()))

    def _cancel_drawing(self) -> None:
        if self._drawing is not None:
            self.scene().removeItem(self._drawing)
            self._drawing = None
