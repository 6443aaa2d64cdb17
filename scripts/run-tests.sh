#!/usr/bin/env bash
# Set up (scripts/bootstrap.sh), then run the whole test suite with Qt offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest "$@"
