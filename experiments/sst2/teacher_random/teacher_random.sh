#!/usr/bin/env bash
# A lever toward #21's SST-2 goal, which rests on the teacher: make's SST-2 teacher (1 epoch,
# seed 0) in random batches (--sort-pool 1) instead of batches from pools of 100 sorted by
# length, on the CPU (the GPU grid in ../teacher_settings/ compared the two there).
# Run it from the repository root:
#     bash experiments/sst2/teacher_random/teacher_random.sh
# It writes experiments/sst2/teacher_random/teacher.json (every evaluation, with its predictions) and
# prints the dev-selected and cross-selected accuracy beside make's teacher's.
set -euo pipefail
python3 distill.py teacher --task sst2 --teacher minilm --epochs 1 --sort-pool 1 --lr 5e-5 --batch-size 32 \
  --limit 0 --seed 0 --out runs/teacher_random/sst2/teacher
cp runs/teacher_random/sst2/teacher/metrics.json experiments/sst2/teacher_random/teacher.json
python3 - <<'PY'
import data
from machinery import files
from tools import report
gold = data.load_split("sst2", "dev").label
for name, path in (("random batches", "experiments/sst2/teacher_random/teacher.json"), ("make's (pools of 100)", "results/sst2/teacher.json")):
    m = files.read_json(path)
    print(f"{name}: dev-selected {100 * m['dev']['dev']['acc']:.2f}, cross-selected "
          f"{100 * report.cross_selected(m['history'], gold, 'sst2', 'dev'):.2f}, {m['sentences_per_second']:.0f} sentences/s")
PY
