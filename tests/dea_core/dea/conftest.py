"""Tiny DEA data: a few generated headpieces, a detector trained for a moment, a DEA over it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dea_core.dea.model import DEAConfig
from dea_core.dea.training import DEATrainConfig, train_dea
from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.training import TrainConfig, train_detector
from dea_core.synth.composed import generate_change_set, standard_designs, write_change_set

TINY_DEA = DEATrainConfig(epochs=5, batch_size=4, learning_rate=1e-3, device="cpu")


@pytest.fixture(scope="session")
def design():
    return standard_designs(seed=0, count=1)[0]


@pytest.fixture(scope="session")
def headpieces(design, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("headpieces")
    write_change_set(folder, generate_change_set(np.random.default_rng(5), 6, 0, [design]))
    return folder


@pytest.fixture(scope="session")
def dea_dataset(headpieces: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dea_dataset")
    pages = sorted(p for p in headpieces.glob("*.json") if p.name != "change_set.json")
    prepare_dataset(pages, out, PrepareOptions(crops_per_page=3, crop_size=320, val_fraction=0.34, seed=1))
    return out


@pytest.fixture(scope="session")
def detector(dea_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("detector") / "detector.pt"
    train_detector(dea_dataset, path, config=TrainConfig(epochs=1, batch_size=4, validate=False, device="cpu"),
                   backbone="light", priors="fast")
    return path


@pytest.fixture(scope="session")
def trained_dea(dea_dataset: Path, detector: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dea") / "dea.pt"
    train_dea(dea_dataset, detector, path, DEAConfig(decoder="deconv"), TINY_DEA)
    return path


@pytest.fixture(scope="session")
def redraw_dea(dea_dataset: Path, detector: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dea_redraw") / "dea.pt"
    train_dea(dea_dataset, detector, path, DEAConfig(decoder="redraw"), TINY_DEA)
    return path
