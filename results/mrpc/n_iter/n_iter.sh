#!/usr/bin/env bash
# A lever of #21 for MRPC: the number of augmented tries per pair (section 3.3's n_iter), 20
# instead of the paper's 10 for pairs, over seeds 0, 1, 2, with make's other settings, on the
# same teacher, train logits and baselines (copied from runs/mrpc: their manifests match, so
# make redoes none of them).  The augmented pairs, their logits and the students are made anew.
# EPOCHS_mrpc=6: an epoch now holds about twice the pairs, so 6 epochs still allow more pair
# passes than make's 10 at n_iter 10; early stopping (patience: 2 epochs) ends each run first.
# Run it from the repository root after `make seeds TASK=mrpc`:
#     bash results/mrpc/n_iter/n_iter.sh
# It writes results/mrpc/n_iter/mrpc.json and mrpc/{teacher,student,baseline}.json, to be read
# beside results/mrpc.json.
set -euo pipefail
new=runs/n_iter_20/mrpc
mkdir -p $new/logits $new/seeds/1 $new/seeds/2
cp -rp runs/mrpc/teacher runs/mrpc/baseline runs/mrpc/pos_tags.json $new/
cp -p runs/mrpc/logits/train.npy runs/mrpc/logits/train.json $new/logits/
for s in 1 2; do cp -rp runs/mrpc/seeds/$s/baseline $new/seeds/$s/; done
make seeds TASK=mrpc RUNS=runs/n_iter_20 RESULTS=results/mrpc/n_iter N_ITER=20 EPOCHS_mrpc=6
