"""Brightness and contrast of the page as shown (LabelMe's dialog), for faint or dark scans.

Only the picture on screen changes: matching, crops and saved files use the scan as it is.
"""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QSlider, QWidget

# Slider values are percent: 100 leaves the page as scanned.
NEUTRAL = 100


def adjusted(image: np.ndarray, brightness: int, contrast: int) -> np.ndarray:
    """image (H, W, 3) uint8 with contrast (percent, around mid-grey) then brightness (percent) applied."""
    table = np.arange(256, dtype=np.float32)
    table = (table - 128.0) * (contrast / 100.0) + 128.0
    table = table * (brightness / 100.0)
    return np.clip(table, 0, 255).astype(np.uint8)[image]


class BrightnessDialog(QDialog):
    """Two sliders; `changed(brightness, contrast)` as they move, so the page follows at once."""

    changed = pyqtSignal(int, int)

    def __init__(self, brightness: int, contrast: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Brightness and contrast")
        self.brightness = _slider(brightness, "Lighter to the right; the scan itself is not changed")
        self.contrast = _slider(contrast, "More contrast to the right: faint ink darker, paper lighter")
        buttons = QDialogButtonBox(QDialogButtonBox.Close | QDialogButtonBox.Reset)
        buttons.rejected.connect(self.accept)
        buttons.button(QDialogButtonBox.Reset).clicked.connect(self.reset)
        form = QFormLayout(self)
        form.addRow("Brightness", self.brightness)
        form.addRow("Contrast", self.contrast)
        form.addRow(buttons)
        for slider in (self.brightness, self.contrast):
            slider.valueChanged.connect(lambda _value: self.changed.emit(self.brightness.value(), self.contrast.value()))

    def reset(self) -> None:
        self.brightness.setValue(NEUTRAL)
        self.contrast.setValue(NEUTRAL)


def _slider(value: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Horizontal)
    slider.setRange(20, 300)
    slider.setValue(value)
    slider.setMinimumWidth(260)
    slider.setToolTip(tip)
    return slider
