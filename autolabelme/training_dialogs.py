"""The Training menu's dialogs: the options a person needs in plain words, remembered between runs,
and the equivalent `dea` command line, read-only and copyable, to run it again on a server."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from autolabelme.dialogs import APP_NAME
from autolabelme.training_commands import (
    CommandSpec,
    detect_arguments,
    evaluate_arguments,
    prepare_arguments,
    score_arguments,
    shell_line,
    train_dea_spec,
    train_detector_spec,
)
from dea_core.training.defaults import DEA_DECODER, DEA_DECODERS, DEA_EPOCHS, DETECTOR_EPOCHS

MODEL_FILTER = "Model files (*.pt);;All files (*)"
# (value, what a person reads) for each choice of the detector's options.
BACKBONES = (("light", "light: quick, for a computer without a GPU"),
             ("vgg16", "VGG-16: the report's SSD300, best with a GPU"))
BOX_LOSSES = (("diou", "DIoU: tightest boxes (recommended)"), ("ciou", "CIoU: DIoU with the boxes' shape"),
              ("giou", "GIoU: overlap-based"), ("smooth_l1", "smooth L1: the original SSD"))
PRIOR_SETS = (("ssd300", "SSD300: 8732 boxes of several shapes"),
              ("fast", "fast: 1940 boxes, quicker, for ornaments that never overlap"))
# What to do with a model file that already exists.
EXISTING_MODEL = (("new", "start a new one (choose a new name)"), ("resume", "continue training it (resume)"),
                  ("overwrite", "replace it with a new one"))
_DECODER_TEXTS = {"redraw": "redraw: draws the genuine sort the detector recognised, laid on the print (recommended)",
                  "fc": "fully connected: redraws each vignette 128 x 128 in grey (the DEA paper)",
                  "deconv": "deconvolution: 64 x 64 in colour, a smaller network (the report)"}
DECODERS = tuple((name, _DECODER_TEXTS[name]) for name in DEA_DECODERS)
# What a dialog remembers of a field (an int is a float to the type checker).
Remembered = str | float | bool


def available_devices() -> list[tuple[str, str]]:
    """(value for --device, name shown): the GPU first when PyTorch sees one, then the CPU."""
    import torch  # imported when a dialog opens: the window starts without it

    devices = [("cuda", f"GPU ({torch.cuda.get_device_name(0)})")] if torch.cuda.is_available() else []
    return [*devices, ("cpu", "CPU")]


class DialogMemory:
    """A dialog's fields remembered in the window's QSettings, under `training/<dialog>/`."""

    def __init__(self, settings: QSettings, group: str) -> None:
        self.settings, self.group = settings, group

    def value(self, name: str, default: Remembered) -> Remembered:
        stored = self.settings.value(f"training/{self.group}/{name}", default, type=type(default))
        return default if stored is None else stored

    def remember(self, values: dict[str, Remembered]) -> None:
        for name, value in values.items():
            self.settings.setValue(f"training/{self.group}/{name}", value)


class PathField(QWidget):
    """A path typed or chosen with a file dialog. kind: "folder", "open" or "save"."""

    def __init__(self, kind: str, caption: str, path: str = "", file_filter: str = MODEL_FILTER) -> None:
        super().__init__()
        self.kind, self.caption, self.file_filter = kind, caption, file_filter
        self.edit = QLineEdit(path)
        self.edit.setPlaceholderText(caption)
        button = QPushButton("Choose...")
        button.clicked.connect(self._choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def for_command(self) -> Path:
        """The path for the command line; while empty, the field's name in angle brackets (not '.')."""
        return self.path() or Path(f"<{self.caption.lower()}>")

    def _choose(self) -> None:
        start = self.edit.text() or str(Path.home())
        if self.kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self, self.caption, start)
        elif self.kind == "open":
            chosen, _ = QFileDialog.getOpenFileName(self, self.caption, start, self.file_filter)
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, self.caption, start, self.file_filter)
        if chosen:
            self.edit.setText(chosen)


