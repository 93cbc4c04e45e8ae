"""Tests of tools/kept.py: what the students need of a teacher is saved out of a run folder and
put back into another byte for byte; a missing, changed or clashing file stops it, named.  The
whole round trip through make (the students trained again without the teacher's checkpoint) is
in test_makefile.py."""
import json

import pytest

from machinery import files
from tools import kept

FILES = kept.TEACHER_FILES + kept.LOGITS_FILES + ["glue/teacher/SST-2.tsv"]


def finished_run(folder):
    """A run folder as make leaves it after the teacher, logits and eval steps (contents made up:
    kept.py copies them, it reads none), with the teacher's checkpoint beside them."""
    for i, name in enumerate(FILES):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{name} {i}\n")
    (folder / "teacher" / "teacher.pt").write_text("weights, too large to keep")
    return folder


def test_save_then_restore_gives_the_same_files(tmp_path):
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    record = json.loads((tmp_path / "kept" / kept.RECORD).read_text())
    assert sorted(record["files"]) == sorted(FILES)          # the checkpoint is not kept
    assert not (tmp_path / "kept" / "teacher" / "teacher.pt").exists()
    kept.main(["restore", "--kept", str(tmp_path / "kept"), "--run", str(tmp_path / "new")])
    for name in FILES:
        assert files.fingerprint(tmp_path / "new" / name) == files.fingerprint(run / name), name
    # Again: the files are there already, identical, and stay.
    kept.main(["restore", "--kept", str(tmp_path / "kept"), "--run", str(tmp_path / "new")])


def test_save_of_an_unfinished_run_names_the_missing_file(tmp_path):
    run = finished_run(tmp_path / "run")
    (run / "logits" / "augmented.json").unlink()
    with pytest.raises(SystemExit, match="augmented.json: missing"):
        kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])


def test_restore_refuses_a_changed_kept_file(tmp_path):
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    (tmp_path / "kept" / "logits" / "train.npy").write_text("edited by hand\n")
    with pytest.raises(SystemExit, match="train.npy: missing or changed"):
        kept.main(["restore", "--kept", str(tmp_path / "kept"), "--run", str(tmp_path / "new")])
    assert not (tmp_path / "new").exists()          # checked before anything is copied


def test_restore_never_replaces_a_different_file(tmp_path):
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    (run / "teacher" / "metrics.json").write_text("another teacher's record\n")
    with pytest.raises(SystemExit, match="metrics.json exists and differs"):
        kept.main(["restore", "--kept", str(tmp_path / "kept"), "--run", str(run)])
    assert (run / "teacher" / "metrics.json").read_text() == "another teacher's record\n"


def test_restore_of_a_folder_save_never_wrote(tmp_path):
    with pytest.raises(SystemExit, match="kept.json: missing"):
        kept.main(["restore", "--kept", str(tmp_path), "--run", str(tmp_path / "new")])
