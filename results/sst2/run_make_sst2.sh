#!/usr/bin/env bash
# How results/sst2* were made: `make sst2` from a clean clone on the 2-core machine, interrupted
# once in the middle of the augmented-logits step (SIGINT to the whole job, as Ctrl-C does in a
# terminal) and then run again, to show that a second `make sst2` finishes the job without redoing
# the finished steps.  Run it from the root of a clean clone:
#     bash results/sst2/run_make_sst2.sh [batches before the interruption, default 1500 of ~3,200]
# It writes make_sst2.log (both runs, with /usr/bin/time -v) and runs/sst2/make_wall.json.
set -u
stop_after=${1:-1500}
progress=runs/sst2/logits/augmented.npy.done_batches
log=make_sst2.log
t0=$(date +%s)
setsid /usr/bin/time -v make sst2 > $log 2>&1 &
job=$!
until [ -f $progress ] && [ "$(cut -d' ' -f1 $progress)" -ge "$stop_after" ]; do
    kill -0 $job 2>/dev/null || { echo "make stopped before the logits step; see $log"; exit 1; }
    sleep 5
done
kill -INT -- -$job
wait $job
t1=$(date +%s)
echo "=== run_make_sst2.sh: interrupted after $((t1 - t0)) s at batch $(cut -d' ' -f1 $progress); make sst2 again ===" >> $log
/usr/bin/time -v make sst2 >> $log 2>&1
status=$?
t2=$(date +%s)
printf '{"first_run_seconds": %d, "second_run_seconds": %d, "wall_seconds": %d, "interrupted_at_batch": %d, "exit_status": %d}\n' \
    $((t1 - t0)) $((t2 - t1)) $((t2 - t0)) "$stop_after" $status > runs/sst2/make_wall.json
cat runs/sst2/make_wall.json
