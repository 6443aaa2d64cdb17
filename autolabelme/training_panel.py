"""The training panel: a dock that follows a training run (epoch, loss curve, time left,
validation AP) and holds its Stop and Resume buttons. It only shows; the window acts."""

from __future__ import annotations

import math
from typing import Any

from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QPainter, QPainterPath, QPen
from PyQt5.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from autolabelme.training_commands import CommandSpec
from autolabelme.training_process import TrainingOutcome

STEP_COLOUR = QColor(150, 180, 230)
EPOCH_COLOUR = QColor(30, 90, 220)
VAL_COLOUR = QColor(230, 120, 0)
OUTCOME_COLOURS = {"done": "#1b7a1b", "cancelled": "#444444", "failed": "#b00020"}
PANEL_HEIGHT = 240
# A long run has more steps than the curve has pixels: past this many points, every other one goes.
MAX_STEP_POINTS = 2000


def duration_text(seconds: float) -> str:
    """'45 s', '12 min', '2 h 05 min'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


class LossCurve(QWidget):
    """The training loss after each step (light), each epoch's mean (blue) and validation loss
    (orange) against epochs, drawn with QPainter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: list[tuple[float, float]] = []  # (epochs done, as a fraction; loss)
        self.epochs: list[tuple[float, float]] = []  # (epoch, mean loss)
        self.val: list[tuple[float, float]] = []  # (epoch, validation loss)
        self.total_epochs = 1  # the x axis spans the whole run, so the curve also shows how far it is
        self.setMinimumSize(260, 140)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def clear(self) -> None:
        self.steps, self.epochs, self.val, self.total_epochs = [], [], [], 1
        self.update()

    def set_total_epochs(self, epochs: int) -> None:
        self.total_epochs = max(1, epochs)
        self.update()

    def add_step(self, epoch_fraction: float, loss: float) -> None:
        if math.isfinite(loss):
            self.steps.append((epoch_fraction, loss))
            if len(self.steps) > MAX_STEP_POINTS:
                self.steps = self.steps[::2]
            self.update()

    def add_epoch(self, record: dict[str, Any]) -> None:
        epoch = float(record["epoch"])
        self.epochs = [p for p in self.epochs if p[0] != epoch] + [(epoch, float(record["loss"]))]
        if "val_loss" in record:
            self.val = [p for p in self.val if p[0] != epoch] + [(epoch, float(record["val_loss"]))]
        self.update()

    def series(self) -> list[tuple[list[tuple[float, float]], QColor, float]]:
        return [(self.steps, STEP_COLOUR, 1.0), (self.epochs, EPOCH_COLOUR, 2.0), (self.val, VAL_COLOUR, 2.0)]

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), Qt.white)
        metrics = painter.fontMetrics()
        plot = QRectF(metrics.horizontalAdvance("00.00") + 8, 8, self.width() - metrics.horizontalAdvance("00.00") - 16,
                      self.height() - metrics.height() - 16)
        points = [p for data, _, _ in self.series() for p in data if math.isfinite(p[1])]
        painter.setPen(QColor(120, 120, 120))
        painter.drawRect(plot)
        if not points:
            painter.drawText(plot, Qt.AlignCenter, "the loss curve appears\nafter the first steps")
            return
        x_max = max(float(self.total_epochs), max(x for x, _ in points))
        y_low, y_high = min(y for _, y in points), max(y for _, y in points)
        margin = max(0.05 * (y_high - y_low), 1e-3 * max(abs(y_high), 1.0))  # lines clear of the frame
        y_low, y_high = y_low - margin, y_high + margin

        def at(x: float, y: float) -> QPointF:
            return QPointF(plot.left() + x / x_max * plot.width(),
                           plot.bottom() - (y - y_low) / (y_high - y_low) * plot.height())

        self._draw_axes(painter, plot, x_max, y_low, y_high)
        for data, colour, width in self.series():
            self._draw_line(painter, [at(x, y) for x, y in data], colour, width)

    def _draw_axes(self, painter: QPainter, plot: QRectF, x_max: float, y_low: float, y_high: float) -> None:
        metrics = painter.fontMetrics()
        for fraction, value in ((0.0, y_high), (1.0, y_low)):
            y = plot.top() + fraction * plot.height()
            painter.drawText(QRectF(0, y - metrics.height() / 2, plot.left() - 4, metrics.height()),
                             Qt.AlignRight | Qt.AlignVCenter, f"{value:.3g}")
        step = max(1, math.ceil(x_max / max(1.0, plot.width() / 40)))  # an epoch number every 40 pixels or more
        for epoch in range(0, math.floor(x_max) + 1, step):
            x = plot.left() + epoch / x_max * plot.width()
            painter.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            painter.drawText(QRectF(x - 20, plot.bottom() + 3, 40, metrics.height()), Qt.AlignHCenter, str(epoch))
        painter.drawText(QRectF(plot.right() - 60, plot.top() + 2, 56, metrics.height()), Qt.AlignRight, "epochs")

    @staticmethod
    def _draw_line(painter: QPainter, points: list[QPointF], colour: QColor, width: float) -> None:
        if not points:
            return
        pen = QPen(colour, width)
        painter.setPen(pen)
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.drawPath(path)
        painter.setBrush(colour)
        if len(points) < 2 or width > 1:
            for point in points:
                painter.drawEllipse(point, width + 1, width + 1)
        painter.setBrush(Qt.NoBrush)


