"""Run a command, then write its exit status to a file: `python -m autolabelme.detached_run STATUS -- CMD...`.

AutoLabelme starts training detached from the window, so that it keeps running when the window
closes; but nobody waits for a detached process, so its exit status would be lost, and with it
the difference between "finished", "stopped" and "killed for lack of memory". This small parent
waits for it and writes the status (negative: the signal that killed it). SIGTERM and SIGINT are
passed on to the command, so the window's Stop still asks training for a clean stop. No Qt here.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m autolabelme.detached_run STATUS_FILE -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    status = Path(argv[0])
    child = subprocess.Popen(argv[2:])
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda signum, _frame: child.send_signal(signum))
    code = child.wait()
    # Imported only now (it loads NumPy and OpenCV): until the command runs, a Stop must find us listening.
    from dea_core.io import atomic_write_text

    atomic_write_text(status, f"{code}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
