#!/bin/bash
# Joins the shards once every array task has succeeded:
#   ARRAY=$(sbatch --parsable --array=1-16 examples/slurm/cohort_array.sh SCENARIO runs/study)
#   sbatch --dependency=afterok:$ARRAY examples/slurm/merge.sh runs/study
# The merged patients.csv is byte-identical to that of one unsharded run.
#SBATCH --job-name=immunotrial-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
set -euo pipefail
OUT=${1:?output folder of the array job}
immunotrial merge "$OUT"/shard-* --out "$OUT/merged"
