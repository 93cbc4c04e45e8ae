#!/usr/bin/env bash
# The alpha sweep of Eq. 1 on make quick's run: the first 3,000 SST-2 training sentences, their
# augmented sentences and the teacher's logits from runs/quick/sst2, one student per alpha with
# make quick's student settings (seed 0).  Run it from the repository root after `make quick`:
#     bash experiments/quick/sweep/sweep.sh
# It writes experiments/quick/sweep/sweep.json (every alpha's best dev accuracy and learning curve)
# and, with matplotlib, alpha.png and alpha_curves.png.
set -eu
run=runs/quick/sst2
python3 -m tools.report sweep --task sst2 --limit 3000 --train-logits $run/logits/train.npy \
  --augmented $run/augmented.tsv --augmented-logits $run/logits/augmented.npy \
  --optimizer adam --lr 1e-3 --batch-size 64 --hidden 150 --fc 200 --epochs 6 --out runs/quick/sweep
mkdir -p experiments/quick/sweep
cp runs/quick/sweep/sweep.json experiments/quick/sweep/
cp runs/quick/sweep/*.png experiments/quick/sweep/ 2>/dev/null || true     # alpha.png, alpha_curves.png
