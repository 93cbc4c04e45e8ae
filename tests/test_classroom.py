"""Tests of classroom.py: the markers agree with the grading table, the handout is this project
with only the marked bodies blanked, each exercise fails there (and only there) and passes with
its solution, and the handout with the solutions pasted back passes `make test`.

The handouts are built in a temporary folder with a link to the real data beside them
(tmp/shared -> ../shared), the layout this checkout has, so that their real-data tests run."""
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import classroom  # noqa: E402

SHARED = ROOT.parent / "shared"


def run(args, cwd, **kw):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, **kw)


def build(folder, *args):
    """A handout in folder/assignment, beside a link to the real data when this checkout has it."""
    if SHARED.is_dir() and not (folder / "shared").exists():
        (folder / "shared").symlink_to(SHARED, target_is_directory=True)
    out = folder / "assignment"
    done = run([str(ROOT / "classroom.py"), "handout", "--out", str(out), *args], ROOT)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    return build(tmp_path_factory.mktemp("handout"))


def grade(folder, report, *args):
    """`classroom.py grade` in folder: the finished process and the rows of its JSON report."""
    done = run(["classroom.py", "grade", "--json", str(report), *args], folder)
    return done, {r["key"]: r for r in json.loads(report.read_text())["rows"]}


# --- the markers and the table -----------------------------------------------------------------

def test_markers_agree_with_the_table():
    blocks = classroom.all_blocks(ROOT)
    assert sorted(blocks) == sorted(classroom.EXERCISES) == list(range(1, 8))
    seen = set()
    for n, exercise in classroom.EXERCISES.items():
        assert blocks[n][0] == exercise["file"] and exercise["tests"]
        assert not seen & set(exercise["tests"]), "a test graded twice"
        seen |= set(exercise["tests"])
    assert not seen & set(classroom.TOGETHER)
    for test in seen | set(classroom.TOGETHER):
        path, name = test.split("::")
        assert f"\ndef {name}(" in (ROOT / path).read_text(), f"{test} does not exist"
    assert all(len(needs) > 1 and set(needs) <= set(blocks) for needs in classroom.TOGETHER.values())


BLOCK = '''def f(x):
    """Twice x."""
    # BEGIN EXERCISE 2: return twice x
    y = x + x    # adding is cheaper than multiplying
    # why: a comment kept as a hint
    return y
    # END EXERCISE 2
'''


def test_blank_and_paste_round_trip():
    blanked = classroom.blank(BLOCK)
    assert blanked == ('def f(x):\n    """Twice x."""\n    # BEGIN EXERCISE 2: return twice x\n'
                       '    # adding is cheaper than multiplying\n    # why: a comment kept as a hint\n'
                       '    raise NotImplementedError("Exercise 2: return twice x")\n    # END EXERCISE 2\n')
    solution = BLOCK.splitlines(keepends=True)[3:6]
    assert classroom.paste(blanked, {2: solution}) == BLOCK
    quoted = 'MARKER = """\n# BEGIN EXERCISE 9: in a string\n"""\n'
    assert classroom.find_blocks(quoted) == [] and classroom.blank(quoted) == quoted


@pytest.mark.parametrize("text, error", [
    ("# BEGIN EXERCISE 1: a\nx = 1\n", r"f.py:1: BEGIN EXERCISE 1 is never closed"),
    ("x = 1\n# END EXERCISE 1\n", r"f.py:2: END EXERCISE 1 without its BEGIN"),
    ("# BEGIN EXERCISE 1: a\n# BEGIN EXERCISE 2: b\n# END EXERCISE 2\n# END EXERCISE 1\n",
     r"f.py:2: BEGIN EXERCISE 2 inside exercise 1"),
    ("# BEGIN EXERCISE 1: a\n# END EXERCISE 2\n", r"f.py:2: END EXERCISE 2 without its BEGIN"),
    ("# BEGIN EXERCISE 1\nx = 1\n# END EXERCISE 1\n", r"f.py:1: malformed exercise marker"),
])
def test_broken_markers_name_file_and_line(text, error):
    with pytest.raises(ValueError, match=error):
        classroom.find_blocks(text, "f.py")


# --- the handout -------------------------------------------------------------------------------

def outside_blocks(text):
    """A file's lines with every block's body left out (the marker lines kept)."""
    lines, keep, last = text.splitlines(), [], 0
    for _, _, _, begin, end in classroom.find_blocks(text):
        keep += lines[last:begin + 1]
        last = end
    return keep + lines[last:]


