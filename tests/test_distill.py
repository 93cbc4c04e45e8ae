"""Tests of distill.py on a toy task written into a temporary DATA_DIR: Eq. 1 against a hand
computation, the metrics against hand-made confusion matrices, the teacher's cached logits
surviving an interruption, and students that learn."""
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import data
import distill
from machinery import files
import models
from conftest import interrupted, raised, toy_teacher_logits

# --- Eq. 1 and the metrics against hand computations -------------------------------------------

# Each graded test calls the student's code only inside produce(...) (tests/conftest.py): the
# expected values are computed after it, from the inputs, so that the grader can check the
# outputs outside the sandbox the student's code ran in.

@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_loss_is_eq1(alpha, produce):
    s = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    t = torch.tensor([[3.0, -2.0], [0.0, 1.0]])
    y = torch.tensor([0, 0])
    got = produce(lambda: distill.distill_loss(s, t, y, alpha).item())
    # ||z_teacher - z_student||^2 summed over the classes, averaged over the batch of 2
    squared = (((1 - 3) ** 2 + (-1 + 2) ** 2) + ((0.5 - 0) ** 2 + (2 - 1) ** 2)) / 2
    ce = (-math.log(math.exp(1) / (math.exp(1) + math.exp(-1)))
          - math.log(math.exp(0.5) / (math.exp(0.5) + math.exp(2)))) / 2
    assert got == pytest.approx(alpha * ce + (1 - alpha) * squared, rel=1e-6)


def test_kl_loss_is_hinton(produce):
    s = torch.tensor([[1.0, -1.0, 0.0], [0.5, 2.0, -0.5]])
    t, T = torch.tensor([[2.0, 0.0, -1.0], [-1.0, 1.0, 3.0]]), 2.0
    got = produce(lambda: distill.distill_loss(s, t, None, 0.0, "kl", T).item())
    p = np.exp(t.numpy() / T) / np.exp(t.numpy() / T).sum(1, keepdims=True)
    q = np.exp(s.numpy() / T) / np.exp(s.numpy() / T).sum(1, keepdims=True)
    # summed over the classes, averaged over the batch of 2: a sum over the batch is twice this
    assert got == pytest.approx(T * T * float((p * np.log(p / q)).sum(1).mean()), rel=1e-5)


def test_transfer_set(produce):
    vocab = data.Vocab(["good", "film", "bad", "plot"])
    first, second = data.Words([["good", "film"], ["bad"]], vocab), data.Words([["plot"], ["film", "bad"]], vocab)
    aug_first = data.Words([["[MASK]", "film"], ["bad", "plot", "good"], ["good"]], vocab)
    aug_second = data.Words([["plot"], ["film"], ["bad"]], vocab)
    logits = np.array([[-1.0, 2.0], [3.0, -3.0]], np.float32)       # the teacher disagrees with gold
    aug_logits = np.array([[0.5, -0.5], [-0.2, 0.1], [1.0, 0.0]], np.float32)

    def rows(words):
        ids, lengths = words.batch(list(range(len(words.lengths))))
        return [ids[i, :n].tolist() for i, n in enumerate(lengths)]

    def outputs():
        columns, labels, z = distill.transfer_set([first, second], [0, 1], logits, [aug_first, aug_second],
                                                  aug_logits)
        base_columns, base_labels, base_z = distill.transfer_set([first, second], [0, 1], None)
        return {"columns": [rows(c) for c in columns], "labels": list(labels), "z": z,
                "baseline": [[rows(c) for c in base_columns], list(base_labels), base_z],
                "mismatch": raised(lambda: distill.transfer_set([first, second], [0, 1], logits,
                                                                [aug_first, aug_second], aug_logits[:2]))}
    got = produce(outputs)
    assert got["columns"] == [rows(first) + rows(aug_first), rows(second) + rows(aug_second)]
    assert got["labels"] == [0, 1, 0, 1, 0]              # gold labels, then the teacher's argmax
    np.testing.assert_array_equal(got["z"], np.concatenate([logits, aug_logits]))
    assert got["baseline"] == [[rows(first), rows(second)], [0, 1], None]
    assert got["mismatch"] is not None and got["mismatch"].startswith("ValueError")
    assert re.search(r"\b3\b.*\b2\b|\b2\b.*\b3\b", got["mismatch"])      # both counts named


