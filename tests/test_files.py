"""Tests of files.py: where the data is found, downloads (faked: no network here), atomic
writes, provenance; one writer per output, records that vouch for their outputs, the code as an
input, and random kills across a small chain."""
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
import zipfile

import numpy as np
import pytest
import torch

import data
import distill
from machinery import files
from conftest import finish, holder_of, interrupted, launch, logits_args, toy_sentences, toy_teacher_logits

def test_failed_download_says_what_is_missing(tmp_path, monkeypatch):
    def offline(url, dest):
        raise OSError(f"no network for {url}")
    monkeypatch.setattr(files, "download", offline)
    with pytest.raises(files.MissingDataError, match=r"download failed \(no network for https://dl.fbaipublicfiles"):
        data.load_split("sst2", "train", tmp_path)


def test_download_unzips_into_place(tmp_path, monkeypatch):
    """The download path with a fake fetch: the zip lands, unpacks into glue/SST-2, is removed."""
    def fake_download(url, dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w") as z:
            z.writestr("SST-2/train.tsv", "sentence\tlabel\nfine film \t1\n")
        return dest
    monkeypatch.setattr(files, "download", fake_download)
    s = data.load_split("sst2", "train", tmp_path)
    assert s.text_a == ["fine film"] and not (tmp_path / "glue" / "SST-2.zip").exists()


MRPC_HEAD = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
FAKE_FILES = {"SST-2.zip": {"SST-2/train.tsv": "sentence\tlabel\nofficial row \t1\n",
                            "SST-2/dev.tsv": "sentence\tlabel\nofficial dev row \t0\n"},
              "msr_paraphrase_train.txt": MRPC_HEAD + "1\t1\t2\tofficial\trow\n0\t3\t4\tofficial dev row\tb\n",
              "msr_paraphrase_test.txt": MRPC_HEAD + "1\t5\t6\ta test\trow\n",
              "mrpc_dev_ids.tsv": "3\t4\n"}


@pytest.mark.parametrize("task", ["sst2", "mrpc"])
def test_download_never_writes_over_a_users_file(tmp_path, monkeypatch, capsys, task):
    """dev.tsv is missing, so the task's files are fetched (faked here): dev.tsv appears, and the
    train.tsv the user edited stays as it is."""
    def fake_download(url, dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        content = FAKE_FILES[dest.name]
        if dest.suffix == ".zip":
            with zipfile.ZipFile(dest, "w") as z:
                for name, text in content.items():
                    z.writestr(name, text)
        else:
            dest.write_text(content)
        return dest
    monkeypatch.setattr(files, "download", fake_download)
    edited = "sentence\tlabel\nmy own row\t1\n" if task == "sst2" else MRPC_HEAD + "0\t8\t9\tmy own\trow\n"
    train = tmp_path / "glue" / data.TASKS[task].name / "train.tsv"
    train.parent.mkdir(parents=True)
    train.write_text(edited)
    assert data.load_split(task, "dev", tmp_path).text_a == ["official dev row"]
    assert train.read_text() == edited
    assert f"{train} exists: kept" in capsys.readouterr().err
    made = {"dev.tsv", "train.tsv"} | ({"test.tsv"} if task == "mrpc" else set())
    assert {p.name for p in train.parent.iterdir()} == made             # nothing left behind


def test_vector_text_is_strict_utf8_and_a_broken_file_is_named(tmp_path):
    text = "good 0.5 1.0\nfilm 2 3\n"
    plain = tmp_path / "v.txt"
    plain.write_bytes(gzip.compress(text.encode()))                     # compressed, but named .txt
    with pytest.raises(ValueError, match=r"v.txt:1: not UTF-8 text: byte 0x8b at column 2 \(it starts with 1f 8b"):
        list(files.text_lines(plain))
    plain.write_bytes(b"good 0.5 1.0\ncaf\xe9 2 3\n")                     # Latin-1
    with pytest.raises(ValueError, match=r"v.txt:2: not UTF-8 text: byte 0xe9"):
        list(files.text_lines(plain))
    cut = tmp_path / "v.txt.gz"
    cut.write_bytes(gzip.compress(text.encode())[:-12])                 # a download cut short
    with pytest.raises(ValueError, match=rf"{cut}: cannot read past line \d+: Compressed file ended"):
        list(files.text_lines(cut))
    cut.write_bytes(gzip.compress(text.encode()))
    assert list(files.text_lines(cut)) == [(1, "good 0.5 1.0\n"), (2, "film 2 3\n")]


def test_data_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert files.find_data_dir("/x") == Path("/x")
    assert files.find_data_dir() == tmp_path
    monkeypatch.delenv("DATA_DIR")
    shared = files.HERE.parent / "shared" / "data"
    assert files.find_data_dir() == (shared if shared.is_dir() else files.HERE / "data")


def test_atomic_write_leaves_nothing_under_the_real_name_when_interrupted(tmp_path):
    with pytest.raises(RuntimeError):
        with files.atomic(tmp_path / "out.json") as part:
            part.write_text("half")
            raise RuntimeError("killed")
    assert not (tmp_path / "out.json").exists()
    files.save_json(tmp_path / "out.json", {"a": 1})
    assert files.read_json(tmp_path / "out.json") == {"a": 1} and not list(tmp_path.glob("*.part"))


def test_provenance_names_command_config_and_commit():
    import argparse
    p = files.provenance(argparse.Namespace(seed=3, func=print))
    assert p["config"] == {"seed": 3} and p["command"].startswith("python ")
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=files.HERE).stdout.strip()
    assert p["git_commit"] == head and p["peak_rss_mb"] > 0


# --- one writer per output ------------------------------------------------------------------------
# one writer per output.  Each writing step holds `<out>.lock` (files.lock)
# for its whole run: a second run on the same output stops at once naming the first's pid and
# command; a lock file left by a dead process is taken; under torchrun the workers die with their
# launcher and rank 0 holds the lock.  Every case runs real processes, as a user's would.

REPO = Path(__file__).resolve().parent.parent


def test_second_logits_on_one_out_stops_naming_the_first_which_ends_whole(toy):
    args = logits_args(toy)
    finish(launch("distill.py", args + ["--out", str(toy / "one.npy")]))      # unbroken
    out = toy / "l.npy"
    first = launch("distill.py", args + ["--out", str(out)])
    assert holder_of(Path(f"{out}.lock"), first) == first.pid
    os.kill(first.pid, signal.SIGSTOP)          # holds the lock, mid-step, for as long as we like
    try:
        second = launch("distill.py", args + ["--out", str(out)])
        said = second.communicate(timeout=120)[0]
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode != 0
    assert f"{out} is being written by pid {first.pid} (python " in said, said
    assert "distill.py logits" in said and "wait for it or stop it" in said
    finish(first)
    assert np.array_equal(np.load(out), np.load(toy / "one.npy"))
    assert json.loads((toy / "l.json").read_text())["rows"] == 3000


def test_two_teachers_in_one_folder_the_second_stops_and_the_first_finishes(toy):
    """Two `make` runs at once in one folder: the second stops with the message, not with
    `No such file or directory: teacher.pt.part` when the first renamed it away."""
    args = ["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
            "--epochs", "2", "--lr", "5e-3", "--batch-size", "16", "--no-bf16", "--out", str(toy / "t")]
    first = launch("distill.py", args)
    assert holder_of(toy / "t.lock", first) == first.pid
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = launch("distill.py", args)
        said = second.communicate(timeout=120)[0]
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode != 0 and f"is being written by pid {first.pid} (" in said, said
    assert "Traceback" not in said
    finish(first)
    assert (toy / "t" / "teacher.pt").exists() and (toy / "t" / "metrics.json").exists()


HOLD = "import sys; from machinery import files; files.lock(sys.argv[1]); print('held', flush=True); input()"


@pytest.mark.parametrize("command", ["student", "eval", "augment"])
def test_every_writing_step_stops_beside_a_live_writer(toy, command):
    """A live process holds the lock of the output; the step stops at once, naming it, and
    writes nothing."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    out = toy / ("aug.tsv" if command == "augment" else "s")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert holder.stdout.readline() == "held\n"
        script, args = {
            "student": ("distill.py", ["student", "--task", "sst2", "--data-dir", str(toy), "--augmented", "",
                                       "--train-logits", str(toy / "train.npy"), "--hidden", "8", "--fc", "8",
                                       "--epochs", "1", "--out", str(out)]),
            "eval": ("distill.py", ["eval", "--run", str(out)]),
            "augment": ("augment.py", ["--task", "sst2", "--data-dir", str(toy), "--out", str(out)])}[command]
        step = launch(script, args)
        said = step.communicate(timeout=120)[0]
    finally:
        holder.kill()
        holder.wait()
    assert step.returncode != 0, said
    assert f"{out} is being written by pid {holder.pid} (python -c" in said, said
    assert "wait for it or stop it" in said and "Traceback" not in said
    assert not out.exists()


def test_a_lock_file_left_by_a_dead_process_is_taken(toy):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    out = toy / "l.npy"
    lock = Path(f"{out}.lock")
    lock.write_text(f"{dead}\npython distill.py logits (killed)\n")
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--no-bf16", "--out", str(out)]
    step = launch("distill.py", args)
    finish(step)
    assert np.load(out).shape == (400, 2)
    assert lock.read_text().split("\n")[0] == str(step.pid)      # the new holder named itself


# --- records that vouch for their outputs, and the code as an input -------------------------------
# The code that makes an output is one of its inputs.

ROOT = Path(__file__).resolve().parent.parent


def project_copy(folder):
    """The chapters and machinery/ in folder: a reader's copy to edit."""
    for name in ("data.py", "models.py", "augment.py", "distill.py"):
        shutil.copy2(ROOT / name, folder / name)
    shutil.copytree(ROOT / "machinery", folder / "machinery", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_an_edited_rule_redoes_its_step_and_a_comment_does_not(shared_data, tmp_path):
    copy = project_copy(tmp_path)
    args = [sys.executable, "augment.py", "--task", "sst2", "--data-dir", str(shared_data), "--limit", "40",
            "--n-iter", "2", "--out", str(tmp_path / "aug.tsv")]

    def augment():
        done = subprocess.run(args, cwd=copy, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr
    augment()
    first = (tmp_path / "aug.tsv").read_text()
    augment_py = copy / "augment.py"
    augment_py.write_text(augment_py.read_text().replace("\n\n\ndef ", "\n\n\n# a reader's note\ndef ", 1))
    assert "nothing to do" in augment()                       # a comment is not code
    text = augment_py.read_text()
    assert text.count("out[i] = data.MASK") == 1
    augment_py.write_text(text.replace("out[i] = data.MASK", 'out[i] = "[HIDDEN]"'))   # the masking rule edited
    said = augment()
    assert "the code of augment.py changed" in said and "nothing to do" not in said
    second = (tmp_path / "aug.tsv").read_text()
    assert "[HIDDEN]" in second and "[HIDDEN]" not in first
    made = json.loads((tmp_path / "aug.json").read_text())["manifest"]["code"]
    assert {"augment.py", "data.py", "machinery/files.py"} <= set(made)          # what it runs
    assert not {"distill.py", "models.py"} & set(made)                           # and nothing else


def test_an_edited_teacher_vocabulary_or_config_redoes_the_logits(toy, capsys):
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--no-bf16", "--out", str(toy / "l.npy")]
    distill.main(args)
    before = np.load(toy / "l.npy")
    capsys.readouterr()
    distill.main(args)
    assert "nothing to do" in capsys.readouterr().out
    vocab = toy / "teacher" / "vocab.txt"
    words = vocab.read_text().split("\n")
    vocab.write_text("\n".join(words[:6] + [words[7], words[6]] + words[8:]))    # two ids swapped
    distill.main(args)
    said = capsys.readouterr()
    assert "teacher_dir_vocab changed" in said.err and "nothing to do" not in said.out
    assert not np.array_equal(np.load(toy / "l.npy"), before)
    config = toy / "teacher" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "layer_norm_eps": 1e-3}))
    distill.main(args)
    assert "teacher_dir_config changed" in capsys.readouterr().err