def choice_box(choices: tuple[tuple[str, str], ...] | list[tuple[str, str]], current: str) -> QComboBox:
    """A combo box showing each choice's words, holding its value."""
    box = QComboBox()
    for value, text in choices:
        box.addItem(text, value)
    index = box.findData(current)
    box.setCurrentIndex(max(index, 0))
    return box


def spin_box(value: int, low: int, high: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(int(value))
    box.setSuffix(suffix)
    return box


class CommandDialog(QDialog):
    """A form, the command line it amounts to, and Start / Cancel. Subclasses add the fields and
    say what they amount to in `arguments()`; `values()` are what is remembered."""

    group = ""
    start_text = "Start"

    def __init__(self, settings: QSettings, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME}: {title}")
        self.memory = DialogMemory(settings, self.group)
        self.form = QFormLayout()
        intro_label = QLabel(intro)
        intro_label.setWordWrap(True)
        # Wrapped, so the whole command shows; selectable and copyable, not editable.
        self.command_edit = QPlainTextEdit()
        self.command_edit.setReadOnly(True)
        self.command_edit.setFixedHeight(3 * self.command_edit.fontMetrics().lineSpacing() + 12)
        self.command_edit.setToolTip("The same work from a terminal, e.g. on a server with a GPU")
        copy = QPushButton("Copy")
        copy.setToolTip("Copy the command line")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.command_edit.toPlainText()))
        command_row = QHBoxLayout()
        command_row.addWidget(self.command_edit, 1)
        command_row.addWidget(copy)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText(self.start_text)
        self.buttons.accepted.connect(self._accept_if_ready)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro_label)
        layout.addLayout(self.form)
        layout.addWidget(QLabel("Command line (to run the same from a terminal):"))
        layout.addLayout(command_row)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(640)

    def watch(self, *widgets: QWidget) -> None:
        """Update the command line whenever one of `widgets` changes."""
        for widget in widgets:
            edit = widget.edit if isinstance(widget, PathField) else widget
            signal = {QLineEdit: "textChanged", QComboBox: "currentIndexChanged", QCheckBox: "toggled"}.get(
                type(edit), "valueChanged")
            getattr(edit, signal).connect(self.update_command)
        self.update_command()

    def update_command(self, *_changed: object) -> None:
        problem = self.problem_text()
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(not problem)  # Start waits for what is missing
        self.command_edit.setPlainText(shell_line(self.arguments()))

    def arguments(self) -> list[str]:
        raise NotImplementedError

    def values(self) -> dict[str, Remembered]:
        raise NotImplementedError

    def problem_text(self) -> str:
        """Why Start cannot go on yet ("" when it can)."""
        return ""

    def _accept_if_ready(self) -> None:
        problem = self.problem_text()
        self.problem.setText(problem)
        if not problem:
            self.memory.remember(self.values())
            self.accept()


def _missing(fields: dict[str, PathField], need_existing: tuple[str, ...] = ()) -> str:
    """The first field left empty, or naming a path that should exist and does not."""
    for name, field in fields.items():
        path = field.path()
        if path is None:
            return f"Choose the {name}."
        if name in need_existing and not path.exists():
            return f"The {name} {path} does not exist."
    return ""


