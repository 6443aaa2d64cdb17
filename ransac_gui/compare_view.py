"""Compare one aligned source with the reference: side by side, overlay, flicker, difference,
matchability; every view zooms and pans with the others."""

from __future__ import annotations

from typing import Final

import numpy as np
from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QPixmap
from PyQt5.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ransac_gui.compare_pictures import (
    REFERENCE_INK_BGR,
    SOURCE_INK_BGR,
    matchability_picture,
    pair_difference,
    tinted,
)
from ransac_gui.image_views import PictureView, ViewSync, to_pixmap
from ransac_gui.scans import AlignedScan

MODES: Final = {
    "side": "Side by side",
    "overlay": "Overlay",
    "flicker": "Flicker",
    "difference": "Difference",
    "matchability": "Matchability",
}
FLICKER_MS: Final = 600
EMPTY_MESSAGE: Final = ("Choose a folder of scans, then Start Alignment.\n"
                        "Select an aligned source in the list to compare it with the reference here.")
_CAPTIONS: Final = {
    "side": "Left: the reference. Right: the source laid onto it. Both zoom (wheel) and pan (drag) together.",
    "overlay": "The aligned source over the reference; move the slider to fade from one to the other.",
    "colour overlay": "Red: reference ink. Blue: source ink. Dark purple where they coincide; red or blue fringes "
                      "where they differ. The slider fades from one to the other.",
    "flicker": "Reference and aligned source in turn: what moves or blinks differs between the two printings.",
    "difference": "Red: ink only in the reference. Blue: ink only in this source. White: they agree. "
                  "Pale yellow: the alignment there is interpolated from the ink around (blank paper), "
                  "not measured, so a difference there is less sure.",
    "matchability": "Red: the alignment cannot be trusted there. Grey: the source has no pixels there.",
}