# --- a record vouches for what is on disk ------------------------------------------


def test_an_output_edited_after_it_was_made_is_made_again(toy, capsys):
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--no-bf16", "--out", str(toy / "l.npy")]
    distill.main(args)
    made = np.load(toy / "l.npy")
    edited = made.copy()
    edited[3] = np.nan
    np.save(toy / "l.npy", edited)
    capsys.readouterr()
    distill.main(args)
    said = capsys.readouterr()
    assert "l.npy was changed or removed after it was made" in said.err and "nothing to do" not in said.out
    assert np.array_equal(np.load(toy / "l.npy"), made)


def test_a_kill_before_the_record_is_written_leaves_no_record_vouching(toy, monkeypatch, capsys):
    """A rerun with other settings, killed after its output is in place but before its record:
    the old record was set aside first, so neither setting's rerun takes the file as done."""
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--no-bf16", "--out", str(toy / "l.npy")]
    distill.main(args)
    whole = np.load(toy / "l.npy")
    distill.main(args + ["--max-len", "8", "--out", str(toy / "short.npy")])

    def killed(*_):
        raise KeyboardInterrupt
    monkeypatch.setattr(files, "record", killed)
    try:
        distill.main(args + ["--max-len", "8"])
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert np.array_equal(np.load(toy / "l.npy"), np.load(toy / "short.npy"))     # the new file, no record
    assert not (toy / "l.json").exists()
    capsys.readouterr()
    distill.main(args)                                    # the first settings again: made again
    assert "nothing to do" not in capsys.readouterr().out
    assert np.array_equal(np.load(toy / "l.npy"), whole)


