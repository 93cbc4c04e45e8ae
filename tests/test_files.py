"""Tests of files.py: where the data is found, downloads (faked: no network here), atomic
writes, provenance."""
import subprocess
import sys
from pathlib import Path
import zipfile

import pytest

import data
import files


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
