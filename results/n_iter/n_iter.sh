#!/usr/bin/env bash
# A lever of #21 for the pair tasks: the number of augmented tries per pair (section 3.3's
# n_iter), 20 instead of the paper's 10 for pairs, over seeds 0, 1, 2, with make's other
# settings, on the same teacher, train logits and baselines (copied from runs/<task>: their
# manifests match, so make redoes none of them).  The augmented pairs, their logits and the
# students are made anew.  EPOCHS=6: an epoch now holds about twice the pairs, so 6 epochs still
# allow more pair passes than make's 10 at n_iter 10; early stopping (patience: 2 epochs) ends
# each run first.
# Run it from the repository root after `make seeds TASK=<task>`:
#     bash results/n_iter/n_iter.sh mrpc        (or rte)
# It writes results/n_iter/<task>.json and <task>/{teacher,student,baseline}.json, to be read
# beside results/<task>.json.
set -euo pipefail
task=$1
new=runs/n_iter_20/$task
mkdir -p $new/logits $new/seeds/1 $new/seeds/2
cp -rp runs/$task/teacher runs/$task/baseline runs/$task/pos_tags.json $new/
cp -p runs/$task/logits/train.npy runs/$task/logits/train.json $new/logits/
for s in 1 2; do cp -rp runs/$task/seeds/$s/baseline $new/seeds/$s/; done
make seeds TASK=$task RUNS=runs/n_iter_20 RESULTS=results/n_iter N_ITER=20 EPOCHS_$task=6