def test_a_rerun_with_other_settings_keeps_the_old_curve_and_weights_aside(toy, monkeypatch):
    """A finished run's record and weights are set aside by a rerun of other settings; the
    weights of a rerun killed before it finished are removed by the next, never set aside over
    the finished run's."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", "", "--optimizer", "adam", "--hidden", "8", "--fc", "8", "--batch-size", "16",
              "--epochs", "1", "--evals-per-epoch", "2", "--out", str(toy / "s")]
    distill.main(common + ["--lr", "0.01"])
    finished = json.loads((toy / "s" / "metrics.json").read_text())
    weights = (toy / "s" / "student.pt").read_bytes()

    def killed(self, k=1):
        raise KeyboardInterrupt
    monkeypatch.setattr(files.Progress, "update", killed)         # at its first batch
    try:
        distill.main(common + ["--lr", "0.001"])
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert not (toy / "s" / "metrics.json").exists()             # nothing vouches for the folder now
    assert json.loads((toy / "s" / "metrics.previous.json").read_text())["curve"] == finished["curve"]
    assert not (toy / "s" / "student.pt").exists()               # not under the new run's name
    assert (toy / "s" / "student.previous.pt").read_bytes() == weights      # but set aside, whole
    real_json = files.save_json

    def save_json(path, obj):
        if Path(path).name == "config.json":           # the unfinished run's student.pt is written
            raise KeyboardInterrupt
        real_json(path, obj)
    monkeypatch.setattr(files, "save_json", save_json)
    with pytest.raises(KeyboardInterrupt):
        distill.main(common + ["--lr", "0.002"])
    monkeypatch.undo()
    assert (toy / "s" / "student.pt").exists()
    distill.main(common + ["--lr", "0.003"])
    assert (toy / "s" / "student.previous.pt").read_bytes() == weights


# --- random kills and settings changes across a small chain ---------------------------

def chain(toy, folder, settings, kill_at=None, monkeypatch=None):
    """The chain on the toy task into folder: the teacher's logits on train and on a small
    augmented file, then a distilled student.  settings: the flags that vary; kill_at: the
    call of Progress.update that raises KeyboardInterrupt, as a Ctrl-C would."""
    restore = interrupted(monkeypatch, kill_at) if kill_at is not None else None
    teacher = ["--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"), "--no-bf16",
               "--batch-size", settings["logits_batch"]]
    try:
        distill.main(["logits", *teacher, "--out", str(folder / "train.npy")])
        distill.main(["logits", *teacher, "--input", str(toy / "aug.tsv"), "--out", str(folder / "aug.npy")])
        distill.main(["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits",
                      str(folder / "train.npy"), "--augmented", str(toy / "aug.tsv"), "--augmented-logits",
                      str(folder / "aug.npy"), "--optimizer", "adam", "--lr", settings["lr"], "--hidden", "8",
                      "--fc", "8", "--batch-size", "16", "--epochs", "2", "--evals-per-epoch", "2",
                      "--out", str(folder / "student")])
    except KeyboardInterrupt:
        return "killed"
    finally:
        if restore:
            restore()
    return "done"


def test_random_kills_and_setting_changes_end_as_an_unbroken_run(toy, monkeypatch):
    """Eight runs of the chain in one folder, each with random settings and most killed at a
    random point, then one with the final settings: every file equals that of one unbroken run
    in a fresh folder, and its records vouch for them."""
    (toy / "aug.tsv").write_text("sentence\tlabel\tsource_row\n" + "".join(
        f"the {w} film\t{int(w in ('good', 'great'))}\t{i}\n" for i, w in enumerate(["good", "awful", "great", "dull"])))
    rng = np.random.default_rng(30)
    final = {"logits_batch": "16", "lr": "0.01"}
    for _ in range(8):
        settings = {"logits_batch": str(rng.choice(["8", "16"])), "lr": str(rng.choice(["0.01", "0.02"]))}
        kill_at = int(rng.integers(1, 120)) if rng.random() < 0.8 else None
        chain(toy, toy / "chaos", settings, kill_at, monkeypatch)
    assert chain(toy, toy / "chaos", final) == "done"
    assert chain(toy, toy / "unbroken", final) == "done"
    for name in ("train.npy", "aug.npy"):
        assert np.array_equal(np.load(toy / "chaos" / name), np.load(toy / "unbroken" / name)), name
    chaos, unbroken = (torch_state(toy / run / "student" / "student.pt") for run in ("chaos", "unbroken"))
    assert chaos.keys() == unbroken.keys() and all(np.array_equal(chaos[k], unbroken[k]) for k in chaos)
    curves = [json.loads((toy / run / "student" / "metrics.json").read_text())["curve"] for run in ("chaos", "unbroken")]
    assert curves[0] == curves[1]


def torch_state(path):
    import torch
    return {k: v.numpy() for k, v in torch.load(path, weights_only=True).items()}


def test_a_kill_between_the_record_and_removing_last_pt_leaves_nothing_behind(toy):
    """last.pt (hundreds of MB for a teacher) left by a kill after metrics.json: the next run
    finds the step finished and removes it."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    args = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
            "--augmented", "", "--hidden", "8", "--fc", "8", "--epochs", "1", "--out", str(toy / "s")]
    distill.main(args)
    (toy / "s" / "last.pt").write_bytes(b"left by a kill")
    distill.main(args)
    assert not (toy / "s" / "last.pt").exists() and (toy / "s" / "metrics.json").exists()