class CompareView(QWidget):
    """Shows the reference and one aligned source in the chosen mode."""

    mode_changed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = "overlay"
        self.reference: np.ndarray | None = None
        self.reference_name = ""
        self.source: AlignedScan | None = None
        self.source_name = ""
        self._pixmaps: dict[str, QPixmap] = {}
        self._flicker_on_source = True

        self.buttons = QButtonGroup(self)
        bar = QHBoxLayout()
        for key, text in MODES.items():
            button = QPushButton(text)
            button.setCheckable(True)
            button.setObjectName(f"mode_{key}")
            self.buttons.addButton(button)
            button.clicked.connect(lambda _checked=False, key=key: self.set_mode(key))
            bar.addWidget(button)
        bar.addSpacing(12)
        self.opacity_label = QLabel("Reference")
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(140)
        self.opacity.setToolTip("Opacity of the aligned source over the reference")
        self.opacity_end = QLabel("Source")
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.colours = QCheckBox("Colours")
        self.colours.setChecked(True)
        self.colours.setToolTip("Reference ink in red, source ink in blue: where they coincide the ink is dark")
        self.colours.toggled.connect(lambda _on: self._show())
        self.overlay_controls = (self.opacity_label, self.opacity, self.opacity_end, self.colours)
        for widget in self.overlay_controls:
            bar.addWidget(widget)
            # Hidden outside Overlay but keeping their room: the window's left column keeps its width.
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        bar.addStretch(1)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole picture")
        bar.addWidget(self.fit_button)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.left_title, self.right_title = QLabel(), QLabel()
        self.left_view, self.right_view = PictureView(), PictureView()
        self.sync = ViewSync([self.left_view, self.right_view])
        self.fit_button.clicked.connect(self.right_view.fit)
        self.left_pane = _titled(self.left_title, self.left_view)
        # A plain layout, not a splitter: a hidden reference pane must give all its room to the main view.
        views = QWidget()
        pair = QHBoxLayout(views)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.addWidget(self.left_pane, 1)
        pair.addWidget(_titled(self.right_title, self.right_view), 1)
        self.placeholder = QLabel(EMPTY_MESSAGE)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setStyleSheet("color: gray; font-size: 14px")

        self.flicker_timer = QTimer(self)
        self.flicker_timer.setInterval(FLICKER_MS)
        self.flicker_timer.timeout.connect(self.flick)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.caption)
        layout.addWidget(views, 1)
        layout.addWidget(self.placeholder, 1)
        self.views = views
        self.set_mode(self.mode)

    # what is shown
    def set_reference(self, image: np.ndarray | None, name: str = "") -> None:
        self.reference, self.reference_name = image, name
        self._pixmaps.pop("reference", None)
        self.set_source(None)

    def set_source(self, source: AlignedScan | None, name: str = "", message: str = "") -> None:
        """Compare `source` with the reference; without one, `message` says why there is nothing to see."""
        self.source, self.source_name = source, name
        self.placeholder.setText(message or EMPTY_MESSAGE)
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if k == "reference"}
        self._show()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            mode = "overlay"
        self.mode = mode
        for button in self.buttons.buttons():
            button.setChecked(button.objectName() == f"mode_{mode}")
        for widget in self.overlay_controls:
            widget.setVisible(mode == "overlay")
        self._show()
        self.mode_changed.emit(mode)

    def shown_pictures(self) -> tuple[str, str | None]:
        """(base, top) picture names in the main view, for tests and the status bar."""
        return self._shown

    # drawing
    def _show(self) -> None:
        self.caption.setText(_CAPTIONS["colour overlay" if self.mode == "overlay" and self.colours.isChecked()
                                       else self.mode])
        has_pair = self.reference is not None and self.source is not None
        self.views.setVisible(has_pair)
        self.placeholder.setVisible(not has_pair)
        self.flicker_timer.stop()
        self._shown: tuple[str, str | None] = ("", None)
        if not has_pair:
            self.left_view.set_pictures(None)
            self.right_view.set_pictures(None)
            return
        side = self.mode == "side"
        self.left_pane.setVisible(side)
        if side:
            self._put("reference", None, left=True)
            self._put("aligned", None)
            self.left_view.show_like(self.right_view)
        elif self.mode == "overlay":
            if self.colours.isChecked():
                self._put("reference_red", "aligned_blue")
            else:
                self._put("reference", "aligned")
            self.right_view.set_top_opacity(self.opacity.value() / 100)
        elif self.mode == "flicker":
            self._flicker_on_source = True
            self._put("reference", "aligned")
            self.right_view.set_top_opacity(1.0)
            self.flicker_timer.start()
        else:
            self._put(self.mode, None)
        self._set_titles()

    def _put(self, base: str, top: str | None, *, left: bool = False) -> None:
        view = self.left_view if left else self.right_view
        view.set_pictures(self._pixmap(base), self._pixmap(top) if top else None)
        if not left:
            self._shown = (base, top)

    def _pixmap(self, name: str) -> QPixmap:
        if name not in self._pixmaps:
            self._pixmaps[name] = to_pixmap(self._picture(name))
        return self._pixmaps[name]

    def _picture(self, name: str) -> np.ndarray:
        reference, source = self.reference, self.source
        assert reference is not None and source is not None
        if name == "reference":
            return reference
        if name == "aligned":
            return source.aligned
        if name == "reference_red":
            return tinted(reference, REFERENCE_INK_BGR)
        if name == "aligned_blue":
            return tinted(source.aligned, SOURCE_INK_BGR)
        if name == "difference":
            return pair_difference(reference, source.aligned, source.inside, source.observed)
        return matchability_picture(source.aligned, source.confidence, source.inside)

    def _set_titles(self) -> None:
        self.left_title.setText(f"Reference: {self.reference_name}")
        if self.mode == "side":
            text = f"Aligned source: {self.source_name}"
        elif self.mode == "overlay":
            text = f"Source {self.source_name} ({self.opacity.value()}%) over reference {self.reference_name}"
        elif self.mode == "flicker":
            text = (f"Now showing: aligned source {self.source_name}" if self._flicker_on_source
                    else f"Now showing: reference {self.reference_name}")
        else:
            text = f"{MODES[self.mode]} of {self.source_name} against the reference {self.reference_name}"
        self.right_title.setText(text)

    def _opacity_changed(self, value: int) -> None:
        if self.mode == "overlay":
            self.right_view.set_top_opacity(value / 100)
            self._set_titles()

    def flick(self) -> None:
        """Flicker mode: show the other picture of the pair."""
        self._flicker_on_source = not self._flicker_on_source
        self.right_view.top.setVisible(self._flicker_on_source)
        self._set_titles()

    def hideEvent(self, event) -> None:
        self.flicker_timer.stop()
        super().hideEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.mode == "flicker" and self.views.isVisible():
            self.flicker_timer.start()


def _titled(title: QLabel, view: PictureView) -> QWidget:
    title.setStyleSheet("font-weight: bold")
    title.setWordWrap(True)
    # Two lines whatever the text, so the side-by-side pictures start at the same height.
    title.setFixedHeight(2 * title.fontMetrics().lineSpacing() + 4)
    title.setAlignment(Qt.AlignLeft | Qt.AlignBottom)
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(title)
    layout.addWidget(view, 1)
    return box
