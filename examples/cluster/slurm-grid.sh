#!/usr/bin/env bash
# A dpipe grid as a Slurm job array: array task i runs shard i of N of the grid (`dpipe grid … --shard i/N`), all
# tasks writing into one shared --out folder; when they are done, `dpipe merge` turns the shards into grid.json and
# grid.png, exactly as one unsharded `dpipe grid` would have made them.
#
# Submit (the arguments after the script are dpipe grid's; --out must be on a file system every node sees):
#
#   sbatch --array=0-3 examples/cluster/slurm-grid.sh examples/demo.dpipe \
#     --axis solver=solver.euler,solver.dpmpp_2m,solver.unipc --axis sched.steps=5,10,20 --seeds 0-9 \
#     --out /shared/grids/solvers
#
# then merge, by hand or as a job that waits for the array (afterok: only when every shard succeeded):
#
#   sbatch --dependency=afterok:JOBID --wrap "npx dpipe merge /shared/grids/solvers"
#
# N is the array's task count and i the task's place in it (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN), so
# --array=0-3 and --array=1-4 both make 4 shards. A failed task can be resubmitted alone (--array=2); merge refuses
# to run until every shard's record is there. DPIPE is the command that runs dpipe (default: npx dpipe, from the
# folder the job was submitted from).
#SBATCH --job-name=dpipe-grid
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --output=dpipe-grid-%A_%a.log
set -euo pipefail

: "${SLURM_ARRAY_TASK_ID:?run this script with sbatch --array=…}"
N=${SLURM_ARRAY_TASK_COUNT:?}
I=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0}))
DPIPE=${DPIPE:-npx dpipe}

echo "dpipe grid shard $I/$N on $(hostname) (job ${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID})"
exec $DPIPE grid "$@" --shard "$I/$N" --lanes "${SLURM_CPUS_PER_TASK:-8}"
