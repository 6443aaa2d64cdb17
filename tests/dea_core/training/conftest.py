"""A tiny detection dataset for the training tests: 6 training crops (steps of 4 and 2), 6 for validation."""

from pathlib import Path

import pytest

from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.synthetic import write_detection_pages


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pages = write_detection_pages(tmp_path_factory.mktemp("pages"), 2, preset="easy", seed=7)
    out = tmp_path_factory.mktemp("dataset")
    prepare_dataset(pages, out, PrepareOptions(crops_per_page=6, val_fraction=0.5, seed=1))
    return out
