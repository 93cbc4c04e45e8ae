#!/bin/bash
# Teacher settings on SST-2: epochs x lr x seed, and fp32 vs bf16.  A record of a run on a lent
# GPU, with the data and the MiniLM folder carried there as gpu_carry/; README.md beside it.
nvidia-smi --query-gpu=name --format=csv,noheader; python3 -c "import torch;print(torch.__version__)"
export PYTHONUNBUFFERED=1
run() { name=$1; shift; python3 distill.py teacher --task sst2 --data-dir gpu_carry/data --teacher gpu_carry/minilm \
  --device cuda --out /tmp/g/$name "$@" > /tmp/g_$name.log 2>&1; echo "done $name $(tail -1 /tmp/g_$name.log)"; }
mkdir -p /tmp/g
for s in 0 1; do
  run e1_lr5e-5_s$s --epochs 1 --lr 5e-5 --seed $s &
  run e2_lr5e-5_s$s --epochs 2 --lr 5e-5 --seed $s &
  run e1_lr1e-4_s$s --epochs 1 --lr 1e-4 --seed $s &
  run e2_lr1e-4_s$s --epochs 2 --lr 1e-4 --seed $s &
  run e1_lr5e-5_fp32_s$s --epochs 1 --lr 5e-5 --seed $s --no-bf16 &
done
wait
python3 - <<'PY'
import json, glob, os
rows = {}
for p in sorted(glob.glob("/tmp/g/*/metrics.json")):
    m = json.load(open(p)); name = p.split("/")[3]
    rows[name] = [(round(h["epoch"], 2), round(100 * h["dev"]["dev"]["acc"], 2)) for h in m["history"]]
    print(name, rows[name])
json.dump(rows, open(os.environ["OUT"] + "/teacher_grid.json", "w"), indent=1)
PY
tail -3 /tmp/g_e1_lr5e-5_s0.log
