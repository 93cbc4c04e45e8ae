"""estimate.py: the sentences each step of make's chain sees, the minutes that makes at given
rates, and the settings it reads from make's own command lines.  No timing is asserted: the
rates are given here, not measured."""
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import distill
from tools import estimate
from conftest import ROOT

# SST-2's recorded run: 67,349 sentences, 20 tries each, 813,933 augmented rows written.
RECORDED = {"augmented": {"originals": 67349, "written": 813933, "ratio": 12.085},
            "configs": {"augment": {"n_iter": 20}}}


def test_augmented_rows_from_augments_own_count_then_the_recorded_run_then_the_default():
    assert estimate.augmented_rows(67349, 20, RECORDED, written=800000)[0] == 800000
    assert estimate.augmented_rows(67349, 20, RECORDED)[0] == 813933          # the same run again
    # make quick: 3,000 sentences, 10 tries: the recorded rows per sentence per try, scaled
    assert estimate.augmented_rows(3000, 10, RECORDED)[0] == round(3000 * 10 * 813933 / 67349 / 20)
    assert estimate.augmented_rows(3000, 10, None)[0] == 3000 * 10 * estimate.ROWS_PER_TRY
    assert estimate.augmented_rows(3000, 10, {"seconds": {}})[0] == 3000 * 10 * estimate.ROWS_PER_TRY


def test_step_sizes_follow_make_settings():
    sizes = estimate.step_sizes(67349, teacher_epochs=2, augmented=813933, student_epochs=5, baseline_epochs=15)
    assert sizes == {"teacher": 134698, "logits_train": 67349, "logits_augmented": 813933,
                     "student": (67349 + 813933) * 5, "baseline": 67349 * 15}


def test_minutes_are_sentences_over_rates():
    sizes = estimate.step_sizes(1200, 2, 6000, 5, 10)
    rates = {"teacher training": 40.0, "teacher logits": 600.0, "student training": 3000.0,
             "baseline training": 2000.0}
    plan = estimate.plan(sizes, rates)
    minutes = {r["step"]: r["minutes"] for r in plan["steps"]}
    assert minutes == pytest.approx({"teacher": 2400 / 40 / 60, "logits_train": 1200 / 600 / 60,
                                     "logits_augmented": 6000 / 600 / 60, "student": 36000 / 3000 / 60,
                                     "baseline": 12000 / 2000 / 60})
    assert plan["total_minutes"] == pytest.approx(sum(minutes.values()))
    assert plan["complete"]
    assert [r["step"] for r in plan["steps"]] == list(estimate.STEPS)


def test_finished_steps_count_zero_and_untimed_ones_are_marked():
    sizes = estimate.step_sizes(1200, 2, 6000, 5, 10)
    rates = {"teacher logits": 600.0, "student training": 3000.0, "baseline training": 2000.0}
    plan = estimate.plan(sizes, rates, done={"teacher", "logits_train"})
    by_step = {r["step"]: r for r in plan["steps"]}
    assert by_step["teacher"]["done"] and by_step["teacher"]["minutes"] == 0
    assert by_step["logits_train"]["minutes"] == 0
    assert plan["complete"] and plan["total_minutes"] == pytest.approx((6000 / 600 + 36000 / 3000 + 12000 / 2000) / 60)
    unfinished = estimate.plan(sizes, rates)             # the teacher's rate is missing
    assert unfinished["steps"][0]["minutes"] is None and not unfinished["complete"]
    text = estimate.table(unfinished)
    assert "teacher" in text.splitlines()[1] and text.splitlines()[1].endswith("?")
    assert text.splitlines()[-1].startswith("total") and text.endswith("+ ?")


def test_the_table_has_each_step_and_the_total():
    sizes = estimate.step_sizes(67349, 2, 813933, 5, 15)
    rates = {"teacher training": 134.0, "teacher logits": 860.0, "student training": 3700.0,
             "baseline training": 3700.0}
    lines = estimate.table(estimate.plan(sizes, rates)).splitlines()
    assert lines[0].split() == ["step", "sentences", "sentences/s", "minutes"]
    assert lines[1].split() == ["teacher", "134,698", "134.0", f"{134698 / 134 / 60:.1f}"]
    total = sum(n / r for n, r in zip(sizes.values(), (134, 860, 860, 3700, 3700))) / 60
    assert lines[-1].split() == ["total", f"{total:.1f}"]


