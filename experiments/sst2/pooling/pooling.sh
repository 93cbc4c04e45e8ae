#!/usr/bin/env bash
# The other pooling: make's student and baseline with max-pooling over the BiLSTM's states
# (`--pooling max`) instead of the paper's final states, on the same teacher, augmented
# sentences and logits, copied from runs/sst2 (their manifests match, so make redoes none of them).
# Run it from the repository root after `make sst2`:
#     bash experiments/sst2/pooling/pooling.sh
# It writes experiments/sst2/pooling/sst2.json and sst2/{teacher,student,baseline}.json, to be read
# beside results/sst2.json.
set -eu
mkdir -p runs/pooling_max/sst2
cp -rp runs/sst2/teacher runs/sst2/logits runs/sst2/augmented.tsv runs/sst2/augmented.json runs/pooling_max/sst2/
make sst2 RUNS=runs/pooling_max RESULTS=experiments/sst2/pooling POOLING=max
