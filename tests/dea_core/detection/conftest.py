"""Tiny generated data shared by the detector tests: three small pages, a few crops, a light model."""

from __future__ import annotations

from pathlib import Path

import pytest

from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.synthetic import write_detection_pages
from dea_core.detection.training import TrainConfig, train_detector

# A light model on the report's 1940 boxes keeps every training test to a few seconds on 2 cores.
TINY_TRAINING = TrainConfig(epochs=2, batch_size=4, validate=False, device="cpu")


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_detection_pages(tmp_path_factory.mktemp("pages"), 3, preset="easy", seed=7)


@pytest.fixture(scope="session")
def dataset_dir(pages: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    prepare_dataset(pages, out, PrepareOptions(crops_per_page=6, val_fraction=0.34, seed=1))
    return out


@pytest.fixture(scope="session")
def trained_model(dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    train_detector(dataset_dir, path, config=TINY_TRAINING, backbone="light", priors="fast")
    return path