def make_lines(target, runs):
    """The commands `make -n <target>` would run (make quick's through its inner make),
    continuation lines joined."""
    done = subprocess.run(["make", "-n", target, f"PYTHON={sys.executable}", f"RUNS={runs}"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout.replace("\\\n", " ").splitlines()


@pytest.mark.parametrize("target, limit", [("sst2", 0), ("quick", 3000), ("mrpc", 0)])
def test_make_gives_the_estimate_the_settings_of_its_steps(tmp_path, target, limit):
    """The estimate reads the same settings as the steps it estimates: each of its step settings
    equals what distill.py parses from make's command for that step (the student's shape, size
    and pooling, is set per task)."""
    lines = make_lines(target, tmp_path)
    (call,) = [shlex.split(line) for line in lines if "tools.estimate" in line]
    args = estimate.parser().parse_args(call[call.index("tools.estimate") + 1:])
    (augment,) = [shlex.split(line) for line in lines if "augment.py" in line]
    n_iter = int(augment[augment.index("--n-iter") + 1]) if "--n-iter" in augment else None
    assert args.limit == limit and args.n_iter == n_iter                 # the augmentation's tries, as make's
    assert Path(args.runs) in (tmp_path, tmp_path / "quick")             # make quick's RUNS is RUNS/quick
    assert Path(args.out) == Path(args.runs) / args.task / "estimate.json"
    ours = estimate.settings(args)

    def step(*words, without="\0"):
        (line,) = [l for l in lines if all(w in l for w in words) and without not in l]
        argv = shlex.split(line)
        return distill.parse(argv[argv.index("distill.py") + 1:])
    theirs = {"teacher": step("distill.py teacher"), "logits": step("distill.py logits", "--split train"),
              "student": step("distill.py student", without="--no-distill"),
              "baseline": step("distill.py student", "--no-distill")}
    # make's choice of pooling: the paper's final states on SST-2, the maximum on the pair tasks
    assert theirs["student"].pooling == theirs["baseline"].pooling == ("max" if args.task == "mrpc" else "last")
    ignored = {"out", "data_dir", "train_logits", "augmented", "augmented_logits", "teacher_dir", "split", "input"}
    for name, namespace in theirs.items():
        mine = {k: v for k, v in vars(ours[name]).items() if k not in ignored}
        assert mine == {k: v for k, v in vars(namespace).items() if k not in ignored}, name


def test_a_missing_teacher_is_reported_and_finished_steps_are_not_timed(toy, tmp_path, capsys):
    """Nothing missing stops the chain: a teacher that is not there leaves its steps without
    minutes, says why, and the estimate is still written; the steps already finished in RUNS
    count zero and are not timed.  (The student's steps are finished here, so that no exercise
    code runs: this test passes in the classroom handout as it is.)"""
    runs = tmp_path / "runs"
    for step in ("student", "baseline"):
        (runs / "sst2" / step).mkdir(parents=True)
        (runs / "sst2" / step / "metrics.json").write_text("{}")
    result = estimate.main(["--task", "sst2", "--data-dir", str(toy), "--runs", str(runs),
                            "--teacher-flags=--teacher " + str(tmp_path / "no-such-teacher"),
                            "--baseline-flags=--epochs 3"])
    rows = {r["step"]: r for r in result["steps"]}
    assert [rows[s]["minutes"] for s in ("teacher", "logits_train", "logits_augmented")] == [None] * 3
    assert rows["student"]["done"] and rows["baseline"]["done"] and rows["baseline"]["sentences"] == 400 * 3
    assert not result["complete"] and result["total_minutes"] == 0
    saved = json.loads((runs / "sst2" / "estimate.json").read_text())
    assert saved["steps"] == result["steps"] and "FileNotFoundError" in saved["not_timed"]["teacher"]
    printed = capsys.readouterr().out
    assert "teacher: not timed" in printed and printed.count(" done") == 2
