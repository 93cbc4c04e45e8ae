#!/usr/bin/env bash
# How make's MRPC and RTE runs became max-pooling's.  five_seeds.sh (at commit 6b6c74b, whose
# Makefile read the paper's final states on every task) had made, in one clone, seeds 0-4 of
# make's students and baselines with the final states (runs/<task>/) and with max-pooling
# (runs/pooling_max/<task>/, by experiments/pairs/lever.sh on a copy of make's runs: the same
# teacher, augmented pairs and logits).  Max-pooling's students scored higher cross-selected on
# both tasks, so the Makefile now reads POOLING_mrpc = POOLING_rte = max.  This script, run from
# the root of that clone at the commit that made the switch, per task:
#   1. adds max-pooling's alpha sweep (the same command had trained its students just before,
#      their logs sweep_pooling_max_<task>.log beside it; here it found them done);
#   2. moves the folders: max-pooling's runs become make's (runs/<task>), the final states' the
#      lever pooling_last (runs/pooling_last/<task>); the lever's log of max-pooling's students
#      comes here as lever_pooling_max_<task>.log, and experiments/pairs/pooling_max/ goes (it is
#      make's now);
#   3. runs make seeds, which finds every step up to date by its manifest (the log says "nothing
#      to do": the move trains nothing) and reports into results/; then reports the lever the
#      same way (experiments/pairs/pooling_last/, its log <task>.log there).
# Each step is done once: run again, it goes on where it stopped.  Its log is pairs_max_pooling.log.
set -euo pipefail
log=experiments/seeds/pairs_max_pooling.log
mkdir -p runs/pooling_last
for t in rte mrpc; do
  echo "=== $t ($(date -u)) ===" >> $log
  if [ -e runs/pooling_max/$t ]; then
    make sweep TASK=$t RUNS=runs/pooling_max RESULTS=experiments/pairs/pooling_max POOLING=max >> $log 2>&1
    [ -e runs/pooling_last/$t ] || mv runs/$t runs/pooling_last/$t
    echo POOLING=last > runs/pooling_last/$t/lever.settings
    rm -f runs/pooling_max/$t/lever.settings
    mv runs/pooling_max/$t runs/$t
  fi
  [ ! -e experiments/pairs/pooling_max/$t.log ] || mv experiments/pairs/pooling_max/$t.log experiments/seeds/lever_pooling_max_$t.log
  [ -d runs/$t/teacher ] || { echo "runs/$t has no teacher: stopping" >&2; exit 1; }
  make seeds TASK=$t SEEDS="0 1 2 3 4" >> $log 2>&1
  bash experiments/pairs/lever.sh $t pooling_last POOLING=last SEEDS="0 1 2 3 4" > /dev/null
done
rm -rf experiments/pairs/pooling_max
