"""Tests of report.py: the numbers in README.md are the ones in results/, which came from committed commands with
their configs saved beside them."""
import json
from pathlib import Path

import pytest

import data
import report

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def task_results():
    return sorted((ROOT / "results").glob("*.json"))


def test_readme_results_table_is_the_results():
    if not any(p.stem in data.TASKS for p in task_results()):
        pytest.skip("no results/<task>.json yet: run make sst2")
    assert report.results_table(ROOT / "results") in README


@pytest.mark.parametrize("path", [p for p in task_results() if p.stem in data.TASKS], ids=lambda p: p.stem)
def test_each_result_says_how_it_was_made(path):
    r = json.loads(path.read_text())
    for step in ("teacher", "augment", "student", "baseline"):
        assert r["commands"][step] and r["configs"][step]
    assert r["git_commit"] and r["seconds"]["total"] > 0
    for name in ("teacher", "student", "baseline"):
        assert (ROOT / "results" / path.stem / f"{name}.json").exists()


def test_readme_speed_table_is_the_bench():
    bench = ROOT / "results" / "bench.json"
    if not bench.exists():
        pytest.skip("no results/bench.json yet: run make bench")
    block = README.split("<!-- bench:begin -->")[1].split("<!-- bench:end -->")[0]
    for row in json.loads(bench.read_text())["rows"]:
        assert f"| {row['model']} | {row['precision']} | {row['parameters']:,} | {row['sentences_per_second']:,.1f} |" in block
