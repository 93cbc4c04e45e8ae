#!/usr/bin/env bash
# A lever of #21 for the pair tasks, over seeds (SEEDS, 0 1 2 by default): `make seeds` with
# make's settings but the ones given, on a copy of make's own runs of the task (each step's
# manifest then decides what the change redoes: another augmentation redoes the augmented pairs,
# their logits and the students, and keeps the teacher, the train logits and the baselines).
# Run it from the repository root after `make seeds TASK=<task>`, with the lever's name and settings:
#     bash experiments/pairs/lever.sh mrpc n_iter_20 N_ITER=20 EPOCHS_mrpc=6
#     bash experiments/pairs/lever.sh mrpc pair_mode_both AUGMENT_FLAGS="--p-mask 0.1 --p-pos 0.1 --p-ng 0.25 --pair-mode both"
#     bash experiments/pairs/lever.sh rte pooling_last POOLING=last SEEDS="0 1 2 3 4"
# It works in runs/<name>/<task>/ (run again, it continues there: SEEDS is not a setting of the
# lever, so more seeds join the same runs) and writes experiments/pairs/<name>/<task>.json,
# <task>/{teacher,student,baseline}.json and adds to its log, <task>.log; the README's table of
# levers sets them under make's run.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: bash experiments/pairs/lever.sh <task> <name> [VAR=value ...]" >&2; exit 2; fi
task=$1 name=$2
shift 2
settings=$(printf '%s\n' "$@" | grep -v '^SEEDS=' || true)
run=runs/$name/$task
mkdir -p runs/$name experiments/pairs/$name
if [ ! -e $run ]; then              # copied whole or not at all
  rm -rf runs/$name/.$task.partial
  cp -rp runs/$task runs/$name/.$task.partial && mv runs/$name/.$task.partial $run
  printf '%s\n' "$settings" > $run/lever.settings
elif ! printf '%s\n' "$settings" | cmp -s - $run/lever.settings; then
  echo "$run was made with other settings ($(tr '\n' ' ' < $run/lever.settings)): give this lever another name" >&2
  exit 1
elif [ runs/$task/teacher/metrics.json -nt $run/teacher/metrics.json ]; then
  echo "runs/$task has a newer teacher than $run: remove $run to run the lever on it" >&2
  exit 1
fi
echo "=== bash experiments/pairs/lever.sh $task $name $* ($(date -u)) ===" >> experiments/pairs/$name/$task.log
make seeds TASK=$task RUNS=runs/$name RESULTS=experiments/pairs/$name "$@" 2>&1 | tee -a experiments/pairs/$name/$task.log
