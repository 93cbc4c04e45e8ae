#!/usr/bin/env bash
# A class of 100 (issue #29): generates N submissions (default 100) from a fresh handout -- blank,
# solved, partial (a seeded random half of the exercises), one that loops in every exercise, a
# few handed in as .zip, and a plain file beside them -- and grades them J at a time (default 2,
# this machine's cores) with `python -m classroom.grader grade --submissions`, recording the wall
# time.  The looping one must stop at its cap (CAP seconds, default 300) with its row written.
#
#   experiments/grading/class_of_100.sh            # from the project folder; log in
#                                                  # experiments/grading/class_of_100.log
#   N=8 J=2 CAP=120 experiments/grading/class_of_100.sh    # a smaller class
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100}
J=${J:-2}
CAP=${CAP:-300}
PY=${PY:-python3}
LOG=${LOG:-experiments/grading/class_of_100.log}
WORK=$(mktemp -d /tmp/class-of-100-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
exec > >(tee "$LOG") 2>&1
echo "class of $N, -j $J, cap $CAP s, commit $(git rev-parse --short HEAD 2>/dev/null || echo none), $(date -u)"
echo "$(nproc) cores; $($PY --version)"
ln -s "$(cd .. && pwd)/shared" "$WORK/shared" 2>/dev/null || true      # the data, as beside the project
$PY -m classroom.grader handout --out "$WORK/assignment" >/dev/null
$PY - "$WORK" "$N" <<'PY'
import random, shutil, sys, zipfile
from pathlib import Path
from classroom import grader
work, n = Path(sys.argv[1]), int(sys.argv[2])
handout, handins = work / "assignment", work / "handins"
solutions, every = grader.bodies("."), sorted(grader.EXERCISES)
indent = {k: ind for rel in {e["file"] for e in grader.EXERCISES.values()}
          for k, _, ind, _, _ in grader.find_blocks((handout / rel).read_text(), rel)}
loop = {k: [f"{indent[k]}while True:\n", f"{indent[k]}    pass\n"] for k in every}
rng = random.Random(29)
kinds = {}
for i in range(n):
    kind = "looping" if i == n // 2 else ("blank", "solved", "partial")[i % 3]
    name = f"student_{i:03d}_{kind}"
    folder = handins / name
    shutil.copytree(handout, folder)
    chosen = {"blank": [], "solved": every, "partial": sorted(rng.sample(every, 4))}.get(kind, every)
    blocks = loop if kind == "looping" else {k: solutions[k] for k in chosen}
    for rel in {grader.EXERCISES[k]["file"] for k in blocks}:
        path = folder / rel
        path.write_text(grader.paste(path.read_text(), {k: v for k, v in blocks.items()
                                                        if grader.EXERCISES[k]["file"] == rel}, rel))
    if i % 10 == 9:                                  # an LMS's download: some hand in a zip
        shutil.make_archive(str(folder), "zip", handins, name)
        shutil.rmtree(folder)
    kinds[name] = f"{kind} {chosen}" if kind == "partial" else kind
(handins / "instructions.pdf").write_bytes(b"%PDF")      # not a submission: named, not graded
print(f"{n} submissions in {handins}:", ", ".join(f"{k} {sum(v.split()[0] == k for v in kinds.values())}"
                                                  for k in ("blank", "solved", "partial", "looping")))
PY
start=$(date +%s)
$PY -m classroom.grader grade --submissions "$WORK/handins" --out "$WORK/grades.csv" -j "$J" \
    --submission-timeout "$CAP"
end=$(date +%s)
echo "wall time: $((end - start)) s for $N submissions with -j $J"
echo "--- grades.csv: submission, exercises 1-8, total, problems (per-test columns left out here)"
cut -d, -f1-11 "$WORK/grades.csv" | head -n 5
echo "..."
grep -E '_looping' "$WORK/grades.csv" | cut -c1-400