def test_metrics_against_confusion_matrices(produce):
    got = produce(lambda: [distill.metrics("mrpc", [1, 1, 0, 0, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0]),
                           distill.metrics("mnli", [0, 1, 2, 2, 1], [0, 1, 2, 1, 0]),
                           distill.metrics("qqp", [0, 0], [0, 0])])
    mrpc, mnli, qqp = got
    # gold:  1 1 1 1 0 0 0 ;  predicted: 1 1 0 0 1 0 0  -> tp 2, fn 2, fp 1, tn 2
    assert mrpc["confusion"] == [[2, 1], [2, 2]]
    assert mrpc["acc"] == pytest.approx(4 / 7) and mrpc["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
    assert mnli["confusion"] == [[1, 1, 0], [0, 1, 1], [0, 0, 1]] and mnli["acc"] == pytest.approx(3 / 5)
    assert "f1" not in mnli and qqp["f1"] == 0.0


# --- the teacher's logits, interrupted and resumed ---------------------------------------------

def killed(call):
    """True when call() stopped with KeyboardInterrupt, False when it returned: a producer's
    pytest.raises(KeyboardInterrupt), which conftest's raised() lets through."""
    try:
        call()
    except KeyboardInterrupt:
        return True
    return False


def test_logits_resume_gives_identical_file(toy, monkeypatch, produce):
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--batch-size", "16", "--no-bf16"]

    def outputs():
        distill.main(args + ["--out", str(toy / "whole.npy")])
        restore = interrupted(monkeypatch, 23)
        stopped = killed(lambda: distill.main(args + ["--out", str(toy / "resumed.npy")]))
        restore()
        got = {"killed": stopped, "finished": (toy / "resumed.npy").exists(),
               "done_batches": (toy / "resumed.npy.done_batches").read_text().split()[0]}
        distill.main(args + ["--out", str(toy / "resumed.npy")])
        return {**got, "whole": np.load(toy / "whole.npy"), "resumed": np.load(toy / "resumed.npy"),
                "summary": json.loads((toy / "resumed.json").read_text())}
    got = produce(outputs)
    assert got["killed"] and not got["finished"] and got["done_batches"] == "20"
    whole, resumed = got["whole"], got["resumed"]
    assert whole.shape == (400, 2) and np.array_equal(whole, resumed)
    summary = got["summary"]
    assert summary["rows"] == 400 and "command" in summary and summary["config"]["batch_size"] == 16


def dev_accuracy(predictions, toy):
    """The accuracy of predicted labels on the toy dev split, counted here (not by distill.metrics)."""
    gold = np.array(data.load_split("sst2", "dev", toy).label)
    assert predictions.shape == gold.shape, (predictions.shape, gold.shape)
    return float((predictions == gold).mean())


def test_teacher_learns_toy_task(toy, produce):
    def outputs():
        distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
                      "--out", str(toy / "tuned"), "--epochs", "6", "--lr", "5e-3", "--batch-size", "16",
                      "--evals-per-epoch", "1", "--no-bf16"])
        model, wordpiece = distill.load_teacher(str(toy / "tuned"), 2)   # the saved teacher loads back
        dev = data.teacher_texts(data.load_split("sst2", "dev", toy), "sst2")
        logits, _ = distill.teacher_logits(model, wordpiece, dev, batch_size=16, max_len=128,
                                           bf16=False, device=torch.device("cpu"))
        return {"metrics": json.loads((toy / "tuned" / "metrics.json").read_text()),
                "saved": (toy / "tuned" / "teacher.pt").exists(), "vocab": os.path.relpath(wordpiece.path, toy),
                "dev_predictions": logits.argmax(1)}
    got = produce(outputs)
    m = got["metrics"]
    assert len(m["history"]) == 6 and m["dev"]["dev"]["acc"] > 0.9
    assert m["config"]["lr"] == 5e-3 and got["saved"]
    assert got["vocab"] == os.path.join("tuned", "vocab.txt")
    accuracy = dev_accuracy(got["dev_predictions"], toy)           # of the saved teacher, counted here
    assert accuracy > 0.9 and m["dev"]["dev"]["acc"] == pytest.approx(accuracy)


# --- students ----------------------------------------------------------------------------------

def student_dev_predictions(run, toy):
    """The predicted labels of a run's saved student on the toy dev split (its forward pass is an
    exercise: call it inside a producer)."""
    model, vocab, _ = distill.load_student(run)
    columns = data.words_of(data.load_split("sst2", "dev", toy), "sst2", vocab)
    return distill.predict_student(model, columns, torch.device("cpu")).argmax(1)