class PrepareDialog(CommandDialog):
    """`dea prepare`: the folder's LabelMe pages cut into training crops."""

    group = "prepare"
    start_text = "Prepare"

    def __init__(self, settings: QSettings, pages: Path, parent: QWidget | None = None) -> None:
        super().__init__(settings, "prepare a training dataset",
                         "Cut the boxed pages of a folder (saved LabelMe files with every ornament boxed) into the "
                         "square pictures the detector learns from. Whole pages are kept apart to check it.", parent)
        m = self.memory
        self.pages = PathField("folder", "Folder of LabelMe pages", str(pages))
        self.dataset = PathField("folder", "Folder for the dataset",
                                 str(m.value("dataset", str(pages.parent / f"{pages.name}-dataset"))))
        self.crops = spin_box(m.value("crops", 100), 1, 100000, " per page")
        self.crops.setToolTip("Random squares cut from each page")
        self.crop_size = spin_box(m.value("crop_size", 640), 32, 20000, " pixels")
        self.crop_size.setToolTip("Side of a square on the page: an ornament should fill a tenth to a half of it")
        self.val_share = QDoubleSpinBox()
        self.val_share.setRange(0.0, 0.9)
        self.val_share.setSingleStep(0.05)
        self.val_share.setValue(float(m.value("val_fraction", 0.2)))
        self.val_share.setToolTip("Share of the pages kept out of training to measure the detector")
        self.overwrite = QCheckBox("replace a dataset already in that folder")
        for label, widget in (("Pages", self.pages), ("Dataset folder", self.dataset), ("Crops", self.crops),
                              ("Crop size", self.crop_size), ("Validation share", self.val_share),
                              ("", self.overwrite)):
            self.form.addRow(label, widget)
        self.watch(self.pages, self.dataset, self.crops, self.crop_size, self.val_share, self.overwrite)

    def arguments(self) -> list[str]:
        return prepare_arguments(self.pages.for_command(), self.dataset.for_command(), self.crops.value(),
                                 self.crop_size.value(), self.val_share.value(), self.overwrite.isChecked())

    def values(self) -> dict[str, Remembered]:
        return {"dataset": str(self.dataset.path()), "crops": self.crops.value(),
                "crop_size": self.crop_size.value(), "val_fraction": self.val_share.value()}

    def problem_text(self) -> str:
        return _missing({"pages folder": self.pages, "dataset folder": self.dataset}, ("pages folder",))


class TrainingDialog(CommandDialog):
    """What a training dialog shares: dataset, model file, epochs, batch size, device."""

    start_text = "Start training"

    def _common_fields(self, default_model: str, default_epochs: int) -> None:
        m, devices = self.memory, available_devices()
        self.dataset = PathField("folder", "Dataset folder (from Prepare dataset)", str(m.value("dataset", "")))
        self.model = PathField("save", "Model file to write", str(m.value("model", default_model)))
        self.epochs = spin_box(m.value("epochs", default_epochs), 1, 100000)
        self.epochs.setToolTip("Passes over all the training pictures")
        self.batch = spin_box(m.value("batch_size", 8), 1, 4096)
        self.batch.setToolTip("Pictures per step: lower it if memory runs out")
        self.device = choice_box(devices, str(m.value("device", devices[0][0])))
        self.device.setToolTip("Where to train: a GPU is many times faster")
        self.existing = choice_box(EXISTING_MODEL, "new")
        self.existing.setToolTip("A stopped training continues where it stopped, with the options it started with")

    def has_gpu(self) -> bool:
        return self.device.findData("cuda") >= 0

    def new_spec(self, overwrite: bool) -> CommandSpec:
        """The command for a new run (subclasses)."""
        raise NotImplementedError

    def spec(self) -> CommandSpec:
        choice = self.existing.currentData()
        spec = self.new_spec(overwrite=choice == "overwrite")
        return spec.resumed() if choice == "resume" else spec

    def arguments(self) -> list[str]:
        return list(self.spec().arguments)

    def problem_text(self) -> str:
        problem = _missing({"dataset folder": self.dataset, "model file": self.model}, ("dataset folder",))
        if problem:
            return problem
        exists, choice = self.model.path().exists(), self.existing.currentData()
        if exists and choice == "new":
            return (f"{self.model.path().name} exists: choose another name, or continue or replace it "
                    "(If it exists).")
        if not exists and choice == "resume":
            return f"There is no {self.model.path().name} to continue yet: choose 'start a new one'."
        return ""


