#!/bin/bash
# The alpha sweep of distill.py on SST-2, run on a lent GPU with the logits of the CPU make sst2 run.
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name --format=csv,noheader
gunzip -k gpu_sweep/sst2/augmented.tsv.gz
common="--task sst2 --data-dir gpu_sweep/data --device cuda --train-logits gpu_sweep/sst2/train.npy \
 --augmented gpu_sweep/sst2/augmented.tsv --augmented-logits gpu_sweep/sst2/augmented.npy \
 --optimizer adam --lr 1e-3 --batch-size 128 --hidden 300 --fc 400 --dropout 0.1 --epochs 2"
mkdir -p sweep
for a in 0 0.2 0.4 0.6 0.8 1; do
  python3 distill.py student $common --alpha $a --out sweep/alpha_$a > sweep/log_$a.txt 2>&1 &
done
wait
for a in 0 0.2 0.4 0.6 0.8 1; do tail -1 sweep/log_$a.txt; done
python3 distill.py sweep $common --out sweep 2>&1 | tail -3
cp sweep/sweep.json sweep/*.png $OUT/
