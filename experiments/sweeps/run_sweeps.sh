#!/usr/bin/env bash
# The teachers' cross-selected figures and the alpha sweeps, as run for results/: in the clone
# that ran make <task> and make seeds for SST-2, RTE and MRPC (experiments/seeds/run_seeds.sh), on
# the same teachers and logits.
#
# 1. Each teacher is fine-tuned again with its make run's own command (its metrics.json says
#    which), to keep every evaluation's dev predictions, which its run predates.  The original
#    is kept beside as teacher_orig; on two CPU threads the rerun gave a bit-identical
#    teacher.pt (sha256 printed), so the logits and the students that came from it stay valid.
#    A rerun that is not identical is set aside (teacher_rerun) and the original put back.
# 2. make sweep TASK=<task>: alpha 0 (make's student), 0.5 and 1, seed 0.
#
# Run it from the clone's root:  bash experiments/sweeps/run_sweeps.sh "sst2 rte mrpc" "sst2 rte mrpc"
# (the first list: the teachers to fine-tune again; the second: the sweeps).  Step 1 ran first
# for SST-2 and RTE alone (teachers_again.log), then for MRPC with the sweeps (run_sweeps.log).
# The teachers' commands start with `python`, as their metrics.json saved them.
set -euo pipefail
teachers=${1-"sst2 rte mrpc"}
sweeps=${2-"sst2 rte mrpc"}
for t in $teachers; do
  if [ -e runs/$t/teacher_orig ]; then echo "$t: runs/$t/teacher_orig is there already: left as it is"; continue; fi
  cmd=$(python3 -c "import json; print(json.load(open('runs/$t/teacher/metrics.json'))['command'])")
  mv runs/$t/teacher runs/$t/teacher_orig
  echo "== $t: $cmd"
  /usr/bin/time -v $cmd 2>&1 | tr '\r' '\n' | grep -v "sentences/s,"
  sha256sum runs/$t/teacher_orig/teacher.pt runs/$t/teacher/teacher.pt
  if ! cmp -s runs/$t/teacher_orig/teacher.pt runs/$t/teacher/teacher.pt; then
    echo "$t: the rerun's teacher.pt differs: set aside as runs/$t/teacher_rerun, the original put back"
    mv runs/$t/teacher runs/$t/teacher_rerun && mv runs/$t/teacher_orig runs/$t/teacher
  fi
done
for t in $sweeps; do
  echo "== make sweep TASK=$t"
  /usr/bin/time -f "%e s wall" make sweep TASK=$t 2>&1 | tr '\r' '\n' | grep -v "sentences/s,"
done
