#!/usr/bin/env bash
# Set up (scripts/bootstrap.sh), then match the bundled sample page into ./demo-output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/dea demo -o demo-output "$@"
