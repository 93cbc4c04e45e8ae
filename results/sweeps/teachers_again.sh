#!/bin/bash
# Rerun the SST-2 and RTE teachers with the commands of their make runs, to keep every
# evaluation's dev predictions; the originals are kept beside as teacher_orig for comparison.
# (What ran first for SST-2 and RTE, in the clone of results/seeds/run_seeds.sh; run_sweeps.sh
# here does the same for every task and then the sweeps.)
set -e
cd "$(dirname "$0")"
for t in sst2 rte; do
  cmd=$(python3 -c "import json; print(json.load(open('runs/$t/teacher/metrics.json'))['command'])")
  mv runs/$t/teacher runs/$t/teacher_orig
  echo "== $t: $cmd"
  /usr/bin/time -v $cmd 2>&1 | tr '\r' '\n' | grep -v "sentences/s," 
  sha256sum runs/$t/teacher_orig/teacher.pt runs/$t/teacher/teacher.pt
done
