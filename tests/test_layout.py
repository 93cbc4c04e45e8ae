"""The tutorial's shape, as the developers' guide and the README's reading guide promise it: the
top level holds the four chapters and little else; the chapters read without packing (lines
within 100 columns, functions within 50 lines, the student's `loss.backward()` in plain sight);
imports flow one way, so that a reader of a chapter never needs what comes after it."""
import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ["data.py", "models.py", "augment.py", "distill.py"]
TOP_LEVEL = {*CHAPTERS, "Makefile", "README.md", "requirements.txt", "LICENSE", ".ci",
             ".gitignore", "tests"}
# What each folder holds (machinery a reader may skip, tools around the method, the class kit,
# the experiments' scripts and logs, the pages the README links to, what make writes).
FOLDERS = {"machinery", "tools", "classroom", "experiments", "docs", "results"}


def modules(folder):
    return sorted((ROOT / folder).glob("*.py"))


def imported(path):
    """The top-level names of the modules a file imports, at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def functions(path):
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_top_level_is_the_design_cards():
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout:
        pytest.skip("not a git checkout (a class handout)")
    top = {name.split("/")[0] for name in done.stdout.splitlines()}
    assert top - FOLDERS == TOP_LEVEL, sorted((top - FOLDERS) ^ TOP_LEVEL)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_lines_within_100_columns(chapter):
    lines = (ROOT / chapter).read_text().splitlines()
    wide = [(number, len(line)) for number, line in enumerate(lines, 1) if len(line) > 100]
    assert not wide, f"{chapter}: (line, columns) {wide}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_functions_within_50_lines(chapter):
    long = [(f.name, f.end_lineno - f.lineno + 1) for f in functions(ROOT / chapter)
            if f.end_lineno - f.lineno + 1 > 50]
    assert not long, f"{chapter}: {long}"


def test_student_loop_shows_the_step():
    """The function that trains the student writes its step out: zero_grad, backward, step."""
    source = (ROOT / "distill.py").read_text()
    (train,) = [f for f in functions(ROOT / "distill.py") if f.name == "train_student"]
    body = ast.get_source_segment(source, train)
    for call in ("optimizer.zero_grad()", "loss.backward()", "optimizer.step()"):
        assert call in body, call


def test_imports_flow_one_way():
    """data and models import no chapter; augment and distill import only data and models of
    the chapters; no chapter imports tools or the classroom kit; the machinery imports no chapter,
    tool or kit, so a chapter never reaches itself through it."""
    chapters = {c.removesuffix(".py") for c in CHAPTERS}
    graph = {c: imported(ROOT / c) for c in CHAPTERS}
    assert not graph["data.py"] & chapters
    assert not graph["models.py"] & chapters
    assert graph["augment.py"] & chapters <= {"data", "models"}
    assert graph["distill.py"] & chapters <= {"data", "models"}
    for chapter, names in graph.items():
        assert not names & {"tools", "classroom"}, chapter
    for path in modules("machinery"):
        assert not imported(path) & (chapters | {"tools", "classroom"}), path.name
