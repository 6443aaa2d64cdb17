"""A DEA as saved: its checkpoint kind and the network rebuilt from a checkpoint record.

Shared by training (which writes the record) and scoring (which reads it), so that scoring does
not load the trainer.
"""

from __future__ import annotations

import os
from typing import Any, Final

from dea_core.dea.model import DEA, DEAConfig
from dea_core.detection.checkpoint import first_line
from dea_core.detection.errors import CheckpointError
from dea_core.detection.model import SSD, ModelConfig

CHECKPOINT_KIND: Final = "dea-autoencoder-checkpoint"


def dea_from_record(record: dict[str, Any], path: str | os.PathLike[str]) -> DEA:
    """The network of a loaded DEA checkpoint, weights in place."""
    try:
        model = DEA(SSD(ModelConfig.from_dict(record["model_config"])), DEAConfig.from_dict(record["dea_config"]))
        model.load_state_dict(record["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: its settings do not describe a DEA of this suite ({first_line(error)})") from error
    return model