class TrainDetectorDialog(TrainingDialog):
    """`dea train-detector`."""

    group = "train_detector"

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(settings, "train the ornament detector",
                         "Teach the detector the ornaments of a prepared dataset. It trains in a separate process: "
                         "you can go on working, stop it (the model so far is kept) and resume it later.", parent)
        self._common_fields("detector.pt", DETECTOR_EPOCHS)
        m = self.memory
        self.backbone = choice_box(BACKBONES, str(m.value("backbone", "vgg16" if self.has_gpu() else "light")))
        self.loss = choice_box(BOX_LOSSES, str(m.value("loss", "diou")))
        self.priors = choice_box(PRIOR_SETS, str(m.value("priors", "ssd300")))
        for label, widget in (("Dataset", self.dataset), ("Model file", self.model), ("Network", self.backbone),
                              ("Box loss", self.loss), ("Default boxes", self.priors), ("Epochs", self.epochs),
                              ("Batch size", self.batch), ("Device", self.device), ("If it exists", self.existing)):
            self.form.addRow(label, widget)
        self.watch(self.dataset, self.model, self.backbone, self.loss, self.priors, self.epochs, self.batch,
                   self.device, self.existing)

    def new_spec(self, overwrite: bool) -> CommandSpec:
        return train_detector_spec(self.dataset.for_command(), self.model.for_command(),
                                   self.backbone.currentData(), self.loss.currentData(), self.priors.currentData(),
                                   self.epochs.value(), self.batch.value(), self.device.currentData(), overwrite)

    def values(self) -> dict[str, Remembered]:
        return {"dataset": str(self.dataset.path()), "model": str(self.model.path()),
                "backbone": self.backbone.currentData(), "loss": self.loss.currentData(),
                "priors": self.priors.currentData(), "epochs": self.epochs.value(),
                "batch_size": self.batch.value(), "device": self.device.currentData()}


class TrainDeaDialog(TrainingDialog):
    """`dea train-dea`: the anomaly model on top of a trained detector."""

    group = "train_dea"

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(settings, "train DEA",
                         "Teach DEA what each ornament of a dataset looks like, on top of a trained detector, so "
                         "that it can flag the ones that differ. It trains in a separate process, like the "
                         "detector.", parent)
        self._common_fields("dea.pt", DEA_EPOCHS)
        m = self.memory
        self.detector = PathField("open", "Trained detector", str(m.value("detector", "")))
        self.decoder = choice_box(DECODERS, str(m.value("decoder", DEA_DECODER)))
        self.fine_tune = QCheckBox("also fine-tune the detector (slower; otherwise it stays as trained)")
        self.fine_tune.setChecked(bool(m.value("fine_tune", False)))
        for label, widget in (("Dataset", self.dataset), ("Detector", self.detector), ("Model file", self.model),
                              ("Decoder", self.decoder), ("", self.fine_tune), ("Epochs", self.epochs),
                              ("Batch size", self.batch), ("Device", self.device), ("If it exists", self.existing)):
            self.form.addRow(label, widget)
        self.watch(self.dataset, self.detector, self.model, self.decoder, self.fine_tune, self.epochs, self.batch,
                   self.device, self.existing)

    def new_spec(self, overwrite: bool) -> CommandSpec:
        return train_dea_spec(self.dataset.for_command(), self.detector.for_command(),
                              self.model.for_command(), self.decoder.currentData(), self.epochs.value(),
                              self.batch.value(), self.device.currentData(), self.fine_tune.isChecked(), overwrite)

    def values(self) -> dict[str, Remembered]:
        return {"dataset": str(self.dataset.path()), "detector": str(self.detector.path()),
                "model": str(self.model.path()), "decoder": self.decoder.currentData(),
                "fine_tune": self.fine_tune.isChecked(), "epochs": self.epochs.value(),
                "batch_size": self.batch.value(), "device": self.device.currentData()}

    def problem_text(self) -> str:
        return _missing({"detector": self.detector}, ("detector",)) or super().problem_text()


class EvaluateDialog(CommandDialog):
    """`dea evaluate` on a prepared dataset's crops."""

    group = "evaluate"
    start_text = "Evaluate"

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(settings, "evaluate a detector",
                         "Measure how well a trained detector finds the ornaments of a dataset: its average "
                         "precision (AP) for each ornament, at loose (0.5) to very tight (0.99) box overlaps.",
                         parent)
        m = self.memory
        self.model = PathField("open", "Trained detector", str(m.value("model", "")))
        self.dataset = PathField("folder", "Dataset folder", str(m.value("dataset", "")))
        self.split = choice_box((("val", "validation pages (never trained on)"), ("train", "training pages")),
                                str(m.value("split", "val")))
        for label, widget in (("Detector", self.model), ("Dataset", self.dataset), ("Pictures", self.split)):
            self.form.addRow(label, widget)
        self.watch(self.model, self.dataset, self.split)

    def arguments(self) -> list[str]:
        return evaluate_arguments(self.model.for_command(), self.dataset.for_command(), self.split.currentData())

    def values(self) -> dict[str, Remembered]:
        return {"model": str(self.model.path()), "dataset": str(self.dataset.path()),
                "split": self.split.currentData()}

    def problem_text(self) -> str:
        return _missing({"detector": self.model, "dataset folder": self.dataset}, ("detector", "dataset folder"))


