"""The alignment options, and which processor the fine stage will run on.

Whether a GPU is there is asked of torch, which takes seconds to load: a DeviceProbe asks in a
thread of its own once the window shows, so the window does not wait for it.
"""

from __future__ import annotations

import contextlib
import threading

from PyQt5.QtCore import QObject, pyqtSignal
from PyQt5.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from ransac_gui.settings import DEVICES, WindowOptions

_DEVICE_TEXTS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)"}
PROBING_SUMMARY = "Fine stage on: looking for a GPU\u2026"


def describe_devices() -> tuple[bool, str, str]:
    """(a CUDA GPU is there, a few words for the status bar, what 'Automatic' means here); loads torch."""
    import torch

    if torch.cuda.is_available():
        return True, "Fine stage on: GPU (CUDA)", f"GPU available: {torch.cuda.get_device_name(0)}"
    return False, "Fine stage on: CPU (no GPU found)", "No CUDA GPU found: the fine stage runs on the CPU"


class DeviceProbe(QObject):
    """Runs describe_devices() in a background thread; `found` carries its answer."""

    found = pyqtSignal(bool, str, str)

    def start(self) -> None:
        threading.Thread(target=self._run, name="device probe", daemon=True).start()

    def _run(self) -> None:
        answer = describe_devices()
        with contextlib.suppress(RuntimeError):  # the window was closed before torch had loaded
            self.found.emit(*answer)


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
        self.device.setToolTip("Where the fine stage runs")
        self.save_mapping = QCheckBox("Save mappings (.npy)")
        self.save_mapping.setToolTip("Save Results also writes, per source, where each reference pixel lies in it "
                                     "(needed to carry annotations after re-opening the results)")
        self.device_info = QLabel("Looking for a GPU\u2026")
        self.device_info.setWordWrap(True)
        self.device_info.setStyleSheet("color: gray")
        form = QFormLayout(self)
        form.addRow(self.fine)
        form.addRow("Working size", self.work_side)
        form.addRow("Device", self.device)
        form.addRow(self.device_info)
        form.addRow(self.save_mapping)

    def show_devices(self, cuda: bool, _summary: str, description: str) -> None:
        """The probe's answer: without a GPU, the GPU choice is greyed out (and left if it was chosen)."""
        self.device_info.setText(description)
        self.device.model().item(DEVICES.index("cuda")).setEnabled(cuda)
        if not cuda and self.device.currentData() == "cuda":
            self.device.setCurrentIndex(DEVICES.index("auto"))

    def options(self) -> WindowOptions:
        return WindowOptions(fine=self.fine.isChecked(), work_side=self.work_side.value(),
                             device=self.device.currentData(), save_mapping=self.save_mapping.isChecked())

    def set_options(self, options: WindowOptions) -> None:
        self.fine.setChecked(options.fine)
        self.work_side.setValue(options.work_side)
        device = options.device if self.device.model().item(DEVICES.index(options.device)).isEnabled() else "auto"
        self.device.setCurrentIndex(DEVICES.index(device))
        self.save_mapping.setChecked(options.save_mapping)
