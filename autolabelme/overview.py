"""The bottom-right pane: the whole page with every label's boxes, to see what is still missing.

It shares the page picture with the page view (QPixmap is shared, not copied), always fits the
page, outlines the part shown in the page view, and a click there moves the page view.
"""

from __future__ import annotations

from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QPainter, QPen, QPixmap
from PyQt5.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from autolabelme.box_items import BoxItem, BoxSpec

VIEW_FRAME_COLOUR = QColor(255, 170, 0)


class OverviewView(QGraphicsView):
    """Every box of every label on the whole page; emits where to centre the page view."""

    centreRequested = pyqtSignal(QPointF)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.SmoothPixmapTransform)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.NoFrame)
        self.setBackgroundBrush(QColor(70, 70, 70))
        self.setToolTip("All labels' boxes on the whole page. Click to show that part in the page view.")
        self._pixmap_item: QGraphicsPixmapItem | None = None
        self._boxes: list[BoxItem] = []
        pen = QPen(VIEW_FRAME_COLOUR, 2)
        pen.setCosmetic(True)
        self._frame = self.scene().addRect(QRectF(), pen)
        self._frame.setZValue(20)

    def set_page(self, pixmap: QPixmap | None) -> None:
        self.set_boxes([])
        if self._pixmap_item is not None:
            self.scene().removeItem(self._pixmap_item)
            self._pixmap_item = None
        if pixmap is not None:
            self._pixmap_item = self.scene().addPixmap(pixmap)
            self._pixmap_item.setTransformationMode(Qt.SmoothTransformation)
            self.scene().setSceneRect(QRectF(pixmap.rect()))
        self._fit()

    def set_boxes(self, specs: list[BoxSpec]) -> None:
        for item in self._boxes:
            self.scene().removeItem(item)
        self._boxes = []
        for spec in specs:
            item = BoxItem(spec, line_width=1.5)
            item.show_tag(0.0, False)
            if item.tag is not None:
                item.tag.setVisible(False)
            self.scene().addItem(item)
            self._boxes.append(item)

    def box_count(self) -> int:
        return len(self._boxes)

    def show_view_rect(self, rect: QRectF) -> None:
        """Outline the part of the page now in the page view (nothing when it shows it all)."""
        page = self.scene().sceneRect()
        visible = rect.intersected(page)
        self._frame.setVisible(self._pixmap_item is not None and visible != page and not visible.isEmpty())
        self._frame.setRect(visible)

    def _fit(self) -> None:
        if self._pixmap_item is not None:
            self.fitInView(self._pixmap_item, Qt.KeepAspectRatio)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def mousePressEvent(self, event) -> None:
        if self._pixmap_item is not None and event.button() == Qt.LeftButton:
            self.centreRequested.emit(self.mapToScene(event.pos()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._pixmap_item is not None and event.buttons() & Qt.LeftButton:
            self.centreRequested.emit(self.mapToScene(event.pos()))
        event.accept()

    def wheelEvent(self, event) -> None:
        event.accept()
