"""The strip of thumbnails: the reference on top, then each source with its progress bar and status."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtGui import QImageReader, QPixmap
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ransac_gui.scans import Scan, ScanSet, Status

THUMB_SIZE: Final = QSize(110, 56)
PROGRESS_STEPS: Final = 100
QUALITY_HELP: Final = ("\n\nmatchable: share of the reference where the aligned source can be trusted (see the "
                       "Matchability view).\nsimilarity: SSIM of the two pictures before and after alignment "
                       "(1 = identical).")
_STATUS_COLOURS: Final = {Status.ALIGNED: "#1b7f2a", Status.FAILED: "#b3261e", Status.CANCELLED: "#7a5c00"}


def thumbnail(path: Path) -> QPixmap | None:
    """A small picture of `path`, read at reduced size (fast on large JPEGs); None if unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB_SIZE, Qt.KeepAspectRatio))
    image = reader.read()
    return None if image.isNull() else QPixmap.fromImage(image)


class ScanRow(QWidget):
    """One picture: thumbnail, name, and for a source its progress, status and 'Make reference'."""

    def __init__(self, path: Path, pixmap: QPixmap | None, reference: bool) -> None:
        super().__init__()
        self.path = path
        picture = QLabel()
        picture.setFixedSize(THUMB_SIZE)
        picture.setAlignment(Qt.AlignCenter)
        if pixmap is not None:
            picture.setPixmap(pixmap)
        else:
            picture.setText("unreadable")
            picture.setStyleSheet("color: #b3261e; border: 1px solid #b3261e")
        self.name = QLabel(path.name)
        self.name.setToolTip(str(path))
        self.name.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # a long name is cut, not widened
        self.status = QLabel()  # one line; the full text is its tooltip and, on a click, in the compare pane
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.bar = QProgressBar()
        self.bar.setRange(0, PROGRESS_STEPS)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.button = QPushButton("Make reference")
        self.button.setToolTip(f"Align every other picture onto {path.name} instead")
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 3, 4, 3)
        layout.setVerticalSpacing(2)
        layout.addWidget(picture, 0, 0, 3, 1)
        layout.addWidget(self.name, 0, 1, 1, 2)
        layout.addWidget(self.status, 1, 1, 1, 2)
        layout.addWidget(self.bar, 2, 1)
        layout.addWidget(self.button, 2, 2)
        layout.setColumnStretch(1, 1)
        if reference:
            self.name.setText(f"<b>REFERENCE</b> &nbsp;{path.name}")
            self.status.setText("every source is laid onto this picture" if pixmap is not None
                                else "cannot be read: choose another reference")
            self.button.hide()
            self.bar.hide()
            self.setStyleSheet("ScanRow { background: #fff4c2 }")
            self.setAttribute(Qt.WA_StyledBackground)

    def show_scan(self, scan: Scan) -> None:
        self.status.setText(scan.describe())
        self.status.setToolTip(scan.describe() + (QUALITY_HELP if scan.status is Status.ALIGNED else ""))
        colour = _STATUS_COLOURS.get(scan.status)
        self.status.setStyleSheet(f"color: {colour}" if colour else "")
        self.bar.setValue(int(round(scan.progress * PROGRESS_STEPS)))


class ScanList(QListWidget):
    """One row per picture. Click a source to compare it; 'Make reference' picks another reference."""

    source_selected = pyqtSignal(object)     # Path of the picture clicked, or None
    reference_chosen = pyqtSignal(object)    # Path

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setResizeMode(QListWidget.Adjust)
        # A light selection, so that the coloured status lines stay readable on it.
        self.setStyleSheet("QListWidget::item:selected { background: #cfe3f8 }")
        self.rows: dict[Path, ScanRow] = {}
        self.items: dict[Path, QListWidgetItem] = {}
        self._thumbs: dict[Path, QPixmap | None] = {}
        self.itemSelectionChanged.connect(lambda: self.source_selected.emit(self.selected_path()))

    def show_scans(self, scans: ScanSet) -> None:
        """Rebuild the rows (after a new folder, new sources or another reference)."""
        self.blockSignals(True)
        self.clear()
        self.rows.clear()
        self.items.clear()
        if scans.reference is not None:
            self._add_row(scans.reference, None)
        for scan in scans.sources:
            self._add_row(scan.path, scan)
        self.blockSignals(False)

    def update_scan(self, scan: Scan) -> None:
        row = self.rows.get(scan.path)
        if row is not None:
            row.show_scan(scan)
            self.items[scan.path].setSizeHint(_row_size(row))

    def selected_path(self) -> Path | None:
        items = self.selectedItems()
        return items[0].data(Qt.UserRole) if items else None

    def select(self, path: Path) -> None:
        item = self.items.get(path)
        if item is not None:
            self.setCurrentItem(item)

    def set_busy(self, busy: bool) -> None:
        """While aligning, the reference cannot change."""
        for row in self.rows.values():
            row.button.setEnabled(not busy)

    def _add_row(self, path: Path, scan: Scan | None) -> None:
        if path not in self._thumbs:
            self._thumbs[path] = thumbnail(path)
        row = ScanRow(path, self._thumbs[path], reference=scan is None)
        if scan is not None:
            row.show_scan(scan)
            row.button.clicked.connect(lambda _checked=False, path=path: self.reference_chosen.emit(path))
        item = QListWidgetItem(self)
        item.setData(Qt.UserRole, path)
        item.setSizeHint(_row_size(row))
        self.setItemWidget(item, row)
        self.rows[path] = row
        self.items[path] = item


def _row_size(row: ScanRow) -> QSize:
    """The row's height; its width follows the list's (the list never scrolls sideways)."""
    return QSize(1, row.sizeHint().height())
