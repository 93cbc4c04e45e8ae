#!/usr/bin/env bash
# How results/quick/ is made: `make quick` in a clean clone of a commit (default HEAD), beside this
# checkout so that ../shared/data is found as on CI, and its report copied back into results/quick/.
# The log, make_quick.log beside this file, ends with what `git status --porcelain` says of the
# clone outside results/ and runs/ after the run: nothing, when make quick leaves the project as
# it found it.
#     bash experiments/quick/run_make_quick.sh [commit]
set -euo pipefail
commit=${1:-HEAD}
clone=$(cd .. && pwd)/quick_clone
log=experiments/quick/make_quick.log
rm -rf "$clone"
git clone -q . "$clone"
git -C "$clone" checkout -q "$commit"
echo "=== make quick in a clean clone of $(git -C "$clone" rev-parse --short HEAD) ($(date -u)) ===" > $log
start=$(date +%s)
(cd "$clone" && make quick) >> $log 2>&1
echo "=== wall time: $(( $(date +%s) - start )) s ===" >> $log
echo "=== git status --porcelain outside results/ and runs/ (empty: nothing changed) ===" >> $log
git -C "$clone" status --porcelain -- . ':!results' ':!runs' >> $log
rm -rf results/quick
cp -r "$clone/results/quick" results/quick
