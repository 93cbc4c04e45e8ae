#!/usr/bin/env bash
# How results/sst2* were made: `make sst2` from a clean clone on the 2-core machine, killed
# once in the middle of the augmented-logits step (SIGTERM to the whole job; not SIGINT, which
# background jobs of a script ignore) and then run again, to show that a second `make sst2` finishes the job without redoing
# the finished steps.  Run it from the root of a clean clone:
#     bash experiments/sst2/run_make_sst2.sh [batches before the interruption, default 500 of ~1,000]
# It writes experiments/sst2/make_sst2.log (both runs, with /usr/bin/time -v) and runs/sst2/make_wall.json, and
# reports again so that results/sst2.json holds the wall time.
set -u
stop_after=${1:-500}
progress=runs/sst2/logits/augmented.npy.done_batches
log=experiments/sst2/make_sst2.log
t0=$(date +%s)
setsid /usr/bin/time -v make sst2 > $log 2>&1 &
job=$!
until [ -f $progress ] && [ "$(cut -d' ' -f1 $progress)" -ge "$stop_after" ]; do
    kill -0 $job 2>/dev/null || { echo "make stopped before the logits step; see $log"; exit 1; }
    sleep 5
done
kill -TERM -- -$job
wait $job
t1=$(date +%s)
killed_at=$(cut -d' ' -f1 $progress)
echo "=== run_make_sst2.sh: killed after $((t1 - t0)) s at batch $killed_at; make sst2 again ===" >> $log
/usr/bin/time -v make sst2 >> $log 2>&1
status=$?
t2=$(date +%s)
printf '{"first_run_seconds": %d, "second_run_seconds": %d, "wall_seconds": %d, "killed_at_batch": %d, "exit_status": %d}\n' \
    $((t1 - t0)) $((t2 - t1)) $((t2 - t0)) "$killed_at" $status > runs/sst2/make_wall.json
cat runs/sst2/make_wall.json
# make's last step wrote results/sst2.json before the wall time above existed: write it again.
python3 -m tools.report results --task sst2 --runs runs --out results >> $log 2>&1