def test_student_learns(toy, produce):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    (toy / "aug.tsv").write_text("sentence\tlabel\tsource_row\nthe [MASK] good\t1\t0\nawful\t0\t1\n")
    np.save(toy / "aug.npy", np.array([[-2, 2], [2, -2]], dtype=np.float32))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", str(toy / "aug.tsv"), "--augmented-logits", str(toy / "aug.npy"),
              "--optimizer", "adam", "--lr", "0.01", "--hidden", "8", "--fc", "8", "--batch-size", "16",
              "--evals-per-epoch", "2", "--patience", "100"]

    def outputs():
        distill.main(common + ["--epochs", "4", "--out", str(toy / "s")])
        return {"metrics": json.loads((toy / "s" / "metrics.json").read_text()),
                "dev_predictions": student_dev_predictions(toy / "s", toy)}
    got = produce(outputs)
    m = got["metrics"]
    losses = [c["train_loss"] for c in m["curve"]]
    assert losses[-1] < 0.5 * losses[0] and m["dev"]["dev"]["acc"] > 0.9
    assert m["train_examples"] == 402 and m["config"]["alpha"] == 0.0
    accuracy = dev_accuracy(got["dev_predictions"], toy)           # of the saved student, counted here
    assert accuracy > 0.9 and m["dev"]["dev"]["acc"] == pytest.approx(accuracy)


def test_student_interrupted_and_resumed_is_the_same_student(toy, monkeypatch, produce):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", "", "--hidden", "8", "--fc", "8", "--batch-size", "16", "--epochs", "2",
              "--evals-per-epoch", "3", "--dropout", "0.3"]

    def outputs():
        distill.main(common + ["--out", str(toy / "whole")])
        restore = interrupted(monkeypatch, 33)          # in the second epoch, between two evaluations
        stopped = killed(lambda: distill.main(common + ["--out", str(toy / "resumed")]))
        restore()
        got = {"killed": stopped, "checkpoint": (toy / "resumed" / "last.pt").exists(),
               "finished": (toy / "resumed" / "metrics.json").exists()}
        distill.main(common + ["--out", str(toy / "resumed")])
        return {**got, "students": [torch.load(toy / r / "student.pt") for r in ("whole", "resumed")],
                "curves": [json.loads((toy / r / "metrics.json").read_text())["curve"] for r in ("whole", "resumed")]}
    got = produce(outputs)
    assert got["killed"] and got["checkpoint"] and not got["finished"]
    whole, resumed = got["students"]
    assert whole.keys() == resumed.keys() and all(np.array_equal(whole[k], resumed[k]) for k in whole)
    curves = got["curves"]
    assert len(curves[0]) == 6 and len(curves[1]) == 6, curves      # 3 evaluations in each of 2 epochs
    for a, b in zip(*curves):
        assert a == b, (a, b)


