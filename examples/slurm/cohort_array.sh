#!/bin/bash
# One shard of a virtual cohort per SLURM array task.
#   sbatch --array=1-16 examples/slurm/cohort_array.sh models/kosinsky2018_virtual_study.toml runs/study
# Each task runs shard K of N (K = array index, N = array size) into OUT/shard-K; the merge
# job (merge.sh) joins them once every task has succeeded. Build immunotrial for a CPU every
# node has (README, "On a cluster"): a build for the login node's CPU may not run elsewhere.
#SBATCH --job-name=immunotrial-cohort
#SBATCH --cpus-per-task=8
#SBATCH --time=02:00:00
#SBATCH --output=%x-%A_%a.out
set -euo pipefail
SCENARIO=${1:?scenario file}
OUT=${2:?output folder}
N=${SLURM_ARRAY_TASK_COUNT:?submit as an array job}
K=${SLURM_ARRAY_TASK_ID:?submit as an array job}
immunotrial run "$SCENARIO" --out "$OUT/shard-$K" --shard "$K/$N" --threads "${SLURM_CPUS_PER_TASK:-1}"
