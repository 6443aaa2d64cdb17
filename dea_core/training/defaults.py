"""The training defaults, torch-free, so that the windows' dialogs offer what the commands default to."""

from typing import Final

# The change benchmark's setting (validation AP@0.5 0.97 by epoch 4 on its real set); more with --epochs.
DETECTOR_EPOCHS: Final = 8
DEA_EPOCHS: Final = 30
DEA_DECODERS: Final = ("redraw", "fc", "deconv")
DEA_DECODER: Final = DEA_DECODERS[0]  # the one that wins the change benchmark