@pytest.mark.parametrize("point", ["vocab.txt", "config.json"])
def test_a_student_rerun_killed_at_each_point_never_leaves_two_runs_files_together(toy, monkeypatch, point):
    """A finished student rerun with other settings, killed as it writes its vocabulary (before
    training) or its first best config (after its new student.pt): no record vouches for the
    folder, no weights of the old run are left beside the new files, and the rerun then ends
    as an unbroken run of its settings."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
              "--augmented", "", "--optimizer", "adam", "--hidden", "8", "--fc", "8", "--batch-size", "16",
              "--epochs", "1", "--evals-per-epoch", "2"]
    distill.main(common + ["--lr", "0.01", "--out", str(toy / "s")])
    old = (toy / "s" / "student.pt").read_bytes()
    real_json, real_vocab = files.save_json, data.Vocab.save

    def save_json(path, obj):
        if Path(path).name == point:
            raise KeyboardInterrupt
        real_json(path, obj)

    def save_vocab(self, path):
        if Path(path).name == point:
            raise KeyboardInterrupt
        real_vocab(self, path)
    monkeypatch.setattr(files, "save_json", save_json)
    monkeypatch.setattr(data.Vocab, "save", save_vocab)
    with pytest.raises(KeyboardInterrupt):
        distill.main(common + ["--lr", "0.02", "--out", str(toy / "s")])
    monkeypatch.undo()
    folder = toy / "s"
    assert not (folder / "metrics.json").exists() and not (folder / "config.json").exists()
    assert not (folder / "student.pt").exists() or (folder / "student.pt").read_bytes() != old
    distill.main(common + ["--lr", "0.02", "--out", str(folder)])
    distill.main(common + ["--lr", "0.02", "--out", str(toy / "unbroken")])
    a, b = (torch.load(run / "student.pt", weights_only=True) for run in (folder, toy / "unbroken"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((folder / "config.json").read_text())["lr"] == 0.02


def test_augment_killed_before_its_record_is_made_again(shared_data, tmp_path, monkeypatch, capsys):
    """augment.py --n-iter 5 over a finished --n-iter 2 file, killed once its new file is in place
    but before its record: the old record is gone, so the --n-iter 2 run makes its file again."""
    import augment
    args = ["--task", "sst2", "--data-dir", str(shared_data), "--limit", "40", "--out", str(tmp_path / "aug.tsv")]
    augment.main(args + ["--n-iter", "2"])
    two = (tmp_path / "aug.tsv").read_bytes()

    def killed(*_):
        raise KeyboardInterrupt
    monkeypatch.setattr(files, "record", killed)
    with pytest.raises(KeyboardInterrupt):
        augment.main(args + ["--n-iter", "5"])
    monkeypatch.undo()
    assert (tmp_path / "aug.tsv").read_bytes() != two and not (tmp_path / "aug.json").exists()
    capsys.readouterr()
    augment.main(args + ["--n-iter", "2"])
    assert "nothing to do" not in capsys.readouterr().out
    assert (tmp_path / "aug.tsv").read_bytes() == two
