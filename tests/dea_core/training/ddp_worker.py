"""One process of the 2-process test run (started by torchrun from test_distributed.py).

usage: ddp_worker.py DATASET OUT

Trains the tiny detector three times in one Gloo process group (made here once: `distributed`
reuses a group that exists, and a group cannot be made again in the same process): uninterrupted
(full.pt), cancelled by rank 1 alone before its second step (part.pt), then resumed from part.pt.
Each rank leaves in OUT what the test checks: its trained weights (<run>-rank<R>.pt), the
checkpoints it wrote (writes-rank<R>.txt: file, epoch, step) and whether it saw the cancel.
"""

import sys
from pathlib import Path

import torch

from dea_core.detection import training
from dea_core.detection.errors import TrainingCancelled
from dea_core.training.distributed import Launch

CONFIG = training.TrainConfig(epochs=1, batch_size=4, validate=False, device="cpu", seed=5)


def main(dataset: Path, out: Path) -> None:
    torch.set_num_threads(1)  # one core each
    torch.distributed.init_process_group("gloo")
    rank = Launch.from_environment().rank
    save = training.save_checkpoint

    def recording_save(path, contents):
        with open(out / f"writes-rank{rank}.txt", "a", encoding="utf-8") as log:
            log.write(f"{Path(path).name} {contents['training']['epoch']} {contents['training']['step']}\n")
        return save(path, contents)

    training.save_checkpoint = recording_save
    full = training.train_detector(dataset, out / "full.pt", config=CONFIG, backbone="light", priors="fast")
    torch.save(full.model.state_dict(), out / f"full-rank{rank}.pt")

    calls = iter(range(100))
    try:
        training.train_detector(dataset, out / "part.pt", config=CONFIG, backbone="light", priors="fast",
                                cancel=lambda: next(calls) == 1 and rank == 1)
    except TrainingCancelled:
        (out / f"cancelled-rank{rank}").touch()
    resumed = training.train_detector(dataset, out / "part.pt", config=CONFIG, resume=out / "part.pt")
    torch.save(resumed.model.state_dict(), out / f"resumed-rank{rank}.pt")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