def test_eval_errors_submission_and_predict(toy, capsys, produce):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))

    def outputs():
        distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
                      "--augmented", "", "--optimizer", "adam", "--lr", "0.01", "--hidden", "8", "--fc", "8",
                      "--batch-size", "16", "--epochs", "3", "--out", str(toy / "s")])
        distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--no-distill", "--hidden", "8",
                      "--fc", "8", "--epochs", "1", "--out", str(toy / "b")])
        distill.main(["eval", "--run", str(toy / "s"), str(toy / "b"), "--data-dir", str(toy), "--errors", "5",
                      "--teacher-dir", str(toy / "teacher"), "--submit", str(toy / "glue_out")])
        got = {"eval": {run: json.loads((toy / run / "eval.json").read_text()) for run in ("s", "b")},
               "trained": {run: json.loads((toy / run / "metrics.json").read_text()) for run in ("s", "b")},
               "dev_predictions": {run: student_dev_predictions(toy / run, toy) for run in ("s", "b")},
               "glue": {name: (toy / "glue_out" / name / "SST-2.tsv").read_text().splitlines()
                        for name in ("s", "b", "teacher")}}
        teacher, wordpiece = distill.load_teacher(str(toy / "teacher"), 2)

        def teacher_predictions(split):                 # with the settings eval gives the teacher
            texts = data.teacher_texts(data.load_split("sst2", split, toy), "sst2")
            return distill.teacher_logits(teacher, wordpiece, texts, batch_size=128, max_len=128,
                                          bf16=True, device=torch.device("cpu"))[0].argmax(1)
        got["teacher"] = {split: teacher_predictions(split) for split in ("dev", "test")}
        got["same_names"] = raised(lambda: distill.main(["eval", "--run", str(toy / "s"), str(toy / "s")]))
        got["errors"] = (toy / "s" / "errors_dev.tsv").read_text().splitlines()
        capsys.readouterr()
        distill.main(["predict", "--run", str(toy / "s"), "a great film", "the awful plot"])
        return {**got, "predicted": capsys.readouterr().out.splitlines()}
    got = produce(outputs)
    for run in ("s", "b"):                                            # eval agrees with training
        report = got["eval"][run]
        assert report["dev"]["acc"] == got["trained"][run]["dev"]["dev"]["acc"]
        assert report["dev"]["acc"] == pytest.approx(dev_accuracy(got["dev_predictions"][run], toy))    # and here
    for name in ("s", "b", "teacher"):                                # every model's GLUE file
        lines = got["glue"][name]
        assert lines[0] == "index\tprediction" and len(lines) == 31
        assert all(l.split("\t")[1] in ("0", "1") for l in lines[1:])
    assert [int(l.split("\t")[1]) for l in lines[1:]] == got["teacher"]["test"].tolist()
    assert got["same_names"] is not None and got["same_names"].startswith("ValueError")
    assert re.search("folders of different names", got["same_names"])
    errors = got["errors"]
    assert errors[0] == "gold\tteacher\tstudent\ttext_a"
    assert all(r.split("\t")[0] != r.split("\t")[2] for r in errors[1:])
    # the first 5 dev examples the student gets wrong, with the teacher's answers beside them
    dev, labels = data.load_split("sst2", "dev", toy), data.TASKS["sst2"].labels
    student, teacher = got["dev_predictions"]["s"], got["teacher"]["dev"]
    wrong = [i for i in range(len(dev)) if student[i] != dev.label[i]][:5]
    assert errors[1:] == ["\t".join([labels[dev.label[i]], labels[teacher[i]], labels[student[i]], dev.text_a[i]])
                          for i in wrong]
    assert [l.split("\t")[0] for l in got["predicted"]] == ["1", "0"]


# --- outputs know what made them: kills, reruns with other settings, stale files ----------------

def test_resumed_logits_with_another_batch_size_or_teacher_start_afresh(toy, monkeypatch, capsys):
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--no-bf16"]
    teacher = ["--teacher-dir", str(toy / "teacher")]
    distill.main(args + teacher + ["--batch-size", "16", "--out", str(toy / "whole16.npy")])
    restore = interrupted(monkeypatch, 23)
    with pytest.raises(KeyboardInterrupt):
        distill.main(args + teacher + ["--batch-size", "4", "--out", str(toy / "l.npy")])
    restore()
    capsys.readouterr()
    distill.main(args + teacher + ["--batch-size", "16", "--out", str(toy / "l.npy")])
    assert "batch_size: 4 -> 16" in capsys.readouterr().err
    result = np.load(toy / "l.npy")
    assert (np.abs(result).sum(1) > 0).all() and np.array_equal(result, np.load(toy / "whole16.npy"))
    # another teacher: the finished file is made again, not reused
    other = toy / "other_teacher"
    other.mkdir()
    for name in ("vocab.txt", "config.json"):
        (other / name).write_text((toy / "teacher" / name).read_text())
    torch.manual_seed(1)
    torch.save(models.Bert(json.loads((toy / "teacher" / "config.json").read_text())).state_dict(), other / "teacher.pt")
    distill.main(args + ["--teacher-dir", str(other), "--batch-size", "16", "--out", str(toy / "l.npy")])
    assert "teacher_dir changed" in capsys.readouterr().err
    assert not np.array_equal(np.load(toy / "l.npy"), result)


def test_changed_input_remakes_logits_and_mismatched_rows_are_named(toy, capsys):
    aug = toy / "aug.tsv"
    aug.write_text("sentence\tlabel\tsource_row\nthe good\t1\t0\nawful plot\t0\t1\n")
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--input", str(aug), "--no-bf16", "--out", str(toy / "aug.npy")]
    distill.main(args)
    distill.main(args)
    assert "nothing to do" in capsys.readouterr().out
    aug.write_text("sentence\tlabel\tsource_row\nthe good\t1\t0\nawful plot\t0\t1\nnice\t1\t2\n")
    distill.main(args)                                   # the input changed: made again, 3 rows
    assert np.load(toy / "aug.npy").shape == (3, 2)
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train")[:-1])     # one row short
    with pytest.raises(SystemExit, match=r"train.npy holds 399 rows but .*train.tsv has 400 examples"):
        distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
                      "--augmented", str(aug), "--augmented-logits", str(toy / "aug.npy"), "--out", str(toy / "s")])


