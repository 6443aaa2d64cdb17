"""The ornament detector: SSD300 with IoU-family box losses (docs/detection.md).

Data: `dataset.prepare_dataset` (LabelMe pages -> crops, split by page; COCO/YOLO via `export`).
Network: `model.SSD`, default boxes in `priors`. Training: `training.train_detector` (progress
callback, cancel, checkpoints in `checkpoint`). Use: `inference.Detector` (`detect_page`), and
`evaluation.evaluate` for AP.
"""
