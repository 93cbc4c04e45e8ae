#!/usr/bin/env bash
# A lever of #21 for the pair tasks, over seeds 0, 1, 2: `make seeds` with make's settings but the
# ones given, on a copy of make's own runs of the task (each step's manifest then decides what the
# change redoes: another augmentation redoes the augmented pairs, their logits and the students,
# and keeps the teacher, the train logits and the baselines).
# Run it from the repository root after `make seeds TASK=<task>`, with the lever's name and settings:
#     bash results/pairs/lever.sh mrpc n_iter_20 N_ITER=20 EPOCHS_mrpc=6
#     bash results/pairs/lever.sh mrpc pair_mode_both AUGMENT_FLAGS="--p-mask 0.1 --p-pos 0.1 --p-ng 0.25 --pair-mode both"
# It works in runs/<name>/<task>/ (run again, it continues there) and writes
# results/pairs/<name>/<task>.json and <task>/{teacher,student,baseline}.json, which the README's
# table of levers sets under make's run.
set -euo pipefail
task=$1 name=$2
shift 2
mkdir -p runs/$name
[ -e runs/$name/$task ] || cp -rp runs/$task runs/$name/
make seeds TASK=$task RUNS=runs/$name RESULTS=results/pairs/$name "$@"
