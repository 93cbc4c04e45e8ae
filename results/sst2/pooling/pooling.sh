#!/usr/bin/env bash
# The other pooling: make's student and baseline with max-pooling over the BiLSTM's states
# (`--pooling max`) instead of the paper's final states, on the same teacher, augmented
# sentences and logits, copied from runs/sst2 (with their times, so make redoes none of them).
# Run it from the repository root after `make sst2`:
#     bash results/sst2/pooling/pooling.sh
# It writes results/sst2/pooling/sst2.json and sst2/{teacher,student,baseline}.json, to be read
# beside results/sst2.json.
set -eu
here=results/sst2/pooling
mkdir -p runs/pooling_max/sst2
cp -rp runs/sst2/teacher runs/sst2/logits runs/sst2/augmented.tsv runs/sst2/augmented.json runs/pooling_max/sst2/
flags=$(sed -n 's/^STUDENT_FLAGS ?= //p' Makefile)
case "$flags" in
    *"--pooling last"*) ;;
    *) echo "pooling.sh: expected '--pooling last' in the Makefile's STUDENT_FLAGS, found: $flags" >&2; exit 1 ;;
esac
make sst2 RUNS=runs/pooling_max RESULTS=$here STUDENT_FLAGS="${flags/--pooling last/--pooling max}"
