"""LabelMe's two side lists: the folder's files (done or not; click to open) and the page's boxes
(label, pose, score; click to select; a tick per label shows or hides its boxes)."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QSize, Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
)

from autolabelme.box_items import pose_name
from dea_core.matching.review import PageReview, lies_on_template


class FileList(QListWidget):
    """The pages of the open folder; ticked when the page has its LabelMe JSON (it was saved)."""

    pageChosen = pyqtSignal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setToolTip("The folder's pages: ticked when saved as LabelMe JSON. Click one to open it.")
        self.itemActivated.connect(self._chosen)
        self.itemClicked.connect(self._chosen)
        self._filling = False

    def show_pages(self, pages: list[Path], current: int | None) -> None:
        self._filling = True
        try:
            self.clear()
            for index, page in enumerate(pages):
                item = QListWidgetItem(page.name)
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)
                item.setCheckState(Qt.Checked if page.suffix.lower() == ".json" else Qt.Unchecked)
                item.setData(Qt.UserRole, index)
                item.setToolTip(str(page))
                self.addItem(item)
            if current is not None and 0 <= current < self.count():
                self.setCurrentRow(current)
        finally:
            self._filling = False

    def names(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def done(self) -> list[bool]:
        return [self.item(i).checkState() == Qt.Checked for i in range(self.count())]

    def _chosen(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.pageChosen.emit(item.data(Qt.UserRole))


class ShapeList(QTreeWidget):
    """Every box of the page under its label: a label's tick shows or hides its boxes on the page."""

    boxChosen = pyqtSignal(object)  # the box key, as the page view knows it
    visibilityChanged = pyqtSignal(str, bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Box", "Pose", "Score"])
        # Pose and score always in view; the box column takes what is left (the dock starts narrow).
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setToolTip("The page's boxes: click one to select it on the page; untick a label to hide its boxes.")
        self.itemClicked.connect(self._clicked)
        self.itemChanged.connect(self._changed)
        self._filling = False

    def sizeHint(self) -> QSize:
        """Wide enough for a box's kind, a turned pose and its score unclipped (the dock starts at this width)."""
        metrics, hint = self.fontMetrics(), super().sizeHint()
        text = sum(metrics.horizontalAdvance(t) for t in ("template's own", "turned 180°", "0.00"))
        return QSize(max(hint.width(), text + self.indentation() + 64), hint.height())

    def show_review(self, review: PageReview, hidden: set[str], selected: object = None) -> None:
        self._filling = True
        try:
            self.clear()
            for entry in review.labels:
                top = QTreeWidgetItem([f"{entry.label} ({entry.count()})", "", ""])
                top.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
                top.setCheckState(0, Qt.Unchecked if entry.label in hidden else Qt.Checked)
                top.setData(0, Qt.UserRole, ("label", entry.label))
                self.addTopLevelItem(top)
                for index in range(len(entry.templates)):
                    self._row(top, ("template", entry.label, index), "template", "upright", "", selected)
                for item in entry.shown():
                    if not item.accepted:
                        continue
                    kind = ("added" if item.added else "edited" if item.edited
                            else "template's own" if lies_on_template(entry, item.match) else "found")
                    score = "" if item.added else f"{item.match.score:.2f}"
                    self._row(top, ("match", entry.label, item.key), kind, pose_name(item.match.pose), score,
                              selected)
                top.setExpanded(True)
        finally:
            self._filling = False

    def _row(self, parent: QTreeWidgetItem, key: object, text: str, pose: str, score: str, selected: object) -> None:
        row = QTreeWidgetItem([text, pose, score])
        row.setData(0, Qt.UserRole, key)
        row.setTextAlignment(2, Qt.AlignRight | Qt.AlignVCenter)
        parent.addChild(row)
        if key == selected:
            self.setCurrentItem(row)

    def keys(self) -> list[object]:
        found = []
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            found.extend(top.child(j).data(0, Qt.UserRole) for j in range(top.childCount()))
        return found

    def label_item(self, label: str) -> QTreeWidgetItem:
        for i in range(self.topLevelItemCount()):
            if self.topLevelItem(i).data(0, Qt.UserRole) == ("label", label):
                return self.topLevelItem(i)
        raise KeyError(label)

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        key = item.data(0, Qt.UserRole)
        if key[0] != "label":
            self.boxChosen.emit(key)

    def _changed(self, item: QTreeWidgetItem, column: int) -> None:
        key = item.data(0, Qt.UserRole)
        if not self._filling and column == 0 and key is not None and key[0] == "label":
            self.visibilityChanged.emit(key[1], item.checkState(0) == Qt.Checked)
