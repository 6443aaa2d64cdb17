"""The DEA as a change-localisation method of benchmarks/dea_changes.py.

fit: the genuine training pictures' LabelMe files (written by the benchmark) become a detector
dataset (`dea prepare`: 320-pixel crops, about a headpiece's height), the light SSD300 is trained
on it (DIoU), then the DEA's decoder over it; the detector is trained once per work folder and
shared by both decoders. score: `AnomalyScorer.score_image`, detection included; the pixel map is
the DEA's heatmap (reconstruction error over the vignettes, unknown ink at full strength), the
picture's score its worst vignette's score over the calibrated threshold (an unknown vignette
counts as twice the threshold).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dea_core.anomaly.methods import ChangeScore
from dea_core.dea.model import DEAConfig
from dea_core.dea.scoring import AnomalyScorer
from dea_core.dea.training import DEATrainConfig, train_dea
from dea_core.detection.dataset import MANIFEST, PrepareOptions, prepare_dataset
from dea_core.detection.training import TrainConfig, train_detector

UNKNOWN_SCORE = 2.0  # in units of the threshold


@dataclass
class DEAMethod:
    """One decoder's DEA; `work` holds the dataset, the detector and the model files."""

    decoder: str
    train_folder: Path
    work: Path
    options: argparse.Namespace
    seed: int = 0

    def __post_init__(self) -> None:
        self.name = f"DEA ({self.decoder} decoder)"
        self.scorer: AnomalyScorer | None = None

    def fit(self, genuine_images: list[np.ndarray]) -> None:
        dataset = self._dataset()
        detector = self._detector(dataset)
        model = self.work / f"dea-{self.decoder}.pt"
        if not model.exists():
            epochs = self.options.redraw_epochs if self.decoder == "redraw" else self.options.dea_epochs
            train_dea(dataset, detector, model, DEAConfig(decoder=self.decoder),
                      DEATrainConfig(epochs=epochs, batch_size=8, learning_rate=self.options.dea_lr,
                                     seed=self.seed, device="auto"))
        self.scorer = AnomalyScorer.from_checkpoint(model)

    def score(self, image: np.ndarray) -> ChangeScore:
        scored = self.scorer.score_image(image)
        ratios = [UNKNOWN_SCORE if v.unknown else v.anomaly_score / scored.threshold for v in scored.verdicts]
        return ChangeScore(scored.heatmap, max(ratios, default=0.0))

    def _dataset(self) -> Path:
        folder = self.work / "dataset"
        if not (folder / MANIFEST).exists():
            pages = sorted(p for p in self.train_folder.glob("*.json") if p.name != "change_set.json")
            prepare_dataset(pages, folder, PrepareOptions(crops_per_page=self.options.crops, crop_size=320,
                                                          val_fraction=0.2, seed=self.seed), overwrite=True)
        return folder

    def _detector(self, dataset: Path) -> Path:
        path = self.work / "detector.pt"
        if not path.exists():
            train_detector(dataset, path, config=TrainConfig(epochs=self.options.detector_epochs, batch_size=8,
                                                             learning_rate=1e-3, loss="diou", seed=self.seed),
                           backbone="light", priors="ssd300")
        return path
