"""Tests of distill.py on a toy task written into a temporary DATA_DIR: Eq. 1 against a hand
computation, the metrics against hand-made confusion matrices, the teacher's cached logits
surviving an interruption, and students that learn."""
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import data
import distill
import models

POSITIVE, NEGATIVE, FILLER = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "dull"], ["the", "movie", "was", "a", "film", "plot"]


def toy_sentences(n, rng):
    texts, labels = [], []
    for _ in range(n):
        y = int(rng.integers(2))
        words = list(rng.choice(FILLER, int(rng.integers(1, 6)))) + [rng.choice(POSITIVE if y else NEGATIVE)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    return texts, labels


@pytest.fixture
def toy(tmp_path):
    """A toy SST-2: a sentence is positive when it holds a positive word.  With 8-d word vectors
    and a tiny random BERT as teacher."""
    rng = np.random.default_rng(0)
    g = tmp_path / "glue" / "SST-2"
    g.mkdir(parents=True)
    for split, n in (("train", 400), ("dev", 100)):
        texts, labels = toy_sentences(n, rng)
        (g / f"{split}.tsv").write_text("sentence\tlabel\n" + "".join(f"{t} \t{y}\n" for t, y in zip(texts, labels)))
    texts, _ = toy_sentences(30, rng)
    (g / "test.tsv").write_text("index\tsentence\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(texts)))
    words = POSITIVE + NEGATIVE + FILLER
    (tmp_path / "vectors").mkdir()
    (tmp_path / "vectors" / "glove.6B.50d.txt").write_text(
        "".join(w + " " + " ".join(f"{x:.3f}" for x in rng.normal(0, 1, 8)) + "\n" for w in words))
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n")
    cfg = {"vocab_size": len(words) + 5, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 32, "max_position_embeddings": 32, "type_vocab_size": 2}
    (teacher / "config.json").write_text(json.dumps(cfg))
    torch.manual_seed(0)
    torch.save(models.Bert(cfg).state_dict(), teacher / "teacher.pt")
    return tmp_path


# --- Eq. 1 and the metrics against hand computations -------------------------------------------

@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_loss_is_eq1(alpha):
    s = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    t = torch.tensor([[3.0, -2.0], [0.0, 1.0]])
    y = torch.tensor([0, 0])
    mse = ((1 - 3) ** 2 + (-1 + 2) ** 2 + (0.5 - 0) ** 2 + (2 - 1) ** 2) / 4
    ce = (-math.log(math.exp(1) / (math.exp(1) + math.exp(-1)))
          - math.log(math.exp(0.5) / (math.exp(0.5) + math.exp(2)))) / 2
    assert distill.distill_loss(s, t, y, alpha).item() == pytest.approx(alpha * ce + (1 - alpha) * mse, rel=1e-6)


def test_kl_loss_is_hinton():
    s, t, T = torch.tensor([[1.0, -1.0, 0.0]]), torch.tensor([[2.0, 0.0, -1.0]]), 2.0
    p = np.exp(t.numpy()[0] / T) / np.exp(t.numpy()[0] / T).sum()
    q = np.exp(s.numpy()[0] / T) / np.exp(s.numpy()[0] / T).sum()
    expected = T * T * float((p * np.log(p / q)).sum())
    assert distill.distill_loss(s, t, None, 0.0, "kl", T).item() == pytest.approx(expected, rel=1e-5)


def test_metrics_against_confusion_matrices():
    # gold:  1 1 1 1 0 0 0 ;  predicted: 1 1 0 0 1 0 0  -> tp 2, fn 2, fp 1, tn 2
    m = distill.metrics("mrpc", [1, 1, 0, 0, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0])
    assert m["confusion"] == [[2, 1], [2, 2]]
    assert m["acc"] == pytest.approx(4 / 7) and m["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
    m = distill.metrics("mnli", [0, 1, 2, 2, 1], [0, 1, 2, 1, 0])
    assert m["confusion"] == [[1, 1, 0], [0, 1, 1], [0, 0, 1]] and m["acc"] == pytest.approx(3 / 5)
    assert "f1" not in m and distill.metrics("qqp", [0, 0], [0, 0])["f1"] == 0.0


# --- the teacher's logits, interrupted and resumed ---------------------------------------------

def test_logits_resume_gives_identical_file(toy, monkeypatch):
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--batch-size", "16", "--no-bf16"]
    distill.main(args + ["--out", str(toy / "whole.npy")])
    calls = {"n": 0}
    real_update = data.Progress.update

    def interrupt_after_some(self, k=1):
        calls["n"] += 1
        if calls["n"] == 23:
            raise KeyboardInterrupt
        real_update(self, k)
    monkeypatch.setattr(data.Progress, "update", interrupt_after_some)
    with pytest.raises(KeyboardInterrupt):
        distill.main(args + ["--out", str(toy / "resumed.npy")])
    assert not (toy / "resumed.npy").exists() and (toy / "resumed.npy.done_batches").read_text().split()[0] == "20"
    monkeypatch.setattr(data.Progress, "update", real_update)
    distill.main(args + ["--out", str(toy / "resumed.npy")])
    whole, resumed = np.load(toy / "whole.npy"), np.load(toy / "resumed.npy")
    assert whole.shape == (400, 2) and np.array_equal(whole, resumed)
    summary = json.loads((toy / "resumed.json").read_text())
    assert summary["rows"] == 400 and "command" in summary and summary["config"]["batch_size"] == 16


def test_teacher_learns_toy_task(toy):
    distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
                  "--out", str(toy / "tuned"), "--epochs", "6", "--lr", "5e-3", "--batch-size", "16",
                  "--evals-per-epoch", "1", "--no-bf16"])
    m = json.loads((toy / "tuned" / "metrics.json").read_text())
    assert len(m["history"]) == 6 and m["dev"]["dev"]["acc"] > 0.9
    assert m["config"]["lr"] == 5e-3 and (toy / "tuned" / "teacher.pt").exists()
    model, vocab = models.load_teacher(str(toy / "tuned"), 2)       # the saved teacher loads back
    assert vocab == toy / "tuned" / "vocab.txt"


# --- students ----------------------------------------------------------------------------------

def toy_teacher_logits(toy, split):
    """A perfect toy teacher: +2 / -2 logits from the gold label."""
    labels = np.array(data.load_split("sst2", split, toy).label)
    return np.stack([-2.0 * (2 * labels - 1), 2.0 * (2 * labels - 1)], 1).astype(np.float32)


def test_student_learns_and_resumes(toy):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    (toy / "aug.tsv").write_text("sentence\tlabel\tsource_row\nthe [MASK] good\t1\t0\nawful\t0\t1\n")
    np.save(toy / "aug.npy", np.array([[-2, 2], [2, -2]], dtype=np.float32))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", str(toy / "aug.tsv"), "--augmented-logits", str(toy / "aug.npy"),
              "--optimizer", "adam", "--lr", "0.01", "--hidden", "8", "--fc", "8", "--batch-size", "16",
              "--evals-per-epoch", "2", "--patience", "100"]
    distill.main(common + ["--epochs", "4", "--out", str(toy / "s")])
    m = json.loads((toy / "s" / "metrics.json").read_text())
    losses = [c["train_loss"] for c in m["curve"]]
    assert losses[-1] < 0.5 * losses[0] and m["dev"]["dev"]["acc"] > 0.9
    assert m["train_examples"] == 402 and m["config"]["alpha"] == 0.0



