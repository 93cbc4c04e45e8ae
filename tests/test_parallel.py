"""Tests of parallel.py: under torchrun, two CPU processes (gloo) give the files of one, and
a killed rank's shard resumes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import finish, holder_of, launch, logits_args, toy_sentences, toy_teacher_logits, worker


REPO = Path(__file__).resolve().parent.parent


def test_logits_under_torchrun_equal_one_process_even_after_a_rank_dies(toy):
    texts, _ = toy_sentences(8000, np.random.default_rng(1))
    (toy / "many.tsv").write_text("sentence\n" + "".join(t + "\n" for t in texts))
    args = ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--input", str(toy / "many.tsv"), "--batch-size", "4", "--no-bf16"]
    finish(launch("distill.py", args + ["--out", str(toy / "one.npy")]))

    # Kill rank 1 once it has 20 batches on disk; torchrun then stops rank 0 and fails.
    out = toy / "two.npy"
    job = launch("distill.py", args + ["--out", str(out)], processes=2)
    progress = Path(f"{out}.rank1of2.npy.done_batches")

    def batches_done():          # the file is empty for a moment while it is rewritten
        return int((progress.read_text().split() or ["0"])[0])
    while not (progress.exists() and batches_done() >= 20):
        assert job.poll() is None, job.communicate()[0]
        time.sleep(0.01)
    os.kill(worker(job.pid, 1), 9)
    assert job.wait(timeout=120) != 0 and not out.exists()
    assert batches_done() < 1000 and not Path(f"{out}.rank1of2.npy").exists()   # of rank 1's 1,000 batches
    log = finish(launch("distill.py", args + ["--out", str(out)], processes=2))  # the same command again
    assert "resuming" in log and not list(toy.glob("two.npy.rank*"))
    one, two = np.load(toy / "one.npy"), np.load(out)
    assert one.shape == (8000, 2) and np.array_equal(one, two)
    assert json.loads((toy / "two.json").read_text())["processes"] == 2

    # Shards of a 2-process run are not silently mixed into a 1-process run.
    (toy / "three.npy.rank0of2.npy").write_bytes(b"")
    job = launch("distill.py", args + ["--out", str(toy / "three.npy")])
    assert job.wait(timeout=120) != 0 and "another number of processes" in job.communicate()[0]


def test_ddp_student_takes_the_steps_of_one_process(toy):
    """Two ranks with 8 + 8 rows of each global batch of 16 (and 2 + 1 of the last one, of 3)
    against one process with batches of 16.  Adadelta and no dropout: the update is a smooth
    function of the gradient, so the two may differ only by float rounding."""
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    args = ["student", "--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"),
            "--augmented", "", "--limit", "99", "--hidden", "8", "--fc", "8", "--batch-size", "16",
            "--epochs", "1", "--evals-per-epoch", "1", "--dropout", "0", "--optimizer", "adadelta"]
    finish(launch("distill.py", args + ["--out", str(toy / "one")]))
    finish(launch("distill.py", args + ["--out", str(toy / "two")], processes=2))
    one, two = (torch.load(toy / r / "student.pt") for r in ("one", "two"))
    assert all(torch.allclose(one[k], two[k], atol=1e-5, rtol=0) for k in one), \
        max((one[k] - two[k]).abs().max().item() for k in one)
    runs = [json.loads((toy / r / "metrics.json").read_text()) for r in ("one", "two")]
    assert runs[0]["curve"][0]["step"] == runs[1]["curve"][0]["step"] == 7
    assert runs[0]["dev"] == runs[1]["dev"]


def alive(pid):
    """True while pid runs (a zombie, killed but not yet reaped by its new parent, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_torchrun_workers_die_with_their_launcher_and_rank0_holds_the_lock(toy):
    args = logits_args(toy, rows=50000) + ["--out", str(toy / "two.npy")]
    job = launch("distill.py", args, processes=2)
    pid = holder_of(toy / "two.npy.lock", job)
    ranks = [worker(job.pid, 0), worker(job.pid, 1)]
    assert pid == ranks[0] and ranks[1] is not None
    progress = toy / "two.npy.rank1of2.npy.done_batches"
    while not (progress.exists() and int((progress.read_text().split() or ["0"])[0]) >= 20):
        assert job.poll() is None, job.communicate()[0]
        time.sleep(0.01)
    os.kill(job.pid, signal.SIGKILL)             # the launcher alone: its workers are in their own sessions
    job.wait()
    deadline = time.time() + 3            # an unbroken rank needs 15s more
    while any(alive(p) for p in ranks) and time.time() < deadline:
        time.sleep(0.05)
    survivors = [p for p in ranks if alive(p)]
    for p in survivors:                          # leave no process behind, then fail
        os.kill(p, signal.SIGKILL)
    assert not survivors, "torchrun's workers went on writing after their launcher died"
    # A rerun finds the lock free at once: no live writer is left beside it.
    rerun = subprocess.run([sys.executable, "-c", "import sys; from machinery import files; "
                            "files.lock(sys.argv[1])", str(toy / "two.npy")], cwd=REPO,
                           capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