def test_handout_is_the_project_with_the_bodies_blanked(handout):
    files = classroom.project_files(ROOT)
    assert classroom.project_files(handout) == files and "classroom.py" in files
    assert "tests/test_classroom.py" not in files
    solutions = classroom.bodies(ROOT)
    for rel in files:
        ours, theirs = (ROOT / rel).read_bytes(), (handout / rel).read_bytes()
        if not rel.endswith(".py"):
            assert ours == theirs, rel
            continue
        ours, theirs = ours.decode(), theirs.decode()
        ast.parse(theirs, rel)                                              # valid Python
        assert outside_blocks(ours) == outside_blocks(theirs), f"{rel} differs outside its blocks"
        lines = theirs.splitlines()
        for n, task, indent, begin, end in classroom.find_blocks(theirs, rel):
            body = lines[begin + 1:end]
            code = [line for line in body if not line.strip().startswith("#")]
            assert code == [f'{indent}raise NotImplementedError("Exercise {n}: {task}")'], (rel, n)
            hints = [line.strip() for line in body if line not in code]
            assert all(hint in "".join(solutions[n]) for hint in hints), (rel, n)   # the solution's comments
    done = run([str(ROOT / "classroom.py"), "handout", "--out", str(handout)], ROOT)
    assert done.returncode != 0 and "--force" in done.stderr            # never overwritten silently


def test_grade_in_the_handout(handout, minilm_folder):
    """Every exercise fails, each test on the NotImplementedError of an exercise it is graded
    under; every other test passes; the exit status says so.  (Without the teacher package the
    tests of exercise 1 would all be skipped: so is this test, by minilm_folder.)"""
    done, rows = grade(handout, handout.parent / "grade.json")
    assert done.returncode == 1, done.stdout + done.stderr
    table = done.stdout.splitlines()
    for n in classroom.EXERCISES:
        assert rows[n]["failed"] > 0 and rows[n]["passed"] == 0 and not rows[n]["missing"]
        assert any(line.startswith(f"{n:>2}  ") and " FAILED 0/" in line for line in table)
    for key, row in rows.items():
        for test, (outcome, message) in row["tests"].items():
            if key == "other" or outcome == "skipped":      # skipped: no real data or no teacher
                assert outcome in ("passed", "skipped"), (test, message)
                continue
            needs = classroom.TOGETHER.get(test.split("[")[0], (key,))
            assert outcome == "failed" and any(f"NotImplementedError: Exercise {k}:" in message for k in needs), \
                (test, message)
    assert rows["other"]["ok"] and rows["other"]["passed"] >= 10
    assert any("other tests" in line and " passed " in line for line in table)


def test_each_exercise_is_graded_on_its_own(tmp_path, minilm_folder):
    """With only the odd exercises blanked the even ones pass, and the other way round: no
    exercise's tests need another exercise's code."""
    for blanked in ((1, 3, 5, 7), (2, 4, 6)):
        folder = tmp_path / str(blanked[0])
        folder.mkdir()
        done, rows = grade(build(folder, "--only", *map(str, blanked)), folder / "grade.json",
                           *map(str, classroom.EXERCISES))
        assert done.returncode == 1
        for n, row in rows.items():
            assert row["ok"] == (n not in blanked), (n, row["message"])


def test_grade_in_the_project_passes_every_exercise(tmp_path, minilm_folder):
    done, rows = grade(ROOT, tmp_path / "grade.json", *map(str, classroom.EXERCISES))
    assert done.returncode == 0, done.stdout
    for n in classroom.EXERCISES:
        assert rows[n]["ok"] and rows[n]["passed"] == len(rows[n]["tests"]) > 0
    assert "all tests passed" in done.stdout


SLOW = ["tests/test_distill.py::test_teacher_learns_toy_task", "tests/test_distill.py::test_student_learns",
        "tests/test_distill.py::test_student_interrupted_and_resumed_is_the_same_student",
        "tests/test_distill.py::test_eval_errors_submission_and_predict"]


def test_solutions_pasted_back_pass_make_test(handout):
    """The handout with this project's solutions pasted back is this project again, byte for
    byte, and its `make test` passes.  The four end-to-end toy trainings of test_distill.py
    (a minute or more) are left out of that run: their files are the ones tested here."""
    solved = handout.parent / "solved"
    shutil.copytree(handout, solved, symlinks=True)
    done = run(["classroom.py", "solve", "--from", str(ROOT), "--to", str(solved)], solved)
    assert done.returncode == 0, done.stderr
    for rel in classroom.project_files(ROOT):
        assert (solved / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
    env = dict(os.environ, PYTEST_ADDOPTS=" ".join(f"--deselect={t}" for t in SLOW) + " -p no:cacheprovider")
    done = subprocess.run(["make", "test", f"PYTHON={sys.executable}"], cwd=solved, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
