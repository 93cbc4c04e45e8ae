#!/usr/bin/env bash
# A lever of #21 for the short pair tasks: the paper's smaller student, 150/200 units instead of
# 300/400, on RTE's 2,490 training pairs, over seeds 0, 1, 2 (student and baseline at that size),
# with make's other settings, on the same teacher, augmented pairs and logits, copied from
# runs/rte (their manifests match, so make redoes none of them).
# Run it from the repository root after `make rte`:
#     bash experiments/rte/size/size.sh
# It writes experiments/rte/size/rte.json and rte/{teacher,student,baseline}.json, to be read beside
# results/rte.json.
set -eu
mkdir -p runs/size_150_200/rte
cp -rp runs/rte/teacher runs/rte/logits runs/rte/augmented.tsv runs/rte/augmented.json runs/size_150_200/rte/
make seeds TASK=rte RUNS=runs/size_150_200 RESULTS=experiments/rte/size SIZE_rte="--hidden 150 --fc 200"
