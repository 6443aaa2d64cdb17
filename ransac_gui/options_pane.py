"""The alignment options: fine stage on or off, its working size, and whether Save writes the mappings."""

from __future__ import annotations

from PyQt5.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from ransac_gui.settings import WindowOptions


class OptionsPane(QGroupBox):
    """Fine stage on or off, working size, and whether Save writes the mappings."""

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
        self.save_mapping = QCheckBox("Save mappings (.npy)")
        self.save_mapping.setToolTip("Save Results also writes, per source, where each reference pixel lies in it "
                                     "(needed to carry annotations after re-opening the results)")
        form = QFormLayout(self)
        form.addRow(self.fine)
        form.addRow("Working size", self.work_side)
        form.addRow(self.save_mapping)

    def options(self) -> WindowOptions:
        return WindowOptions(fine=self.fine.isChecked(), work_side=self.work_side.value(),
                             save_mapping=self.save_mapping.isChecked())

    def set_options(self, options: WindowOptions) -> None:
        self.fine.setChecked(options.fine)
        self.work_side.setValue(options.work_side)
        self.save_mapping.setChecked(options.save_mapping)
