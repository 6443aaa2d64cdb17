"""The alignment options, and which processor the fine stage will run on."""

from __future__ import annotations

import torch
from PyQt5.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from ransac_gui.settings import DEVICES, WindowOptions

_DEVICE_TEXTS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)"}


def device_description() -> str:
    """What 'Automatic' means on this machine."""
    if torch.cuda.is_available():
        return f"GPU available: {torch.cuda.get_device_name(0)}"
    return "No CUDA GPU found: the fine stage runs on the CPU"


def device_summary() -> str:
    """A few words for the status bar: where 'Automatic' runs the fine stage."""
    return "Fine stage on: GPU (CUDA)" if torch.cuda.is_available() else "Fine stage on: CPU (no GPU found)"


class OptionsPane(QGroupBox):
    """Fine stage on or off, working size, device, and whether Save writes the mappings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Options", parent)
        self.fine = QCheckBox("Fine alignment (per pixel)")
        self.fine.setToolTip("After the homographies, follow bends of the paper to the pixel (a few seconds "
                             "per page). Off: homographies only, faster.")
        self.work_side = QSpinBox()
        self.work_side.setRange(300, 4000)
        self.work_side.setSingleStep(100)
        self.work_side.setSuffix(" px")
        self.work_side.setToolTip("The fine stage works on copies whose long side is at most this")
        self.device = QComboBox()
        for key in DEVICES:
            self.device.addItem(_DEVICE_TEXTS[key], key)
        cuda = torch.cuda.is_available()
        self.device.model().item(DEVICES.index("cuda")).setEnabled(cuda)
        self.device.setToolTip("Where the fine stage runs")
        self.save_mapping = QCheckBox("Save mappings (.npy)")
        self.save_mapping.setToolTip("Save Results also writes, per source, where each reference pixel lies in it "
                                     "(needed to carry annotations after re-opening the results)")
        self.device_info = QLabel(device_description())
        self.device_info.setWordWrap(True)
        self.device_info.setStyleSheet("color: gray")
        form = QFormLayout(self)
        form.addRow(self.fine)
        form.addRow("Working size", self.work_side)
        form.addRow("Device", self.device)
        form.addRow(self.device_info)
        form.addRow(self.save_mapping)

    def options(self) -> WindowOptions:
        return WindowOptions(fine=self.fine.isChecked(), work_side=self.work_side.value(),
                             device=self.device.currentData(), save_mapping=self.save_mapping.isChecked())

    def set_options(self, options: WindowOptions) -> None:
        self.fine.setChecked(options.fine)
        self.work_side.setValue(options.work_side)
        device = options.device if options.device != "cuda" or torch.cuda.is_available() else "auto"
        self.device.setCurrentIndex(DEVICES.index(device))
        self.save_mapping.setChecked(options.save_mapping)
