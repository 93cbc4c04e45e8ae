"""The tutorial's shape: the four chapters hold the method within a reading budget, no function
in them is too long to read at once, and imports flow one way (README: reading guide)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ["data.py", "models.py", "augment.py", "distill.py"]
SUPPORT = ["files.py", "checkpoints.py", "parallel.py", "flags.py", "report.py", "estimate.py", "bench.py",
           "classroom.py"]


def ours(path):
    """The modules of this project a file imports (at any depth of the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return {n + ".py" for n in names} & set(CHAPTERS + SUPPORT)


def test_chapters_fit_the_reading_budget():
    lines = {c: len((ROOT / c).read_text().splitlines()) for c in CHAPTERS}
    assert sum(lines.values()) <= 1400, lines
    assert lines["distill.py"] <= 450, lines


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_chapter_function_over_60_lines(chapter):
    tree = ast.parse((ROOT / chapter).read_text())
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60]
    assert not long, long


def test_imports_flow_one_way():
    """data and models import no chapter; augment and distill import data and models only; no
    chapter imports report, bench or classroom; no support module a chapter imports imports
    that chapter back, directly or through another support module."""
    graph = {f: ours(ROOT / f) for f in CHAPTERS + SUPPORT}
    assert not graph["data.py"] & set(CHAPTERS) and not graph["models.py"] & set(CHAPTERS)
    assert graph["augment.py"] & set(CHAPTERS) <= {"data.py", "models.py"}
    assert graph["distill.py"] & set(CHAPTERS) <= {"data.py", "models.py"}
    for chapter in CHAPTERS:
        assert not graph[chapter] & {"report.py", "estimate.py", "bench.py", "classroom.py"}, chapter

    def reaches(start, seen=()):
        for f in graph[start]:
            if f not in seen:
                yield f
                yield from reaches(f, seen + (f,))
    for chapter in CHAPTERS:
        assert chapter not in set(reaches(chapter)), f"{chapter} imports a module that imports it back"


def test_readme_reading_guide_is_the_files():
    from tools import report
    assert report.guide_table(ROOT) in (ROOT / "README.md").read_text(), "run: python report.py guide"
    assert {name for name, _, _ in report.GUIDE} == set(CHAPTERS + SUPPORT)
