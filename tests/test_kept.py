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
    kept.py copies them, and reads only the teacher's name), with the teacher's checkpoint."""
    for i, name in enumerate(FILES):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{name} {i}\n")
    (folder / "teacher" / "metrics.json").write_text(
        json.dumps({"config": {"task": "sst2", "teacher": "mpnet"}}))
    (folder / "augmented.tsv").write_text("sentence\tlabel\na film\t1\n")
    made_from = {"manifest": {"inputs": {"input": files.fingerprint(folder / "augmented.tsv")}}}
    (folder / "logits" / "augmented.json").write_text(json.dumps(made_from))
    (folder / "teacher" / "teacher.pt").write_text("weights, too large to keep")
    return folder


def restore(kept_folder, run, teacher="mpnet", task="sst2"):
    kept.main(["restore", "--kept", kept_folder, "--run", run, "--task", task,
               "--teacher", teacher])


def test_save_then_restore_gives_the_same_files(tmp_path):
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    record = json.loads((tmp_path / "kept" / kept.RECORD).read_text())
    assert sorted(record["files"]) == sorted(FILES)          # the checkpoint is not kept
    assert not (tmp_path / "kept" / "teacher" / "teacher.pt").exists()
    restore(str(tmp_path / "kept"), str(tmp_path / "new"))
    for name in FILES:
        assert files.fingerprint(tmp_path / "new" / name) == files.fingerprint(run / name), name
    assert (tmp_path / "new" / kept.RECORD).exists()        # make then refuses to retrain here
    # Again: the files are there already, identical, and stay.
    restore(str(tmp_path / "kept"), str(tmp_path / "new"))


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
        restore(str(tmp_path / "kept"), str(tmp_path / "new"))
    assert not (tmp_path / "new").exists()          # checked before anything is copied


def test_restore_never_replaces_a_different_file(tmp_path):
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    (run / "teacher" / "metrics.json").write_text("another teacher's record\n")
    with pytest.raises(SystemExit, match="metrics.json exists and differs"):
        restore(str(tmp_path / "kept"), str(run))
    assert (run / "teacher" / "metrics.json").read_text() == "another teacher's record\n"


def test_restore_of_a_folder_save_never_wrote(tmp_path):
    with pytest.raises(SystemExit, match="kept.json: missing"):
        restore(str(tmp_path), str(tmp_path / "new"))


def test_restore_refuses_another_teachers_files(tmp_path):
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    with pytest.raises(SystemExit, match="teacher 'mpnet', not of 'minilm'"):
        restore(str(tmp_path / "kept"), str(tmp_path / "new"), teacher="minilm")
    with pytest.raises(SystemExit, match="task 'sst2', not of 'rte'"):
        restore(str(tmp_path / "kept"), str(tmp_path / "new"), task="rte")
    assert not (tmp_path / "new").exists()


def test_restore_refuses_another_augmented_file(tmp_path):
    """The run's augmented sentences, made again, must be those the kept logits are rows of."""
    run = finished_run(tmp_path / "run")
    kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "augmented.tsv").write_text("sentence\tlabel\nanother film\t1\n")
    with pytest.raises(SystemExit, match="augmented.tsv is not the file the kept augmented logits"):
        restore(str(tmp_path / "kept"), str(tmp_path / "new"))
    assert not (tmp_path / "new" / "logits").exists()
    (tmp_path / "new" / "augmented.tsv").write_bytes((run / "augmented.tsv").read_bytes())
    restore(str(tmp_path / "kept"), str(tmp_path / "new"))


def test_save_without_the_teachers_glue_file_names_the_folder(tmp_path):
    run = finished_run(tmp_path / "run")
    (run / "glue" / "teacher" / "SST-2.tsv").unlink()
    with pytest.raises(SystemExit, match="no GLUE test file of the teacher"):
        kept.main(["save", "--run", str(run), "--out", str(tmp_path / "kept")])
