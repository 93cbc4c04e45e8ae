#!/usr/bin/env bash
# How the seeds in results/<task>.json were made: `make seeds` for SST-2, RTE and MRPC in a clean
# clone of dbce60c, whose runs/ held each task's own make run (teacher, augmented file, logits,
# seed 0's student and baseline), so that every seed learns from the same teacher and logits:
#   runs/sst2        make sst2 from a clean clone of e4be535 (experiments/sst2/run_make_sst2.sh)
#   runs/rte, mrpc   make rte, make mrpc from a clean clone of 2ba7af2
# Each step decides from its manifest whether its output is current: SST-2's chain said "nothing
# to do"; RTE's and MRPC's students and baselines were trained again at seed 0, RTE's because the
# student's manifest has listed the dev and test files (its vocabulary) since ebc28a8, MRPC's
# because they were removed first: its checkpoints are now chosen by (accuracy + F1) / 2, not F1.
# Afterwards SST-2's seed 0 student and baseline were moved out of runs/sst2 and `make seeds
# TASK=sst2` run once more, to train them again with each evaluation's predictions kept (the
# cross-selected figures need them; make sst2 ran before they were kept).
# The log is seeds.log beside this file; `python -m tools.report results --task <task> --runs
# <clone>/runs --out results` then wrote results/<task>.json, the README's tables and figures.
set -u
clone=${1:?usage: run_seeds.sh <clean clone with runs/ as above>}
cd "$clone"
rm -rf runs/mrpc/student runs/mrpc/baseline runs/mrpc/reported
for t in sst2 rte mrpc; do
  echo "=== make seeds TASK=$t $(date) ===" >> seeds.log
  make seeds TASK=$t >> seeds.log 2>&1 || echo "=== make seeds TASK=$t failed ===" >> seeds.log
done