def test_crafted_last_pt_runs_nothing_and_changed_lr_starts_afresh(toy, monkeypatch, capsys):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", "", "--optimizer", "adam", "--hidden", "8", "--fc", "8", "--batch-size", "16",
              "--epochs", "2", "--evals-per-epoch", "3"]
    distill.main(common + ["--lr", "0.01", "--out", str(toy / "whole")])
    restore = interrupted(monkeypatch, 12)             # after the first evaluation
    with pytest.raises(KeyboardInterrupt):
        distill.main(common + ["--lr", "0.001", "--out", str(toy / "s")])
    restore()
    capsys.readouterr()
    distill.main(common + ["--lr", "0.01", "--out", str(toy / "s")])
    assert "lr: 0.001 -> 0.01" in capsys.readouterr().err
    whole, resumed = (torch.load(toy / r / "student.pt", weights_only=True) for r in ("whole", "s"))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)

    class Payload:                       # what a crafted pickle does when it is loaded
        def __reduce__(self):
            return (os.system, (f"touch {toy / 'pwned'}",))
    torch.save({"model": Payload()}, toy / "s" / "last.pt")
    (toy / "s" / "metrics.json").unlink()
    with pytest.raises(SystemExit, match="last.pt is no checkpoint of ours: refused to unpickle"):
        distill.main(common + ["--lr", "0.01", "--out", str(toy / "s")])
    assert not (toy / "pwned").exists()


def test_teacher_killed_and_rerun_is_the_same_teacher(toy, monkeypatch, capsys):
    common = ["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
              "--epochs", "2", "--lr", "5e-3", "--batch-size", "16", "--evals-per-epoch", "2", "--no-bf16",
              "--limit", "200"]
    distill.main(common + ["--out", str(toy / "whole")])
    restore = interrupted(monkeypatch, 42)               # in the second epoch, after 3 evaluations
    with pytest.raises(KeyboardInterrupt):
        distill.main(common + ["--out", str(toy / "t")])
    restore()
    assert (toy / "t" / "last.pt").exists() and not (toy / "t" / "metrics.json").exists()
    distill.main(common + ["--out", str(toy / "t")])
    whole, resumed = (torch.load(toy / r / "teacher.pt", weights_only=True) for r in ("whole", "t"))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    histories = [json.loads((toy / r / "metrics.json").read_text())["history"] for r in ("whole", "t")]
    assert len(histories[0]) == 4 and histories[0] == histories[1]
    capsys.readouterr()
    restore = interrupted(monkeypatch, 42)
    with pytest.raises(KeyboardInterrupt):
        distill.main(common + ["--out", str(toy / "u")])
    restore()
    distill.main(common[:-1] + ["150", "--out", str(toy / "u")])     # another --limit: not merged
    assert "limit: 200 -> 150" in capsys.readouterr().err
    assert json.loads((toy / "u" / "metrics.json").read_text())["config"]["limit"] == 150


def test_unwritable_out_fails_before_training_and_eval_finds_its_own_teacher(toy, capsys):
    (toy / "a_file").write_text("")
    with pytest.raises(SystemExit, match="cannot write into"):
        distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
                      "--out", str(toy / "a_file" / "t")])
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    run = toy / "runs" / "sst2"
    distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
                  "--augmented", "", "--hidden", "8", "--fc", "8", "--epochs", "1", "--out", str(run / "student")])
    distill.main(["eval", "--run", str(run / "student"), "--data-dir", str(toy)])    # no teacher beside it
    assert "teacher_dev" not in json.loads((run / "student" / "eval.json").read_text())
    (run / "teacher").mkdir()
    for name in ("vocab.txt", "config.json", "teacher.pt"):
        (run / "teacher" / name).write_bytes((toy / "teacher" / name).read_bytes())
    distill.main(["eval", "--run", str(run / "student"), "--data-dir", str(toy)])    # its teacher beside it
    assert "teacher_dev" in json.loads((run / "student" / "eval.json").read_text())
    (run / "student" / "metrics.json").unlink()                     # as if killed before the end
    capsys.readouterr()
    distill.main(["eval", "--run", str(run / "student"), "--data-dir", str(toy)])
    assert "has not finished training" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="non-empty sentences"):
        distill.main(["predict", "--run", str(run / "student"), ""])
