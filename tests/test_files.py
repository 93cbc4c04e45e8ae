"""Tests of files.py: where the data is found, downloads (faked: no network here), atomic
writes, provenance."""
import gzip
import subprocess
import sys
from pathlib import Path
import zipfile

import pytest

import data
from machinery import files


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
