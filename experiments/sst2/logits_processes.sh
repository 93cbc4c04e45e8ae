#!/usr/bin/env bash
# Teacher-logits throughput with 1 process (2 threads) and with 2 processes under torchrun (gloo,
# 1 thread each) on the same augmented SST-2 sentences, wall time of the whole command (loading
# the teacher, and for torchrun starting the group and merging the shards, included).
# Needs runs/sst2/teacher and runs/sst2/augmented.tsv (from make sst2).  Run from the repo root:
#     bash experiments/sst2/logits_processes.sh [sentences, default 16384]
set -eu
n=${1:-16384}
dir=runs/sst2/logits_processes
rm -rf $dir && mkdir -p $dir
head -n $((n + 1)) runs/sst2/augmented.tsv > $dir/input.tsv
args="logits --task sst2 --teacher-dir runs/sst2/teacher --input $dir/input.tsv"
t0=$(date +%s.%N)
python3 distill.py $args --out $dir/one.npy
t1=$(date +%s.%N)
python3 -m torch.distributed.run --standalone --nproc_per_node=2 distill.py $args --out $dir/two.npy
t2=$(date +%s.%N)
python3 - "$n" "$t0" "$t1" "$t2" "$dir" <<'PY'
import json, subprocess, sys
import numpy as np
n, t0, t1, t2, folder = int(sys.argv[1]), *map(float, sys.argv[2:5]), sys.argv[5]
one, two = np.load(f"{folder}/one.npy"), np.load(f"{folder}/two.npy")
result = {"sentences": n, "one_process_2_threads": {"seconds": t1 - t0, "sentences_per_second": n / (t1 - t0)},
          "two_processes_1_thread_each": {"seconds": t2 - t1, "sentences_per_second": n / (t2 - t1)},
          "max_abs_difference_of_logits": float(np.abs(one - two).max()),
          "note": "bf16 autocast; 2 CPU cores, so 2 processes can only share the same 2 cores",
          "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
          "command": "bash experiments/sst2/logits_processes.sh " + str(n)}
json.dump(result, open("experiments/sst2/logits_processes.json", "w"), indent=2)
print(json.dumps(result, indent=2))
PY
