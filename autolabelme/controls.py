"""The top-right pane: the original AutoLabelme's buttons, the search options and the progress bar."""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QDoubleValidator
from PyQt5.QtWidgets import (
    QAction,
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from autolabelme.actions import Actions
from autolabelme.box_items import boxes_text
from autolabelme.search_settings import ORIGINAL_SEARCH, SearchSettings
from dea_core.errors import MatchOptionsError
from dea_core.matching.label_jobs import PROGRESS_STEPS
from dea_core.matching.review import LabelReview
from dea_core.matching.search_region import HEIGHTS_LIMIT

LEGEND = ("<b style='color:#dc2828'>red</b> upright · <b style='color:#1e5adc'>blue</b> mirrored or flipped · "
          "<b style='color:#28a028'>green</b> turned<br><b style='color:#a000aa'>purple</b> template box · "
          "<b style='color:#787878'>grey dashed</b> rejected (click to keep)<br>"
          "<b style='color:#c80000'>hatched, ⚠</b> flagged by the DEA (changed or unknown)")


# The current label's line is cut here; the whole note is in its tooltip and in the label list.
TITLE_CHARS = 55


def action_button(action: QAction, *, wide: bool = True, text: str | None = None) -> QToolButton:
    """A push-button look for an action: same text (or a shorter `text`), shortcut in the tooltip,
    enabled with it."""
    button = QToolButton()
    button.setToolButtonStyle(Qt.ToolButtonTextOnly)
    if text is None:
        button.setDefaultAction(action)
    else:  # a default action would put its own, longer text back on the button
        button.setText(text)
        button.setToolTip(action.toolTip())
        button.clicked.connect(action.trigger)
        action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
        button.setEnabled(action.isEnabled())
    if wide:
        button.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
    return button


class ControlsPane(QWidget):
    """Buttons for the current label, the search options, and matching's progress."""

    settingsChanged = pyqtSignal()

    def __init__(self, actions: Actions, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._label_box(actions))
        layout.addWidget(self._search_box(actions))
        layout.addWidget(self._results_box(actions))
        self.set_search_settings(SearchSettings())
        self.set_busy(False)

    # building
    def _label_box(self, actions: Actions) -> QGroupBox:
        box = QGroupBox("Current label")
        grid = QGridLayout(box)
        self.label_title = QLabel("No page open")
        self.label_title.setTextFormat(Qt.PlainText)
        self.label_title.setFixedHeight(2 * self.label_title.fontMetrics().lineSpacing() + 4)
        grid.addWidget(self.label_title, 0, 0, 1, 4)
        grid.addWidget(action_button(actions.previous_line), 1, 0, 1, 2)
        grid.addWidget(action_button(actions.next_line), 1, 2, 1, 2)
        self.fewer_button = action_button(actions.fewer, wide=False, text="-")
        self.more_button = action_button(actions.more, wide=False, text="+")
        for button in (self.fewer_button, self.more_button):
            button.setMinimumWidth(40)
        self.threshold_label = QLabel("")
        self.threshold_label.setAlignment(Qt.AlignCenter)
        self.threshold_label.setToolTip("Matches scoring at least the threshold are shown; - raises it, + lowers it.")
        grid.addWidget(self.fewer_button, 2, 0)
        grid.addWidget(self.threshold_label, 2, 1, 1, 2)
        grid.addWidget(self.more_button, 2, 3)
        return box

    def _search_box(self, actions: Actions) -> QGroupBox:
        box = QGroupBox("Search")
        grid = QGridLayout(box)
        angle = QDoubleValidator(-360.0, 360.0, 2, self)
        self.rotation_min = QLineEdit()
        self.rotation_min.setValidator(angle)
        self.rotation_min.setToolTip("Rotation min, degrees counter-clockwise. Alone: only that angle.")
        self.rotation_max = QLineEdit()
        self.rotation_max.setValidator(angle)
        self.rotation_max.setPlaceholderText("none")
        self.rotation_max.setToolTip("Rotation max: with min, every 'step' degrees from min to max "
                                     "(0 to 270 in steps of 90: the four right angles).")
        self.rotation_step = QDoubleSpinBox()
        self.rotation_step.setRange(1.0, 180.0)
        self.rotation_step.setDecimals(0)
        self.rotation_step.setSuffix("°")
        self.rotation_step.setToolTip("Step between the angles from min to max (the original tool: 5°).")
        grid.addWidget(QLabel("Rotation"), 0, 0)
        grid.addWidget(_labelled("min", self.rotation_min), 0, 1)
        grid.addWidget(_labelled("max", self.rotation_max), 0, 2)
        grid.addWidget(_labelled("step", self.rotation_step), 0, 3)

        self.scale_min = _scale_box("Smallest size to look for, times the template's size.")
        self.scale_max = _scale_box("Largest size to look for, times the template's size.")
        self.scale_count = QSpinBox()
        self.scale_count.setRange(1, 15)
        self.scale_count.setToolTip("How many sizes from 'from' to 'to' (1: just 'from').")
        grid.addWidget(QLabel("Size"), 1, 0)
        grid.addWidget(_labelled("from", self.scale_min), 1, 1)
        grid.addWidget(_labelled("to", self.scale_max), 1, 2)
        grid.addWidget(_labelled("steps", self.scale_count), 1, 3)

        self.neighbourhood = QDoubleSpinBox()
        self.neighbourhood.setRange(0.5, 100000.0)
        self.neighbourhood.setDecimals(1)
        self.neighbourhood.setToolTip(f"Where to look around the template box: up to {HEIGHTS_LIMIT:g}, that "
                                      "many template heights above and below it; above, pixels.")
        self.neighbourhood_unit = QLabel()
        self.whole_page = QCheckBox("whole page")
        self.whole_page.setToolTip("Look everywhere on the page.")
        grid.addWidget(QLabel("Search space"), 2, 0)
        grid.addWidget(self.neighbourhood, 2, 1)
        grid.addWidget(self.neighbourhood_unit, 2, 2)
        grid.addWidget(self.whole_page, 2, 3)

        self.flip = QCheckBox("Also look for mirrored and upside-down copies (flip)")
        self.flip.setToolTip("Search left-right mirrored and upside-down flipped occurrences too.")
        grid.addWidget(self.flip, 3, 0, 1, 4)

        grid.addWidget(action_button(actions.rematch), 4, 0, 1, 2)
        grid.addWidget(action_button(actions.correct_label), 4, 2, 1, 2)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.cancel_button = action_button(actions.cancel, wide=False)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        grid.addLayout(row, 5, 0, 1, 4)
        legend = QLabel(LEGEND)
        legend.setTextFormat(Qt.RichText)
        legend.setFixedHeight((LEGEND.count("<br>") + 1) * legend.fontMetrics().lineSpacing() + 4)
        legend.setToolTip("How each box is drawn: its colour says how the occurrence is turned; a hatched box is one the "
                          "DEA flagged.")
        grid.addWidget(legend, 6, 0, 1, 4)
        self.searched = QLabel()
        self.searched.setWordWrap(True)
        self.searched.setToolTip("What Rematch (Return) searches with these options.")
        grid.addWidget(self.searched, 7, 0, 1, 4)
        self.default_button = QToolButton()
        self.default_button.setText("Whole ornament (default)")
        self.default_button.setToolTip("Upright and upside down, mirrored and flipped, on the whole page: finds "
                                       "every row of a composed headpiece in one press.")
        self.default_button.clicked.connect(lambda: self._choose(SearchSettings()))
        self.original_button = QToolButton()
        self.original_button.setText("Original tool's settings")
        self.original_button.setToolTip("As the original AutoLabelme: upright copies only, two template heights "
                                        "above and below the box.")
        self.original_button.clicked.connect(lambda: self._choose(ORIGINAL_SEARCH))
        presets = QHBoxLayout()
        presets.addWidget(self.default_button)
        presets.addWidget(self.original_button)
        presets.addStretch(1)
        grid.addLayout(presets, 8, 0, 1, 4)
        self.settingsChanged.connect(self._show_searched)
        for field in (self.rotation_min, self.rotation_max):
            field.editingFinished.connect(self.settingsChanged)
        for spin in (self.rotation_step, self.scale_min, self.scale_max, self.scale_count, self.neighbourhood):
            spin.valueChanged.connect(self.settingsChanged)
        for check in (self.whole_page, self.flip):
            check.toggled.connect(self.settingsChanged)
        self.neighbourhood.valueChanged.connect(self._update_neighbourhood_unit)
        self.whole_page.toggled.connect(self.neighbourhood.setDisabled)
        return box

    def _results_box(self, actions: Actions) -> QGroupBox:
        box = QGroupBox("Results")
        row = QHBoxLayout(box)
        for action in (actions.save_json, actions.save_images, actions.open_in_labelme):
            row.addWidget(action_button(action))
        return box

    # state
    def show_label(self, entry: LabelReview | None, position: int, total: int, carried_from: str | None,
                   has_page: bool = True) -> None:
        """The current label's name, note, template source, threshold and box count."""
        if entry is None:
            if not has_page:
                text = "No page open: Open (Ctrl+O) or Open Folder (Ctrl+Shift+O)."
            elif total == 0:
                text = "No label yet: press T and drag a box around one ornament."
            else:
                text = "Choose a label in the list."
            self.label_title.setText(text)
            self.label_title.setToolTip("")
            self.threshold_label.setText("")
            return
        # Labels are often numbers ("0 This is a Sun"): the name comes first, the position after.
        note = f" — {entry.note}" if entry.note else ""
        source = "" if entry.templates or carried_from is None else f", template from {carried_from}"
        first = f"{entry.label}{note}"
        if len(first) > TITLE_CHARS:
            first = first[:TITLE_CHARS - 1] + "…"
        self.label_title.setText(f"{first}\n(label {position} of {total}{source})")
        self.label_title.setToolTip(f"{entry.label}{note}")
        if entry.matched:
            self.threshold_label.setText(f"threshold {entry.threshold:.2f} · {boxes_text(entry.count())}")
        else:
            self.threshold_label.setText("not matched yet: Rematch (Return)")

    def set_busy(self, busy: bool) -> None:
        """The progress bar counts while matching runs and says 'idle' otherwise."""
        self.progress.setValue(0)
        self.progress.setFormat("matching %p%" if busy else "idle")
        self.progress.setEnabled(busy)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)

    def search_settings(self) -> SearchSettings:
        """The options as typed; MatchOptionsError names a field that is not a number."""
        return SearchSettings(
            rotation_min=_angle(self.rotation_min.text(), "rotation min") or 0.0,
            rotation_max=_angle(self.rotation_max.text(), "rotation max"),
            rotation_step=self.rotation_step.value(),
            flip=self.flip.isChecked(),
            neighbourhood=self.neighbourhood.value(),
            whole_page=self.whole_page.isChecked(),
            scale_min=self.scale_min.value(),
            scale_max=self.scale_max.value(),
            scale_count=self.scale_count.value(),
        )

    def set_search_settings(self, settings: SearchSettings) -> None:
        widgets = (self.rotation_min, self.rotation_max, self.rotation_step, self.flip, self.neighbourhood,
                   self.whole_page, self.scale_min, self.scale_max, self.scale_count)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.rotation_min.setText(f"{settings.rotation_min:g}")
            self.rotation_max.setText("" if settings.rotation_max is None else f"{settings.rotation_max:g}")
            self.rotation_step.setValue(settings.rotation_step)
            self.flip.setChecked(settings.flip)
            self.neighbourhood.setValue(settings.neighbourhood)
            self.whole_page.setChecked(settings.whole_page)
            self.neighbourhood.setDisabled(settings.whole_page)
            self.scale_min.setValue(settings.scale_min)
            self.scale_max.setValue(settings.scale_max)
            self.scale_count.setValue(settings.scale_count)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._update_neighbourhood_unit()
        self._show_searched()

    def _choose(self, settings: SearchSettings) -> None:
        self.set_search_settings(settings)
        self.settingsChanged.emit()

    def _show_searched(self) -> None:
        try:
            text = self.search_settings().describe()
        except MatchOptionsError as error:
            text = str(error)
        self.searched.setText(f"Searches: {text}")

    def _update_neighbourhood_unit(self) -> None:
        heights = self.neighbourhood.value() <= HEIGHTS_LIMIT
        self.neighbourhood_unit.setText("template heights" if heights else "pixels")


def _labelled(text: str, widget: QWidget) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(3)
    row.addWidget(QLabel(text))
    row.addWidget(widget, 1)
    return holder


def _scale_box(tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.1, 10.0)
    spin.setDecimals(2)
    spin.setSingleStep(0.05)
    spin.setToolTip(tip)
    return spin


def _angle(text: str, name: str) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise MatchOptionsError(f"{name}: '{text}' is not a number of degrees") from None
