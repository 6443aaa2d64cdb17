"""Named searches, shared by AutoLabelme's defaults and `dea demo`, so both report the same poses.

WHOLE_ORNAMENT finds a composed headpiece in one press: its rows upright and upside down (turned
180 degrees), mirrored or flipped, a little smaller or larger, anywhere on the page. On the sample
(two rows of 11 fleurons) and on Cinna's four-row headpiece (22 upright, 22 upside down) it finds
every fleuron and names each lower one "turned 180". The original tool's search, upright copies
within two template heights, is `MatchOptions()`.
"""

from __future__ import annotations

from dea_core.matching.matcher import MatchOptions
from dea_core.matching.poses import scale_steps

WHOLE_ORNAMENT_ROTATIONS = (0.0, 180.0)
WHOLE_ORNAMENT_SIZES = (0.8, 1.25, 3)  # from, to, how many: 0.8, 1 and 1.25 times the box
WHOLE_ORNAMENT = MatchOptions(rotations=WHOLE_ORNAMENT_ROTATIONS, flip=True,
                              scales=scale_steps(*WHOLE_ORNAMENT_SIZES), neighbourhood=None)