class TrainingPanel(QDockWidget):
    """Follows one run: shows its JSON records; Stop and Resume ask the window."""

    stopRequested = pyqtSignal()
    resumeRequested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("training_panel")
        self.setAllowedAreas(Qt.BottomDockWidgetArea | Qt.RightDockWidgetArea)
        self.title = QLabel("No training yet: Training > Train Detector...")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.epoch_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.time_label = QLabel()
        self.ap_label = QLabel()
        self.ap_label.setToolTip("Average precision on the validation pages after each epoch: AP50 counts a box "
                                 "found when it overlaps the true one by half, AP75 by three quarters (1 is perfect)")
        self.curve = LossCurve()
        self.legend = QLabel(f"<span style='color:{STEP_COLOUR.name()}'>■</span> loss at each step · "
                             f"<span style='color:{EPOCH_COLOUR.name()}'>■</span> epoch mean · "
                             f"<span style='color:{VAL_COLOUR.name()}'>■</span> validation loss")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step; the model so far is saved and can be resumed")
        self.stop_button.clicked.connect(self.stopRequested)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the stopped training from its model file")
        self.resume_button.clicked.connect(self.resumeRequested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.resume_button)
        # Words on the left, the curve on the right: the panel stays low and the page keeps its height.
        words = QVBoxLayout()
        for widget in (self.title, self.epoch_label, self.progress, self.time_label, self.ap_label, self.message):
            words.addWidget(widget)
        words.addStretch(1)
        words.addLayout(buttons)
        plot = QVBoxLayout()
        plot.addWidget(self.curve, 1)
        plot.addWidget(self.legend)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.addLayout(words, 2)
        layout.addLayout(plot, 3)
        body.setMaximumHeight(PANEL_HEIGHT)
        self.setWidget(body)
        self.set_running(False, resumable=False)

    def begin(self, spec: CommandSpec) -> None:
        """A run starts (or is followed again): clear the previous one."""
        self.title.setText(f"<b>{spec.title}</b> → {spec.output}")
        self.title.setToolTip(spec.command_line())
        self.epoch_label.setText("Starting (loading PyTorch and the dataset)...")
        self.time_label.clear()
        self.ap_label.clear()
        self.message.clear()
        self.progress.setValue(0)
        self.curve.clear()
        self.set_running(True, resumable=False)
        self.show()
        self.raise_()

    def show_record(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind == "start":
            self.curve.set_total_epochs(int(record.get("epochs", 1)))
            for entry in record.get("history", []):
                self._show_epoch(entry)
        elif kind == "step":
            self._show_step(record)
        elif kind == "epoch":
            self._show_epoch(record)

    def _show_step(self, record: dict[str, Any]) -> None:
        epoch, epochs = int(record["epoch"]), int(record["epochs"])
        self.curve.set_total_epochs(epochs)
        step, steps = int(record["step"]), max(1, int(record["steps_per_epoch"]))
        self.epoch_label.setText(f"Epoch {epoch} of {epochs} · step {step} of {steps} · loss {record['loss']:.4g}")
        done = (epoch - 1 + step / steps) / max(1, epochs)
        self.progress.setValue(round(1000 * done))
        self.time_label.setText(f"About {duration_text(record['eta_s'])} left · running for "
                                f"{duration_text(record['elapsed_s'])}")
        self.curve.add_step(epoch - 1 + step / steps, float(record["loss"]))

    def _show_epoch(self, record: dict[str, Any]) -> None:
        self.curve.add_epoch(record)
        parts = [f"{name} {record[key]:.2f}" for key, name in (("val_ap50", "AP50"), ("val_ap75", "AP75"),
                                                              ("val_loss", "loss")) if key in record]
        if parts:
            self.ap_label.setText(f"Validation after epoch {record['epoch']}: " + " · ".join(parts))

    def finish(self, outcome: TrainingOutcome) -> None:
        colour = OUTCOME_COLOURS[outcome.kind]
        self.message.setStyleSheet(f"color: {colour}")
        self.message.setText(outcome.message)
        if outcome.kind == "done":
            self.progress.setValue(1000)
            self.time_label.clear()
        self.set_running(False, outcome.resumable)

    def set_running(self, running: bool, resumable: bool) -> None:
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(not running and resumable)

    def show_stopping(self) -> None:
        self.stop_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText("Stopping after this step; the model file is being saved...")
