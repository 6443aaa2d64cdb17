"""The Qt-free engine of the printer's-ornament suite: LabelMe I/O, matching, alignment, models."""

__version__ = "0.1.0"