def test_student_interrupted_and_resumed_is_the_same_student(toy, monkeypatch):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", "", "--hidden", "8", "--fc", "8", "--batch-size", "16", "--epochs", "2",
              "--evals-per-epoch", "3", "--dropout", "0.3"]
    distill.main(common + ["--out", str(toy / "whole")])
    calls = {"n": 0}
    real_update = data.Progress.update

    def interrupt(self, k=1):
        calls["n"] += 1
        if calls["n"] == 33:                 # in the second epoch, between two evaluations
            raise KeyboardInterrupt
        real_update(self, k)
    monkeypatch.setattr(data.Progress, "update", interrupt)
    with pytest.raises(KeyboardInterrupt):
        distill.main(common + ["--out", str(toy / "resumed")])
    assert (toy / "resumed" / "last.pt").exists() and not (toy / "resumed" / "metrics.json").exists()
    monkeypatch.setattr(data.Progress, "update", real_update)
    distill.main(common + ["--out", str(toy / "resumed")])
    whole = torch.load(toy / "whole" / "student.pt")
    resumed = torch.load(toy / "resumed" / "student.pt")
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)
    curves = [json.loads((toy / r / "metrics.json").read_text())["curve"] for r in ("whole", "resumed")]
    assert len(curves[0]) == 6, curves[0]             # 3 evaluations in each of 2 epochs
    for a, b in zip(*curves):
        assert a == b, (a, b)


