"""The list of labels (ornament types) with how many boxes each has."""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QColor
from PyQt5.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from autolabelme.box_items import boxes_text
from dea_core.matching.review import PageReview

NOT_MATCHED = "-"
MARK_COLUMN = 3
MARK_COLOUR = QColor(200, 0, 0)


class LabelList(QTreeWidget):
    """One row per label: name, accepted boxes, note, and the DEA's mark when the page was scored.
    Choosing a row makes it the current label."""

    labelChosen = pyqtSignal(str)
    renameRequested = pyqtSignal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(4)
        self.setHeaderLabels(["Label", "Boxes", "Note", "DEA"])
        self.setColumnHidden(MARK_COLUMN, True)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.header().setStretchLastSection(True)
        self.setToolTip("Labels of this page: click one to show its boxes; double-click to rename it.")
        self._filling = False
        self.currentItemChanged.connect(self._current_changed)
        self.itemDoubleClicked.connect(lambda item, _column: self.renameRequested.emit(item.data(0, Qt.UserRole)))

    def set_labels(self, review: PageReview, current: str | None, carried: dict[str, str] | None = None) -> None:
        """Fill the rows; `carried` maps labels whose templates come from another page to that page."""
        carried = carried or {}
        self._filling = True
        try:
            self.clear()
            for entry in review.labels:
                boxes = str(entry.count()) if entry.matched or entry.added else NOT_MATCHED
                item = QTreeWidgetItem([entry.label, boxes, entry.note or ""])
                item.setData(0, Qt.UserRole, entry.label)
                item.setTextAlignment(1, Qt.AlignRight | Qt.AlignVCenter)
                templates = len(entry.templates)
                source = (f"{templates} template box(es) on this page" if templates
                          else f"template from {carried[entry.label]}" if entry.label in carried
                          else "no template box: draw one (T)")
                state = "not matched yet" if not entry.matched else f"threshold {entry.threshold:.2f}"
                item.setToolTip(0, f"{entry.label}: {source}; {state}")
                item.setToolTip(1, f"{boxes_text(entry.count())} kept" if boxes != NOT_MATCHED else "not matched yet")
                self.addTopLevelItem(item)
                if entry.label == current:
                    self.setCurrentItem(item)
        finally:
            self._filling = False

    def set_marks(self, marks: dict[str, tuple[str, str]]) -> None:
        """Red marks (text, explanation) by label, from the DEA; a label the page lacks (an unknown
        vignette) gets a row of its own. The column shows only while there are marks."""
        rows = {self.topLevelItem(i).data(0, Qt.UserRole): self.topLevelItem(i)
                for i in range(self.topLevelItemCount())}
        for label, (text, tip) in marks.items():
            item = rows.get(label)
            if item is None:
                item = QTreeWidgetItem([label, "", ""])
                item.setData(0, Qt.UserRole, label)
                item.setForeground(0, MARK_COLOUR)
                self.addTopLevelItem(item)
            item.setText(MARK_COLUMN, text)
            item.setToolTip(MARK_COLUMN, tip)
            item.setForeground(MARK_COLUMN, MARK_COLOUR)
        self.setColumnHidden(MARK_COLUMN, not marks)

    def mark_of(self, label: str) -> str:
        return self._row(label).text(MARK_COLUMN)

    def labels(self) -> list[str]:
        return [self.topLevelItem(i).data(0, Qt.UserRole) for i in range(self.topLevelItemCount())]

    def count_of(self, label: str) -> str:
        return self._row(label).text(1)

    def _row(self, label: str) -> QTreeWidgetItem:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.data(0, Qt.UserRole) == label:
                return item
        raise KeyError(label)

    def _current_changed(self, item: QTreeWidgetItem | None, _previous) -> None:
        if item is not None and not self._filling:
            self.labelChosen.emit(item.data(0, Qt.UserRole))
