"""The Makefile: `make quick`, the class demo, runs the whole chain to its end (teacher,
augmentation, logits, student, baseline, eval, report) and leaves the project's tracked files
as they were.  Here on the toy task of conftest.py (a tiny BERT as teacher, 8-d word vectors)
and a smaller QUICK_LIMIT, so that it takes a minute, not half an hour."""
import json
import os
import subprocess
import time

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
