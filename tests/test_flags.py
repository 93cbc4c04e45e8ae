"""Tests of flags.py: every flag of distill.py and augment.py checked when the command line is
read, its range named (and `make N_ITER=0`); and a student refusing logits made from another
version of the file they belong to (files.made_from)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, toy_teacher_logits

import augment
import distill

# (sub-command, flag, a value out of its range, what the message says the range is)
DISTILL_REFUSED = [
    ("logits", "--batch-size", "-4", "must be a positive integer, got -4"),
    ("logits", "--batch-size", "0", "must be a positive integer, got 0"),
    ("logits", "--max-len", "2", "must be an integer >= 3, got 2"),
    ("teacher", "--epochs", "0", "must be a positive integer, got 0"),
    ("teacher", "--evals-per-epoch", "0", "must be a positive integer, got 0"),
    ("teacher", "--lr", "0", "must be a positive number, got 0"),
    ("teacher", "--warmup", "1.5", "must be a probability between 0 and 1, got 1.5"),
    ("teacher", "--weight-decay", "-0.01", "must be a number >= 0, got -0.01"),
    ("teacher", "--sort-pool", "0", "must be a positive integer, got 0"),
    ("teacher", "--limit", "-1", "must be an integer >= 0, got -1"),
    ("teacher", "--seed", "-1", "must be an integer >= 0, got -1"),
    ("student", "--batch-size", "0", "must be a positive integer, got 0"),
    ("student", "--epochs", "0", "must be a positive integer, got 0"),
    ("student", "--evals-per-epoch", "0", "must be a positive integer, got 0"),
    ("student", "--patience", "0", "must be a positive integer, got 0"),
    ("student", "--hidden", "0", "must be a positive integer, got 0"),
    ("student", "--fc", "-1", "must be a positive integer, got -1"),
    ("student", "--dropout", "1.5", "must be a probability between 0 and 1, got 1.5"),
    ("student", "--alpha", "-0.5", "must be a probability between 0 and 1, got -0.5"),
    ("student", "--temperature", "0", "must be a positive number, got 0"),
    ("student", "--lr", "0", "must be a positive number, got 0"),
    ("student", "--lr", "nan", "must be a positive number, got nan"),
    ("student", "--limit", "-1", "must be an integer >= 0, got -1"),
    ("student", "--batch-size", "four", "must be a positive integer, got four"),
    ("eval", "--errors", "-1", "must be an integer >= 0, got -1"),
]


@pytest.mark.parametrize("cmd, flag, value, said", DISTILL_REFUSED)
def test_distill_flag_out_of_range_is_refused_naming_it(cmd, flag, value, said, capsys):
    required = ["--run", "runs/sst2/student"] if cmd == "eval" else []
    with pytest.raises(SystemExit) as stopped:
        distill.parse([cmd, *required, flag, value])
    assert stopped.value.code == 2
    assert f"argument {flag}: {said}" in capsys.readouterr().err


def test_distill_defaults_and_edges_are_unchanged():
    """The checks let every default and every value at the edge of its range through, as the
    numbers argparse gave before."""
    student = vars(distill.parse(["student"]))
    assert {k: student[k] for k in ("batch_size", "epochs", "evals_per_epoch", "patience", "hidden",
                                    "fc", "dropout", "alpha", "temperature", "lr", "limit", "seed")} == \
        {"batch_size": 50, "epochs": 30, "evals_per_epoch": 4, "patience": 8, "hidden": 150, "fc": 200,
         "dropout": 0.1, "alpha": 0.0, "temperature": 1.0, "lr": 1.0, "limit": 0, "seed": 0}
    teacher = vars(distill.parse(["teacher"]))
    assert {k: teacher[k] for k in ("batch_size", "max_len", "epochs", "lr", "warmup", "weight_decay",
                                    "evals_per_epoch", "sort_pool", "limit")} == \
        {"batch_size": 32, "max_len": 128, "epochs": 1, "lr": 5e-5, "warmup": 0.1, "weight_decay": 0.01,
         "evals_per_epoch": 4, "sort_pool": 100, "limit": 0}
    assert distill.parse(["logits"]).batch_size == 256
    edges = distill.parse(["student", "--alpha", "1", "--dropout", "0", "--limit", "0", "--batch-size", "1",
                           "--lr", "1e-9"])
    assert (edges.alpha, edges.dropout, edges.limit, edges.batch_size, edges.lr) == (1.0, 0.0, 0, 1, 1e-9)


AUGMENT_REFUSED = [
    ("--n-iter", "0", "must be a positive integer, got 0"),
    ("--n-iter", "-1", "must be a positive integer, got -1"),
    ("--p-mask", "1.5", "must be a probability between 0 and 1, got 1.5"),
    ("--p-pos", "-0.1", "must be a probability between 0 and 1, got -0.1"),
    ("--p-ng", "2", "must be a probability between 0 and 1, got 2"),
    ("--p-swap", "1.01", "must be a probability between 0 and 1, got 1.01"),
    ("--limit", "-1", "must be an integer >= 0, got -1"),
    ("--seed", "-1", "must be an integer >= 0, got -1"),
]


@pytest.mark.parametrize("flag, value, said", AUGMENT_REFUSED)
def test_augment_flag_out_of_range_is_refused_naming_it(flag, value, said, toy, shared_data, capsys):
    out = toy / "augmented.tsv"
    with pytest.raises(SystemExit) as stopped:
        augment.main(["--task", "sst2", "--data-dir", str(toy), "--out", str(out), "--limit", "20",
                      flag, value])
    assert stopped.value.code == 2
    assert f"argument {flag}: {said}" in capsys.readouterr().err
    assert not out.exists()


def test_logits_negative_batch_size_writes_nothing(toy):
    """The issue's command: `logits --batch-size -4` wrote 400 rows of zeros and exited 0."""
    out = toy / "train.npy"
    done = subprocess.run([sys.executable, "distill.py", "logits", "--task", "sst2", "--data-dir", str(toy),
                           "--teacher-dir", str(toy / "teacher"), "--no-bf16", "--batch-size", "-4",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "argument --batch-size: must be a positive integer, got -4" in done.stderr
    assert not out.exists()


def test_make_n_iter_0_is_refused_not_the_default(toy, shared_data, tmp_path):
    """make N_ITER=0 reaches augment.py as --n-iter 0, which stops: never the task's 20 tries."""
    out = tmp_path / "runs" / "sst2" / "augmented.tsv"
    env = {**os.environ, "NLTK_DATA": str(shared_data / "nltk_data")}
    done = subprocess.run(["make", "--no-print-directory", str(out), f"RUNS={tmp_path / 'runs'}",
                           f"DATA_DIR={toy}", "N_ITER=0", "LIMIT=20"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0, done.stdout[-2000:]
    assert "argument --n-iter: must be a positive integer, got 0" in done.stderr
    assert not out.exists()


# (8) The logits are rows of one file: a student given that file changed (shuffled in place, the
# same row count) is refused before it trains, naming the logits and the file.

def student_args(toy, out, augmented, augmented_logits, train_logits):
    return ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(train_logits),
            "--augmented", str(augmented), "--augmented-logits", str(augmented_logits),
            "--optimizer", "adam", "--lr", "0.01", "--hidden", "8", "--fc", "8", "--batch-size", "32",
            "--epochs", "1", "--evals-per-epoch", "1", "--out", str(out)]


def test_student_refuses_augmented_file_changed_after_its_logits(toy):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    aug = toy / "aug.tsv"
    rows = ["the good movie", "awful plot", "a nice film", "dull was the plot", "great"]
    aug.write_text("sentence\tlabel\tsource_row\n" + "".join(f"{r}\t1\t{i}\n" for i, r in enumerate(rows)))
    distill.main(["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
                  "--input", str(aug), "--no-bf16", "--out", str(toy / "aug.npy")])
    args = student_args(toy, toy / "s", aug, toy / "aug.npy", toy / "train.npy")
    distill.main(args)                                   # the logits of this very file: trained
    finished = (toy / "s" / "metrics.json").read_text()
    aug.write_text("sentence\tlabel\tsource_row\n" + "".join(f"{r}\t1\t{i}\n" for i, r in reversed(list(enumerate(rows)))))
    with pytest.raises(SystemExit, match=r"aug\.npy .*made from another .*aug\.tsv"):
        distill.main(args)
    assert (toy / "s" / "metrics.json").read_text() == finished       # the finished run is kept


def test_student_refuses_train_logits_of_another_train_split(toy):
    distill.main(["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
                  "--no-bf16", "--out", str(toy / "train.npy")])
    train = toy / "glue" / "SST-2" / "train.tsv"
    header, *lines = train.read_text().splitlines(keepends=True)
    train.write_text(header + "".join(reversed(lines)))          # shuffled in place: 400 rows still
    with pytest.raises(SystemExit, match=r"train\.npy .*made from another .*train\.tsv"):
        distill.main(student_args(toy, toy / "s", "", "", toy / "train.npy"))
    assert not (toy / "s" / "student.pt").exists()
