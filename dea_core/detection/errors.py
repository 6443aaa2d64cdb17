"""Typed detection errors: each says which file or option is wrong and what to do about it."""

from dea_core.errors import DeaError


class DetectionError(DeaError):
    """Base of the detector's user-fixable problems."""


class DatasetError(DetectionError):
    """A page or prepared dataset cannot be used (no boxes, unknown labels, missing crops)."""


class CheckpointError(DetectionError):
    """A model file is missing, damaged, modified, or not a detector checkpoint of this suite."""


class DetectionOptionsError(DetectionError):
    """An option that cannot be used here (e.g. --device cuda without CUDA, a bad VGG-16 file)."""


class DetectionCancelled(DetectionError):
    """The user cancelled preparing a dataset or finding ornaments; nothing more was written."""


class TrainingCancelled(DetectionCancelled):
    """The user cancelled training; the checkpoint written at that step can be resumed."""
