"""Picture views that zoom (wheel) and pan (drag) together: whatever one shows, its partners show."""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QImage, QPainter, QPixmap, QTransform
from PyQt5.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 40.0


def to_pixmap(image: np.ndarray) -> QPixmap:
    """A QPixmap of a BGR (H, W, 3) or grey (H, W) uint8 picture."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if image.ndim == 2:
        qimage = QImage(image.data, width, height, image.strides[0], QImage.Format_Grayscale8)
    else:
        qimage = QImage(image.data, width, height, image.strides[0], QImage.Format_BGR888)
    return QPixmap.fromImage(qimage.copy())  # the copy owns its pixels; `image` may go


class PictureView(QGraphicsView):
    """A base picture and an optional picture above it (with its own opacity), on one pixel grid."""

    view_changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.base = QGraphicsPixmapItem()
        self.top = QGraphicsPixmapItem()
        for z, item in enumerate((self.base, self.top)):
            item.setZValue(z)
            item.setTransformationMode(Qt.SmoothTransformation)
            self.scene().addItem(item)
        self.setRenderHints(QPainter.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setBackgroundBrush(Qt.darkGray)
        self.auto_fit = True  # until the person zooms or drags, the whole picture is shown
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)

    def set_pictures(self, base: QPixmap | None, top: QPixmap | None = None) -> None:
        self.base.setPixmap(base if base is not None else QPixmap())
        self.top.setPixmap(top if top is not None else QPixmap())
        self.top.setVisible(top is not None)
        rect = self.base.boundingRect() if base is not None else QRectF()
        self.scene().setSceneRect(rect)
        if base is not None and self.auto_fit:
            self.fit()

    def set_top_opacity(self, opacity: float) -> None:
        self.top.setOpacity(opacity)

    def fit(self) -> None:
        if self.scene().sceneRect().isEmpty():
            return
        self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
        self.auto_fit = True
        self.view_changed.emit()

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if MIN_SCALE <= scale <= MAX_SCALE:
            self.auto_fit = False
            self.scale(factor, factor)
            self.view_changed.emit()

    def wheelEvent(self, event) -> None:
        self.zoom(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)

    def mousePressEvent(self, event) -> None:
        self.auto_fit = False
        super().mousePressEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.auto_fit:
            self.fit()

    def centre(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def show_like(self, other: PictureView) -> None:
        """Take `other`'s zoom and centre."""
        self.setTransform(QTransform(other.transform()))
        self.centerOn(other.centre())
        self.auto_fit = other.auto_fit


class ViewSync:
    """Keeps every view of a group on the same zoom and centre as the one last moved."""

    def __init__(self, views: list[PictureView]) -> None:
        self.views = views
        self._busy = False
        for view in views:
            view.view_changed.connect(lambda view=view: self.follow(view))

    def follow(self, leader: PictureView) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            for view in self.views:
                if view is not leader:
                    view.show_like(leader)
        finally:
            self._busy = False
