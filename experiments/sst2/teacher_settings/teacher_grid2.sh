#!/bin/bash
# Teacher settings on SST-2, the second grid: batch order (sort pools of 1, 10 and 100 batches)
# over seeds 0-2, and 2 epochs in random batches.  A record of a run on a lent GPU, with the data
# and the MiniLM folder carried there as gpu_carry/; what it decided: README.md beside it.
export PYTHONUNBUFFERED=1
run() { name=$1; shift; python3 distill.py teacher --task sst2 --data-dir gpu_carry/data --teacher gpu_carry/minilm \
  --device cuda --out /tmp/g/$name "$@" > /tmp/g_$name.log 2>&1; echo "done $name $(tail -1 /tmp/g_$name.log)"; }
mkdir -p /tmp/g
for s in 0 1 2; do
  run pool1_s$s --epochs 1 --sort-pool 1 --seed $s &
  run pool10_s$s --epochs 1 --sort-pool 10 --seed $s &
  run pool100_s$s --epochs 1 --seed $s &
done
run pool1_e2_s0 --epochs 2 --sort-pool 1 --seed 0 &
run pool1_e2_s1 --epochs 2 --sort-pool 1 --seed 1 &
wait
python3 - <<'PY'
import json, glob, os
rows = {}
for p in sorted(glob.glob("/tmp/g/*/metrics.json")):
    m = json.load(open(p)); name = p.split("/")[3]
    rows[name] = [(round(h["epoch"], 2), round(100 * h["dev"]["dev"]["acc"], 2)) for h in m["history"]]
    print(name, rows[name], round(m["seconds"]))
json.dump(rows, open(os.environ["OUT"] + "/teacher_grid2.json", "w"), indent=1)
PY
