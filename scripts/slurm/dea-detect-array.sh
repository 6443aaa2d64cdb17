#!/usr/bin/env bash
# Find ornaments on every page of a collection with a SLURM array job: task K of N runs
# `dea detect` on every N-th page (sorted by path) and writes OUT/summary-shard-K-of-N.csv.
#
#   jobid=$(sbatch --parsable scripts/slurm/dea-detect-array.sh detector.pt scans/ found/)
#   sbatch --dependency=afterany:"$jobid" --wrap ".venv/bin/dea merge found/"
#
# Resubmit the same command to resume: pages already found are skipped. To rerun only some
# shards of ten, name them and keep N: TASKS=10 sbatch --array=3,7 scripts/slurm/dea-detect-array.sh ...
# Shards are numbered from 1, so the array must be 1-N (not 0-based).
#SBATCH --job-name=dea-detect
#SBATCH --array=1-10
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=02:00:00
#SBATCH --output=dea-detect-%A_%a.log
# On a GPU partition, add:  #SBATCH --gres=gpu:1  (dea detect uses CUDA when it sees it).
set -euo pipefail

MODEL=${1:?usage: sbatch dea-detect-array.sh MODEL.pt PAGES_FOLDER OUT_FOLDER [dea detect options]}
PAGES=${2:?give the folder of page images}
OUT=${3:?give the output folder}
shift 3
# SLURM_ARRAY_TASK_COUNT is the N of --array=1-N; set TASKS to N when rerunning only some shards.
TASKS=${TASKS:-${SLURM_ARRAY_TASK_COUNT}}
DEA=${DEA:-.venv/bin/dea}  # or the `dea` of the environment your cluster's modules provide

export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
cd "${SLURM_SUBMIT_DIR:-.}"
"$DEA" detect "$MODEL" "$PAGES" -o "$OUT" --shard "${SLURM_ARRAY_TASK_ID}/${TASKS}" -q "$@"