def test_eval_errors_submission_and_predict(toy, capsys):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
                  "--augmented", "", "--optimizer", "adam", "--lr", "0.01", "--hidden", "8", "--fc", "8",
                  "--batch-size", "16", "--epochs", "3", "--out", str(toy / "s")])
    distill.main(["eval", "--run", str(toy / "s"), "--errors", "5", "--teacher-dir", str(toy / "teacher"),
                  "--submit", str(toy / "glue_out")])
    report = json.loads((toy / "s" / "eval.json").read_text())
    best = json.loads((toy / "s" / "metrics.json").read_text())
    assert report["dev"]["acc"] == best["dev"]["dev"]["acc"]          # eval agrees with training
    lines = (toy / "glue_out" / "SST-2.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction" and len(lines) == 31
    assert all(l.split("\t")[1] in ("0", "1") for l in lines[1:])
    errors = (toy / "s" / "errors_dev.tsv").read_text().splitlines()
    assert errors[0] == "gold\tteacher\tstudent\ttext_a"
    assert all(r.split("\t")[0] != r.split("\t")[2] for r in errors[1:])
    capsys.readouterr()
    distill.main(["predict", "--run", str(toy / "s"), "a great film", "the awful plot"])
    out = capsys.readouterr().out.splitlines()
    assert [l.split("\t")[0] for l in out] == ["1", "0"]
    # a student saved by the packed nn.LSTM(bidirectional=True) of earlier versions still loads
    def old_name(key):
        if key.startswith("forward_lstm."):
            return "lstm." + key.removeprefix("forward_lstm.")
        if key.startswith("backward_lstm."):
            return "lstm." + key.removeprefix("backward_lstm.") + "_reverse"
        return key
    old = {old_name(k): v for k, v in torch.load(toy / "s" / "student.pt").items()}
    assert {k for k in old if k.startswith("lstm.")} == \
        {"lstm." + k for k in torch.nn.LSTM(1, 1, bidirectional=True).state_dict()}
    torch.save(old, toy / "s" / "student.pt")
    distill.main(["predict", "--run", str(toy / "s"), "a great film", "the awful plot"])
    assert capsys.readouterr().out.splitlines() == out


# --- torchrun: two CPU processes (gloo) give the files of one ----------------------------------

REPO = Path(__file__).resolve().parent.parent


def launch(args, processes=1):
    """distill.py in fresh interpreters with one thread each (so that no result depends on how
    threads split a matrix product): one process, or `processes` under torchrun."""
    launcher = [sys.executable] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.Popen(launcher + [str(REPO / "distill.py")] + args, cwd=REPO, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(process):
    """The output of a run that must succeed; if it failed, its first error line leads the message."""
    output = process.communicate(timeout=300)[0]
    if process.returncode != 0:
        errors = [line for line in output.splitlines() if line.split(":")[0].endswith("Error")]
        raise AssertionError(f"{errors[0] if errors else 'failed'}\n{output}")
    return output


def worker(launcher_pid, rank):
    """The pid of torchrun's worker of that rank (read from /proc: its parent and its RANK)."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = int(next(l for l in status.read_text().splitlines() if l.startswith("PPid:")).split()[1])
            environ = (status.parent / "environ").read_bytes().split(b"\0")
        except (OSError, StopIteration):
            continue
        if ppid == launcher_pid and f"RANK={rank}".encode() in environ:
            return int(status.parent.name)


def test_logits_under_torchrun_equal_one_process_even_after_a_rank_dies(toy):
    texts, _ = toy_sentences(8000, np.random.default_rng(1))
    (toy / "many.tsv").write_text("sentence\n" + "".join(t + "\n" for t in texts))
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--input", str(toy / "many.tsv"), "--batch-size", "4", "--no-bf16"]
    finish(launch(args + ["--out", str(toy / "one.npy")]))

    # Kill rank 1 once it has 20 batches on disk; torchrun then stops rank 0 and fails.
    out = toy / "two.npy"
    job = launch(args + ["--out", str(out)], processes=2)
    progress = Path(f"{out}.rank1of2.npy.done_batches")

    def batches_done():          # the file is empty for a moment while it is rewritten
        return int((progress.read_text().split() or ["0"])[0])
    while not (progress.exists() and batches_done() >= 20):
        assert job.poll() is None, job.communicate()[0]
        time.sleep(0.01)
    os.kill(worker(job.pid, 1), 9)
    assert job.wait(timeout=120) != 0 and not out.exists()
    assert batches_done() < 1000 and not Path(f"{out}.rank1of2.npy").exists()   # of rank 1's 1,000 batches
    log = finish(launch(args + ["--out", str(out)], processes=2))  # the same command again
    assert "resuming" in log and not list(toy.glob("two.npy.rank*"))
    one, two = np.load(toy / "one.npy"), np.load(out)
    assert one.shape == (8000, 2) and np.array_equal(one, two)
    assert json.loads((toy / "two.json").read_text())["processes"] == 2

    # Shards of a 2-process run are not silently mixed into a 1-process run.
    (toy / "three.npy.rank0of2.npy").write_bytes(b"")
    job = launch(args + ["--out", str(toy / "three.npy")])
    assert job.wait(timeout=120) != 0 and "another number of processes" in job.communicate()[0]


def test_ddp_student_takes_the_steps_of_one_process(toy):
    """Two ranks with 8 + 8 rows of each global batch of 16 (and 2 + 1 of the last one, of 3)
    against one process with batches of 16.  Adadelta and no dropout: the update is a smooth
    function of the gradient, so the two may differ only by float rounding."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    args = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
            "--augmented", "", "--limit", "99", "--hidden", "8", "--fc", "8", "--batch-size", "16",
            "--epochs", "1", "--evals-per-epoch", "1", "--dropout", "0", "--optimizer", "adadelta"]
    finish(launch(args + ["--out", str(toy / "one")]))
    finish(launch(args + ["--out", str(toy / "two")], processes=2))
    one, two = (torch.load(toy / r / "student.pt") for r in ("one", "two"))
    assert all(torch.allclose(one[k], two[k], atol=1e-5, rtol=0) for k in one), \
        max((one[k] - two[k]).abs().max().item() for k in one)
    runs = [json.loads((toy / r / "metrics.json").read_text()) for r in ("one", "two")]
    assert runs[0]["curve"][0]["step"] == runs[1]["curve"][0]["step"] == 7
    assert runs[0]["dev"] == runs[1]["dev"]