class DetectDialog(CommandDialog):
    """`dea detect` on the open page; the boxes come back as suggestions."""

    group = "detect"
    start_text = "Detect"

    def __init__(self, settings: QSettings, page: Path, parent: QWidget | None = None) -> None:
        super().__init__(settings, "detect ornaments on this page",
                         "Find the ornaments a trained detector knows on this page. The boxes appear as "
                         "suggestions (orange, dashed): click one to accept it; only accepted boxes are saved.",
                         parent)
        m, devices = self.memory, available_devices()
        self.page = page
        self.model = PathField("open", "Trained detector", str(m.value("model", "")))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(float(m.value("threshold", 0.5)))
        self.threshold.setToolTip("Lowest score shown: lower finds more, with more wrong boxes")
        self.device = choice_box(devices, str(m.value("device", devices[0][0])))
        for label, widget in (("Detector", self.model), ("Lowest score", self.threshold), ("Device", self.device)):
            self.form.addRow(label, widget)
        self.watch(self.model, self.threshold, self.device)

    def arguments(self) -> list[str]:
        return detect_arguments(self.model.for_command(), self.page, self.threshold.value(),
                                self.device.currentData())

    def values(self) -> dict[str, Remembered]:
        return {"model": str(self.model.path()), "threshold": self.threshold.value(),
                "device": self.device.currentData()}

    def problem_text(self) -> str:
        return _missing({"detector": self.model}, ("detector",))


class ScoreDialog(CommandDialog):
    """`dea score` on the open page: the DEA's verdict on each vignette, and a heatmap."""

    group = "score"
    start_text = "Score"

    def __init__(self, settings: QSettings, page: Path, boxes: int, parent: QWidget | None = None) -> None:
        super().__init__(settings, "score this page (anomalies)",
                         "Check each vignette of this page with a trained DEA: the ones that differ from what it "
                         "learnt are flagged red, with a heatmap of where they differ (View > Show Anomaly "
                         "Heatmap). The verdicts are saved with the page.", parent)
        m, devices = self.memory, available_devices()
        self.page = page
        self.model = PathField("open", "Trained DEA", str(m.value("model", "")))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(float(m.value("detection_threshold", 0.5)))
        self.threshold.setToolTip("Lowest detector score for a vignette to be checked")
        choices = [("detect", "what the DEA's detector finds on the page")]
        if boxes:
            choices.insert(0, ("boxes", f"the {boxes} boxes kept on this page"))
        self.vignettes = choice_box(choices, str(m.value("vignettes", choices[0][0])))
        self.device = choice_box(devices, str(m.value("device", devices[0][0])))
        for label, widget in (("DEA model", self.model), ("Vignettes to check", self.vignettes),
                              ("Lowest detector score", self.threshold), ("Device", self.device)):
            self.form.addRow(label, widget)
        self.watch(self.model, self.vignettes, self.threshold, self.device)

    def use_page_boxes(self) -> bool:
        return self.vignettes.currentData() == "boxes"

    def update_command(self, *_changed: object) -> None:
        super().update_command()
        self.threshold.setEnabled(not self.use_page_boxes())
        if self.use_page_boxes():
            self.problem.setText(self.problem.text() or "The command line finds the vignettes with the DEA's "
                                 "detector; here the page's own boxes are checked.")

    def arguments(self) -> list[str]:
        return score_arguments(self.model.for_command(), self.page, self.threshold.value(),
                               self.device.currentData())

    def values(self) -> dict[str, Remembered]:
        return {"model": str(self.model.path()), "detection_threshold": self.threshold.value(),
                "vignettes": self.vignettes.currentData(), "device": self.device.currentData()}

    def problem_text(self) -> str:
        return _missing({"DEA model": self.model}, ("DEA model",))
