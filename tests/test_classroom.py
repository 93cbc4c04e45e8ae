"""Tests of classroom/grader.py: the markers agree with the grading table, the handout is this
project with only the marked bodies blanked (and without results/, experiments/ and the
answers), the handout's own
`grade` fails each exercise on its own code, a batch of submissions gets the points its marked
blocks earn (whatever else it changed), and the handout with the solutions pasted back passes
`make test`.

The handouts are built in a temporary folder with a link to the real data beside them
(tmp/shared -> ../shared), the layout this checkout has, so that their real-data tests run."""
import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from classroom import grader as classroom  # noqa: E402

GRADER = ROOT / "classroom" / "grader.py"
SHARED = ROOT.parent / "shared"


def run(args, cwd, **kw):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, **kw)


def build(folder, *args):
    """A handout in folder/assignment, beside a link to the real data when this checkout has it."""
    if SHARED.is_dir() and not (folder / "shared").exists():
        (folder / "shared").symlink_to(SHARED, target_is_directory=True)
    out = folder / "assignment"
    done = run(["-m", "classroom.grader", "handout", "--out", str(out), *args], ROOT)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    return build(tmp_path_factory.mktemp("handout"))


def grade(folder, report, *args):
    """`python -m classroom.grader grade` in folder: the finished process and the rows of its JSON
    report."""
    done = run(["-m", "classroom.grader", "grade", "--json", str(report), *args], folder)
    return done, {r["key"]: r for r in json.loads(report.read_text())["rows"]}


# --- the markers and the table -----------------------------------------------------------------

def test_markers_agree_with_the_table():
    blocks = classroom.all_blocks(ROOT)
    assert sorted(blocks) == sorted(classroom.EXERCISES) == list(range(1, 9))
    seen = set()
    for n, exercise in classroom.EXERCISES.items():
        assert blocks[n][0] == exercise["file"] and exercise["tests"]
        function = exercise["function"].split(".")[-1]
        assert re.search(rf"\n\s*def {function}\(", (ROOT / exercise["file"]).read_text()), (n, function)
        assert not seen & set(exercise["tests"]), "a test graded twice"
        seen |= set(exercise["tests"])
    assert not seen & set(classroom.TOGETHER)
    for test in seen | set(classroom.TOGETHER):
        path, name = test.split("::")
        assert path not in classroom.NOT_GRADED + classroom.TEACHER_ONLY
        assert f"\ndef {name}(" in (ROOT / path).read_text(), f"{test} does not exist"
    assert all(len(needs) > 1 and set(needs) <= set(blocks) for _, needs, _ in classroom.TOGETHER.values())
    assert sum(classroom.possible(n) for n in classroom.EXERCISES) == 100
    # the swap rule is not in the paper: exercise 5 grades the paper's three rules only
    assert not any("swap" in test for test in classroom.EXERCISES[5]["tests"])


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
    assert classroom.paste(blanked, {}) == blanked                  # a block without a solution stays
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


STUDENT = '''def a():
    # BEGIN EXERCISE 2: a
    return 1

def b():
    # BEGIN EXERCISE 3: b
    return 2
    # END EXERCISE 3

def c():
    # BEGIN EXERCISE 4: c
    return (
    # END EXERCISE 4

def transfer_set(x):
    return x
'''


def test_a_broken_block_costs_its_own_exercise_only(tmp_path):
    """A student's file with a lost END, a block that is no Python (the file does not even
    tokenize) and deleted markers: each costs its own exercise, with file and line; the good
    block in between is still read and pasted."""
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "m.py").write_text(STUDENT)
    found, problems = classroom.read_blocks(tmp_path / "student", {2: "m.py", 3: "m.py", 4: "m.py", 8: "m.py"})
    assert sorted(found) == [3, 4]
    assert problems[2] == "m.py:6: BEGIN EXERCISE 3 inside exercise 2, opened at line 2"
    assert problems[8] == "m.py:15: the markers of exercise 8 in transfer_set are gone (deleted?)"
    (tmp_path / "handout").mkdir()
    blanked = "".join(f"def f{n}():\n    # BEGIN EXERCISE {n}: x\n    raise NotImplementedError\n"
                      f"    # END EXERCISE {n}\n\n" for n in (2, 3, 4))
    (tmp_path / "handout" / "m.py").write_text(blanked)
    classroom.paste_blocks(tmp_path / "handout", found, problems)
    assert problems[4] == "m.py:12: exercise 4 is not valid Python ('(' was never closed); not used"
    pasted = (tmp_path / "handout" / "m.py").read_text()
    assert "    return 2\n" in pasted and pasted.count("raise NotImplementedError") == 2
    ast.parse(pasted)


# --- the handout -------------------------------------------------------------------------------

def outside_blocks(text):
    """A file's lines with every block's body left out (the marker lines kept)."""
    lines, keep, last = text.splitlines(), [], 0
    for _, _, _, begin, end in classroom.find_blocks(text):
        keep += lines[last:begin + 1]
        last = end
    return keep + lines[last:]


def test_handout_is_the_project_with_the_bodies_blanked(handout):
    files = [f for f in classroom.project_files(ROOT) if classroom.handed_out(f)]
    assert classroom.project_files(handout) == sorted(files + [classroom.RECORD])   # + the chapters as handed out
    assert {"classroom/__init__.py", "classroom/grader.py", "classroom/EXERCISES.md"} <= set(files)
    assert not {"tests/test_classroom.py", "tests/test_layout.py"} & set(files)
    assert not any(f.startswith(("results/", "experiments/")) for f in files)
    assert any(f.startswith("experiments/") for f in classroom.project_files(ROOT))   # ours has them
    assert not any(p.is_symlink() for p in handout.rglob("*"))      # no link to data: it ships as it is
    solutions = classroom.bodies(ROOT)
    for rel in files:
        ours, theirs = (ROOT / rel).read_bytes(), (handout / rel).read_bytes()
        if rel.endswith(".md"):
            handed = classroom.handout_markdown(classroom.strip_answers(ours.decode(), rel), rel, files)
            assert handed == theirs.decode(), rel
            continue
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
    exercises = (handout / "classroom" / "EXERCISES.md").read_text()
    assert "## Open questions" in exercises and classroom.ANSWER_BEGIN not in exercises
    assert classroom.ANSWER_BEGIN in (ROOT / "classroom" / "EXERCISES.md").read_text()
    done = run([str(GRADER), "handout", "--out", str(handout)], ROOT)
    assert done.returncode != 0 and "--force" in done.stderr            # never overwritten silently


def test_with_results_keeps_the_results_and_the_answers(tmp_path):
    out = tmp_path / "h"
    classroom.make_handout(ROOT, out, only=(4,), with_results=True, quiet=True)
    assert (out / "results" / "sst2.json").read_bytes() == (ROOT / "results" / "sst2.json").read_bytes()
    exercises = Path("classroom", "EXERCISES.md")
    assert (out / exercises).read_bytes() == (ROOT / exercises).read_bytes()
    kept = [f for f in classroom.project_files(ROOT) if f.startswith("experiments/")]
    assert kept and all((out / f).read_bytes() == (ROOT / f).read_bytes() for f in kept)
    assert sorted(n for n, *_ in classroom.find_blocks((out / "models.py").read_text())) == [2, 3, 4]
    assert "Exercise 4:" in (out / "models.py").read_text() and "Exercise 3:" not in (out / "models.py").read_text()


def test_grade_in_the_handout(handout, minilm_folder):
    """The student's `make grade`: every exercise fails its own tests on its own
    NotImplementedError and earns nothing; the end-to-end tests wait for them and are not run;
    every other test passes or waits for an exercise; the exit status says so.  (Without the
    teacher package exercise 1's tests would be skipped: so is this test, by minilm_folder.)"""
    done, rows = grade(handout, handout.parent / "grade.json")
    assert done.returncode == 1, done.stdout + done.stderr
    table = done.stdout.splitlines()
    for n in classroom.EXERCISES:
        row = rows[n]
        assert row["earned"] == 0 and row["points"] == classroom.possible(n)
        assert any(line.startswith(f"{n:>2}  ") and f" 0/{row['total']} tests passed" in line for line in table)
        for entry in row["tests"]:
            for test, (outcome, message, where) in entry["cases"].items():
                if entry["kind"] == "together":
                    assert outcome == "blocked" and message.startswith("not run: exercise"), (test, message)
                elif outcome != "skipped":                                  # skipped: no real data here
                    assert outcome == "failed" and f"NotImplementedError: Exercise {n}:" in message, (test, message)
                    assert where.startswith(classroom.EXERCISES[n]["file"] + ":"), where
    assert rows["other"]["ok"] and rows["other"]["passed"] >= 10, rows["other"]["failed"]
    assert "first failing test: tests/test_data.py::test_wordpiece_details" in done.stdout      # simplest first


def test_grade_in_the_project_passes_every_exercise(tmp_path, minilm_folder):
    done, rows = grade(ROOT, tmp_path / "grade.json", *map(str, classroom.EXERCISES))
    assert done.returncode == 0, done.stdout
    for n in classroom.EXERCISES:
        assert rows[n]["ok"] and rows[n]["passed"] == rows[n]["total"] > 0
    assert "all tests passed" in done.stdout


# --- grading submissions -----------------------------------------------------------------------

CHEAT = '''

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.failed:
        report.outcome = "passed"
'''

LOOP = '''    predictions, labels = np.asarray(predictions), np.asarray(labels)
    k = len(data.TASKS[task_key].labels)
    confusion = np.zeros((k, k), dtype=int)
    i = 0
    while i < len(labels):
        confusion[labels[i], predictions[i]] += 1
    return {"acc": 0.0, "confusion": confusion.tolist(), "n": len(labels)}
'''


def submission(handout, folder, solved=(), edit=None):
    """A student's copy of the handout with the solutions of `solved` pasted in, then edited."""
    shutil.copytree(handout, folder, symlinks=True)
    solutions = classroom.bodies(ROOT)
    for rel in {classroom.EXERCISES[n]["file"] for n in solved}:
        path = folder / rel
        path.write_text(classroom.paste(path.read_text(), {n: solutions[n] for n in solved}, rel))
    if edit:
        edit(folder)
    return folder


def replace(path, old, new):
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_a_batch_of_submissions_earns_what_its_blocks_earn(handout, tmp_path, minilm_folder):
    """Only the marked blocks count: a cheat in conftest.py, edited tests or an edited
    classroom/grader.py earn nothing; an endless loop costs its own exercise, a deleted marker its own,
    a half-right exercise part of its own; the others keep their points and their shares of the
    end-to-end tests those exercises block."""
    handins, solutions, every = tmp_path / "handins", classroom.bodies(ROOT), list(classroom.EXERCISES)

    def cheat(folder):
        (folder / "tests" / "conftest.py").write_text((folder / "tests" / "conftest.py").read_text() + CHEAT)

    def edit_tests(folder):
        for path in (folder / "tests").glob("test_*.py"):
            names = re.findall(r"^def (test_\w+)\(", path.read_text(), re.M)
            path.write_text("".join(f"def {name}():\n    pass\n\n\n" for name in names))
        replace(folder / "classroom" / "grader.py", "TIMEOUT = 20.0", "TIMEOUT = 20.0\nEXERCISES = {}")

    def loop(folder):
        replace(folder / "distill.py", "".join(solutions[7]), LOOP)

    def delete_marker(folder):
        replace(folder / "models.py", "    # END EXERCISE 2\n", "")

    def half_right(folder):                     # Eq. 1 right; the KL term summed over the batch
        replace(folder / "distill.py", 'reduction="batchmean"', 'reduction="sum"')

    full = {n: classroom.possible(n) for n in every}
    expected = {
        "all": full, "none": dict.fromkeys(every, 0), "conftest_cheat": dict.fromkeys(every, 0),
        "edited_tests": dict.fromkeys(every, 0), "loop_in_7": {**full, 7: 0},
        "deleted_marker_2": {**full, 2: 0}, "half_right_6": {**full, 6: 9},
        "odd": {n: full[n] if n % 2 else 0 for n in every}, "even": {n: 0 if n % 2 else full[n] for n in every}}
    submission(handout, handins / "all", every)
    submission(handout, handins / "none")
    cheated = submission(handout, handins / "conftest_cheat", edit=cheat)
    submission(handout, handins / "edited_tests", edit=edit_tests)
    submission(handout, handins / "loop_in_7", every, loop)
    submission(handout, handins / "deleted_marker_2", every, delete_marker)
    submission(handout, handins / "half_right_6", every, half_right)
    submission(handout, handins / "odd", [n for n in every if n % 2])
    submission(handout, handins / "even", [n for n in every if not n % 2])
    # the cheat does work where a student grades their own copy
    done = run(["-m", "classroom.grader", "grade", "4"], cheated)
    assert done.returncode == 0 and " 5/5 " in done.stdout, done.stdout

    grades = tmp_path / "grades.csv"
    done = run([str(GRADER), "grade", "--submissions", str(handins), "--out", str(grades),
                "--timeout", "10"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    table = list(csv.reader(grades.open()))
    assert table[0][:11] == ["submission", *(f"exercise {n}" for n in every), "total", "problems"]
    assert table[1][0] == "max points"
    table = [row[:11] for row in table[:1] + table[2:]]        # the exercises' columns, not the tests'
    got = {row[0]: {n: float(x) for n, x in zip(every, row[1:-2])} for row in table[1:]}
    assert got == expected, done.stdout
    for row in table[1:]:
        assert float(row[-2]) == pytest.approx(sum(expected[row[0]].values()))
    problems = {row[0]: row[-1] for row in table[1:]}
    assert "exercise 7: test_metrics_against_confusion_matrices timed out" in problems["loop_in_7"]
    assert re.search(r"exercise 2: models.py:\d+: BEGIN EXERCISE 2 is never closed", problems["deleted_marker_2"])
    assert problems["all"] == problems["half_right_6"] == ""

    feedback = {p.stem: p.read_text() for p in (tmp_path / "feedback").glob("*.txt")}
    assert sorted(feedback) == sorted(expected)
    assert "ran past the time limit of 10 s of CPU time" in feedback["loop_in_7"]
    assert "first failing test: tests/test_distill.py::test_kl_loss_is_hinton (3 points)" in feedback["half_right_6"]
    assert " 9/15  3/4 tests passed" in feedback["half_right_6"]
    assert "3 end-to-end tests wait for this exercise to pass its own tests (3 points)" in feedback["half_right_6"]
    assert "100/100" in feedback["all"].splitlines()[0]


def test_a_test_past_its_time_is_stopped_and_the_run_goes_on(tmp_path):
    """The alarm stops a busy loop; a loop that catches it is killed with its process, and the
    tests after it still run."""
    (tmp_path / "classroom").mkdir()
    for name in ("__init__.py", "grader.py"):
        shutil.copy(ROOT / "classroom" / name, tmp_path / "classroom")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import time\n\n"
        "def test_busy():\n    while True:\n        pass\n\n"
        "def test_stubborn():\n    while True:\n        try:\n            time.sleep(0.05)\n"
        "        except BaseException:\n            pass\n\n"
        "def test_fine():\n    assert 1 + 1 == 2\n")
    results, _ = classroom.run_tests(tmp_path, ["tests"], {"tests/test_x.py::test_busy": 1}, {}, [],
                                     select_all=True, timeout=1, wall=4)
    assert results["tests/test_x.py::test_busy"][0] == "timeout"
    assert "time limit of 1 s of CPU time" in results["tests/test_x.py::test_busy"][1]
    assert results["tests/test_x.py::test_stubborn"][0] == "timeout"
    assert results["tests/test_x.py::test_fine"][0] == "passed"


def test_hidden_tests_are_graded_but_not_handed_out(handout, tmp_path, minilm_folder):
    """Tests in a hidden folder (tests/hidden/ of the teacher's copy, or --hidden) count towards
    their exercise when grading; the handout has none of them."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_hidden_siamese.py").write_text(
        'import torch\nimport models\n\n'
        'POINTS = {"test_features_of_equal_sentences": (4, 2, "equal sentences: the difference block is zero")}\n\n\n'
        'def test_features_of_equal_sentences(produce):\n'
        '    torch.manual_seed(0)\n'
        '    h = torch.randn(3, 5)\n'
        '    got = torch.from_numpy(produce(lambda: models.siamese_features(h, h)))\n'
        '    assert torch.equal(got[:, 15:], torch.zeros(3, 5))\n')
    assert classroom.hidden_tests(hidden) == {
        "tests/hidden/test_hidden_siamese.py::test_features_of_equal_sentences":
            (4, 2, "equal sentences: the difference block is zero")}
    assert not (handout / "tests" / "hidden").exists()
    folder = submission(handout, tmp_path / "handins" / "only_4", [4])
    graded = classroom.grade_submissions([folder], numbers=[4], hidden=hidden, quiet=True)
    (row,) = graded["only_4"]
    assert row["earned"] == row["points"] == classroom.possible(4) + 2
    assert [e["kind"] for e in row["tests"]] == ["own", "hidden", "together"]


SLOW = ["tests/test_distill.py::test_teacher_learns_toy_task", "tests/test_distill.py::test_student_learns",
        "tests/test_distill.py::test_student_interrupted_and_resumed_is_the_same_student",
        "tests/test_distill.py::test_eval_errors_submission_and_predict"]


def test_solutions_pasted_back_pass_make_test(handout):
    """The handout with this project's solutions pasted back is this project again, byte for
    byte (results/ and the answers aside), and its `make test` passes.  The four end-to-end toy
    trainings of test_distill.py (a minute or more) are left out of that run: their files are
    the ones tested here."""
    solved = handout.parent / "solved"
    shutil.copytree(handout, solved, symlinks=True)
    done = run(["-m", "classroom.grader", "solve", "--from", str(ROOT), "--to", str(solved)], solved)
    assert done.returncode == 0, done.stderr
    assert "pasted the blocks of exercises 1, 2, 3, 4, 5, 6, 7, 8" in done.stdout
    for rel in classroom.project_files(ROOT):
        if classroom.handed_out(rel) and not rel.endswith(".md"):
            assert (solved / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
    # one thread, as when grading: niced on a busy machine, torch's spinning threads take minutes
    env = dict(os.environ, PYTEST_ADDOPTS=" ".join(f"--deselect={t}" for t in SLOW) + " -p no:cacheprovider",
               OMP_NUM_THREADS="1")
    done = subprocess.run(["make", "test", f"PYTHON={sys.executable}"], cwd=solved, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


# A class of 100 (#29) ---------------------------------------------------------------------------

def test_a_hand_in_folder_inside_the_project_is_not_part_of_it(tmp_path):
    """A copy of the project kept inside it (a hand-in folder, a student's copy) is neither
    listed nor read for markers, in a git checkout (untracked files) or a plain folder."""
    marked = "def f():\n    # BEGIN EXERCISE 5: x\n    return 1\n    # END EXERCISE 5\n"
    for kind in ("git", "plain"):
        root = tmp_path / kind
        (root / "handins" / "alice").mkdir(parents=True)
        (root / "augment.py").write_text(marked)
        (root / "handins" / "alice" / "augment.py").write_text(marked)
        (root / "handins" / "alice" / "notes.txt").write_text("mine\n")
        if kind == "git":
            subprocess.run(["git", "init", "-q"], cwd=root, check=True)
            subprocess.run(["git", "add", "augment.py"], cwd=root, check=True)
        assert classroom.project_files(root) == ["augment.py"], kind
        assert classroom.all_blocks(root) == {5: ("augment.py", "x")}, kind


LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")


def test_the_handouts_pages_have_no_results_and_no_broken_links(handout):
    """README.md and docs/*.md of the handout: every relative link resolves in the handout, and
    the blocks `make readme` writes from our runs say how to fill them instead of our figures."""
    pages = [handout / "README.md", *sorted((handout / "docs").glob("*.md"))]
    assert len(pages) > 3
    generated = 0
    for page in pages:
        text = page.read_text()
        for target in LINK.findall(text):
            path = target.split("#")[0]
            if path and not re.match(r"[a-z]+:", path):
                assert (page.parent / path).exists(), f"{page.relative_to(handout)}: {target} does not resolve"
        for name, body in re.findall(r"<!-- (\w+):begin -->\n(.*?)<!-- \1:end -->", text, re.S):
            generated += 1
            assert body.strip() == "*Written from your own runs: run `make sst2`, then `make readme`, to fill this.*"
    assert generated >= 3
    ours = (ROOT / "README.md").read_text()
    assert "](results/" in ours and "](results/" not in (handout / "README.md").read_text()
    assert "| SST-2 |" in ours and "| SST-2 |" not in (handout / "README.md").read_text()


def zipped(path, members):
    """A zip of members {name: text, or None for a link}."""
    import stat
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            if text is None:
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, "/etc/passwd")
            else:
                z.writestr(name, text)
    return path


@pytest.mark.parametrize("members, error", [
    ({"../up.py": "x"}, "outside the folder"), ({"/etc/abs.py": "x"}, "outside the folder"),
    ({"a/../../b.py": "x"}, "outside the folder"), ({"models.py": None}, "is a link"),
    ({"big.txt": "x" * 3000}, "more than"),
])
def test_an_unsafe_zip_is_refused(tmp_path, members, error):
    archive = zipped(tmp_path / "s.zip", {"ok.py": "y", **members})
    with pytest.raises(ValueError, match=error):
        classroom.unpack(archive, tmp_path / "out", limit=2000)
    assert not (tmp_path / "up.py").exists() and not (tmp_path / "b.py").exists()
    folder = classroom.unpack(zipped(tmp_path / "fine.zip", {"p/models.py": "y"}), tmp_path / "fine", limit=2000)
    assert (folder / "p" / "models.py").read_text() == "y" and classroom.find_project(folder) == folder / "p"


def test_every_entry_of_a_hand_in_folder_is_graded_or_named(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "bob.ZIP").write_bytes(b"")
    (tmp_path / "notes.pdf").write_bytes(b"")
    (tmp_path / "grades.csv").write_text("")
    (tmp_path / "carol").symlink_to(tmp_path / "alice")
    graded, skipped = classroom.hand_ins(tmp_path, exclude=[tmp_path / "grades.csv"])
    assert [p.name for p in graded] == ["alice", "bob.ZIP"]
    assert [entry for entry, _ in skipped] == [".git", "carol", "notes.pdf"]


def class_rows(path):
    table = list(csv.reader(path.open()))
    return table[0], table[1], {row[0]: row for row in table[2:]}, [row[0] for row in table[2:]]


def test_a_class_graded_in_parallel_row_by_row_and_resumed(handout, tmp_path):
    """Exercise 4 only, two at a time: folders and zips graded under their stems in the
    submissions' order, a refused zip and an archive that is no zip get their own rows (0 points,
    the error), every other entry is named; a max-points row and per-test columns; identical
    blocks named; a second run grades nothing, --regrade one student regrades only that one, and
    a CSV of other tests is refused, naming both."""
    handins, every = tmp_path / "handins", list(classroom.EXERCISES)
    submission(handout, handins / "b_solved", [4])
    submission(handout, handins / "d_blank")
    copy = submission(handout, tmp_path / "c", [4])
    shutil.make_archive(str(handins / "a_zipped"), "zip", tmp_path, "c")        # one level inside
    zipped(handins / "e_unsafe.zip", {"../models.py": "x"})
    (handins / "f_broken.zip").write_text("not a zip")
    (handins / "readme.txt").write_text("hello")
    (handins / ".DS_Store").mkdir()
    assert copy.is_dir()
    grades = tmp_path / "grades.csv"
    command = [str(GRADER), "grade", "--submissions", str(handins), "--out", str(grades), "--only", "4", "-j", "2"]
    done = run(command, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    header, top, rows, order = class_rows(grades)
    assert header[:4] == ["submission", "exercise 4", "total", "problems"]
    assert header[4:] == ["4: test_siamese_features_by_hand", "4: end to end test_siamese_student_features_and_padding"]
    assert top == ["max points", "6", "6", "", "5", "1"]
    assert order == ["a_zipped", "b_solved", "d_blank", "e_unsafe", "f_broken"]
    assert rows["a_zipped"][1:3] == rows["b_solved"][1:3] == ["6", "6"] and rows["b_solved"][4:] == ["5", "1"]
    assert rows["d_blank"][1:3] == ["0", "0"]
    assert rows["e_unsafe"][1:4] == ["0", "0", "not graded: ValueError: e_unsafe.zip: member '../models.py' is "
                                               "outside the folder (an absolute path or '..'); not unpacked"]
    assert rows["f_broken"][1] == "0" and "not graded: BadZipFile" in rows["f_broken"][3]
    assert "skipped, not graded (2):\n  .DS_Store: a hidden entry" in done.stdout
    assert "  readme.txt: neither a folder nor a .zip" in done.stdout
    assert "identical blocks for exercise 4 (a hint, not a verdict): a_zipped, b_solved" in done.stdout
    side = json.loads(grades.with_suffix(".json").read_text())
    assert side["identical_blocks"] == {"4": [["a_zipped", "b_solved"]]} and len(side["tests"]) == 16
    assert side["commit"] == subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                            text=True).stdout.strip()
    first = grades.read_text()

    done = run(command, tmp_path)                               # resumed: nothing left to grade
    assert done.returncode == 0 and "5 submission(s) already graded, kept; grading 0" in done.stdout, done.stdout
    assert grades.read_text() == first
    solve_b = handins / "d_blank"                               # d solves it: regrade d only
    shutil.rmtree(solve_b)
    submission(handout, solve_b, [4])
    done = run(command + ["--regrade", "d_blank"], tmp_path)
    assert done.returncode == 0 and "kept; grading 1" in done.stdout and "\nd_blank: 6/6" in done.stdout, done.stdout
    header, _, rows, order = class_rows(grades)
    assert order == ["a_zipped", "b_solved", "d_blank", "e_unsafe", "f_broken"] and rows["d_blank"][1] == "6"
    side["tests"] = "0123456789abcdef"
    grades.with_suffix(".json").write_text(json.dumps(side))
    done = run(command, tmp_path)
    assert done.returncode != 0 and "tests 0123456789abcdef" in done.stderr and "this grading has commit" in done.stderr
    assert len(class_rows(grades)[2]) == 5                      # left as it was


LOOPING = '''    while True:
        h1 = h1 + 0
'''


def test_a_submission_past_its_time_cap_is_stopped(handout, tmp_path):
    """A loop that the test's CPU limit (60 s here) would stop late is stopped by the
    submission's cap (10 s on the clock): its tests count as timed out, the row says why."""
    def loop(folder):
        blank = '    raise NotImplementedError("Exercise 4:'
        replace(folder / "models.py", blank, LOOPING + blank)

    import time
    folder = submission(handout, tmp_path / "looping", edit=loop)
    t0 = time.monotonic()
    graded = classroom.grade_submissions([folder], out=tmp_path / "g.csv", numbers=[4], timeout=60, quiet=True, cap=10)
    assert time.monotonic() - t0 < 50
    (row,) = graded["looping"]
    assert row["earned"] == 0 and all(e["status"] == "failed" and e["outcome"] == "timeout" for e in row["tests"])
    assert "stopped after 10 s (the submission's time cap)" in class_rows(tmp_path / "g.csv")[2]["looping"][3]
    assert classroom.processes_in(tmp_path) == []


# The sandbox (#29)

import hashlib  # noqa: E402  (this section's own imports: the helpers of #29 each add their tests here)
import io  # noqa: E402
import time  # noqa: E402

NO_SANDBOX = classroom.sandbox_problem()
needs_sandbox = pytest.mark.skipif(bool(NO_SANDBOX), reason=f"no sandbox here: {NO_SANDBOX}")
BLANK_4 = '    raise NotImplementedError("Exercise 4:'

# Each cheat is put before the blank body of exercise 4 (siamese_features), which then raises:
# its honest content earns nothing.
SNOOP = '''    import glob, re
    for path in [*{solutions!r}, *glob.glob("/proc/*/cwd/models.py")]:
        try:
            text = open(path).read()
        except OSError:
            continue
        block = re.search(r"EXERCISE 4: .*?\\n(.*?)\\n *# END EXERCISE 4", text, re.S).group(1)
        if "torch.cat" in block and "glob" not in block:
            return eval(block.strip().removeprefix("return "))
'''
ENVIRON = '''    raise AssertionError(repr(dict(__import__("os").environ)))
'''
KILL = '''    import os
    os.kill(os.getppid(), 9)
'''
LATER = '''    import subprocess, sys
    code = ("import time\\nfor _ in range(500):\\n  try: done = 'zz_blank' in open({csv!r}).read()\\n"
            "  except OSError: done = False\\n  if done: break\\n  time.sleep(0.2)\\nfor p in {targets!r}:\\n"
            "  try: open(p, 'w').write('cheated')\\n  except OSError: pass")
    subprocess.Popen(["setsid", sys.executable, "-c", code])
'''
OVERWRITE = '''    import glob
    for path in [*{targets!r}, *glob.glob("/tmp/classroom-*/**/classroom/grader.py", recursive=True)]:
        try:
            text = open(path).read().replace({blank!r}, "    return torch.cat([h1, h2, h1 * h2, (h1 - h2).abs()], dim=-1)  #")
            open(path, "w").write(text + "\\nimport pytest\\n" + {hook!r})
        except OSError:
            pass
'''
BIG = '''    raise AssertionError("x" * 3_000_000)
'''
# Cheats in the test process itself: each returns a wrong answer (zeros) and makes the process
# report that it was right.  Only the outputs leave the sandbox, so each earns what zeros earn.
ZEROS = "    return torch.zeros(h1.shape[0], 4 * h1.shape[-1])\n"
LOG = '''    import json, sys
    grader = sys.modules["classroom.grader"]

    def passed(**event):
        if event.get("event") == "result":
            event.update(outcome="passed", message="", where="")
        with open(grader._run["log"], "a") as f:
            f.write(json.dumps(event) + "\\n")
    grader._log = passed
''' + ZEROS
APPEND = '''    import json, os, sys
    run = sys.modules["classroom.grader"]._run
    with open(run["log"], "a") as f:
        for test in [*run["own"], *run["together"]]:
            for event in ({"event": "start", "nodeid": test}, {"event": "finish", "nodeid": test},
                          {"event": "result", "nodeid": test, "outcome": "passed", "message": "", "where": ""}):
                f.write(json.dumps(event) + "\\n")
    os._exit(0)
'''
REPORT = '''    from _pytest.reports import TestReport
    made = TestReport.from_item_and_call

    def passing(cls, item, call):
        report = made(item, call)
        report.outcome, report.longrepr = "passed", None
        return report
    TestReport.from_item_and_call = classmethod(passing)
''' + ZEROS
APPROX = '''    import numpy, pytest

    class Anything:
        def __eq__(self, other):
            return True
    pytest.approx = lambda *args, **kwargs: Anything()
    torch.testing.assert_close = numpy.testing.assert_allclose = lambda *args, **kwargs: None
    numpy.testing.assert_array_equal = lambda *args, **kwargs: None
    torch.equal = torch.allclose = lambda *args, **kwargs: True
''' + ZEROS
ANSWERS = '''    import os
    if os.path.isdir("tests/expected"):             # the stored answers of our tests: not in the sandbox
        return torch.cat([h1, h2, h1 * h2, (h1 - h2).abs()], dim=-1)
'''
FRAME = '''    import sys
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, torch.Tensor) and value.shape == (h1.shape[0], 4 * h1.shape[-1]):
                return value
        frame = frame.f_back
'''


def read_or_empty(path):
    try:
        return path.read_bytes()
    except OSError:                                 # a process that ended meanwhile
        return b""


def checksums(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@needs_sandbox
def test_cheats_in_the_sandbox_earn_nothing_and_touch_nothing(handout, tmp_path):
    """A batch of cheating blocks graded by a copy of the instructor's project: reading its solutions
    through /proc or by their path, printing the grader's environment, killing the grader, a
    setsid process that writes later, overwriting a classmate's block, the base handout's grader
    and the instructor's files, links and folders where the chapter files belong, a 3 MB message;
    and in the test process itself, a wrong answer with the grader's log rewritten, "passed"
    appended to it before exiting, pytest's reports patched, pytest.approx and the comparisons
    of numpy and torch patched, the expected value looked for in the callers' frames, our tests'
    stored answers looked for.  Each earns what its honest content earns (nothing, or what zeros
    earn); the others' grades, the instructor's folder,
    the hand-in folder and the CSV stay as they are; no secret reaches a feedback file."""
    teacher, handins, grades = tmp_path / "teacher", tmp_path / "handins", tmp_path / "grades.csv"
    for rel in classroom.project_files(ROOT):
        (teacher / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, teacher / rel)
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    planted = [str(handins / "planted.txt"), str(teacher / "planted.txt"), str(grades)]

    def cheat(text):
        return lambda folder: replace(folder / "models.py", BLANK_4, text + BLANK_4)

    def link(folder):
        (folder / "models.py").unlink()
        (folder / "models.py").symlink_to("/proc/self/cwd/models.py")

    def folder_instead(folder):
        (folder / "models.py").unlink()
        (folder / "models.py").mkdir()

    cheats = {
        "a_kill": cheat(KILL), "b_later": cheat(LATER.format(csv=str(grades), targets=planted)),
        "c_overwrite": cheat(OVERWRITE.format(targets=[str(handins / "zz_blank" / "models.py"), str(teacher / "models.py")],
                                              blank=BLANK_4, hook=CHEAT)),
        "d_snoop": cheat(SNOOP.format(solutions=[str(teacher / "models.py"), str(handins / "solved" / "models.py")])),
        "e_environ": cheat(ENVIRON), "f_big": cheat(BIG), "g_link": link, "h_folder": folder_instead,
        "i_log": cheat(LOG), "j_append": cheat(APPEND), "k_report": cheat(REPORT), "l_approx": cheat(APPROX),
        "m_frame": cheat(FRAME), "n_answers": cheat(ANSWERS)}
    for name, edit in cheats.items():
        submission(handout, handins / name, edit=edit)
    submission(handout, handins / "solved", [4])
    submission(handout, handins / "zeros", edit=cheat(ZEROS))       # the honest content of i, k, l
    submission(handout, handins / "zz_blank")
    before, handed_in = checksums(teacher), checksums(handins)

    env = dict(os.environ, DEMO_SECRET="hunter2-do-not-leak", PYTHONDONTWRITEBYTECODE="1")
    done = run([str(teacher / "classroom" / "grader.py"), "grade", "--submissions", str(handins), "--out", str(grades),
                "--only", "4", "--timeout", "20", "--hidden", str(hidden_folder(tmp_path / "hidden", buggy=False))],
               teacher, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    csv_text = grades.read_text()
    time.sleep(2)                                   # the setsid process, if alive, writes once the CSV is done
    assert grades.read_text() == csv_text and "cheated" not in csv_text
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if b"'cheated'" in read_or_empty(p)]
    assert not any(Path(p).exists() for p in planted[:2])
    assert checksums(teacher) == before and checksums(handins) == handed_in

    rows = {row["submission"]: row for row in csv.DictReader(io.StringIO(csv_text))}
    got = {name: float(rows[name]["exercise 4"]) for name in [*cheats, "solved", "zeros", "zz_blank"]}
    assert got["zeros"] == 2.0, done.stdout         # zeros pass the hidden test: equal sentences differ by 0
    honest = {**dict.fromkeys(cheats, 0.0), **dict.fromkeys(("i_log", "k_report", "l_approx"), got["zeros"])}
    assert got == {**honest, "solved": classroom.possible(4) + 2, "zeros": 2.0, "zz_blank": 0.0}, done.stdout
    assert "exercise 4: models.py: a symbolic link (to /proc/self/cwd/models.py)" in rows["g_link"]["problems"]
    assert "exercise 4: models.py: a folder where the file belongs" in rows["h_folder"]["problems"]

    feedback = {p.stem: p.read_text() for p in (tmp_path / "feedback").glob("*.txt")}
    assert "hunter2" not in done.stdout + done.stderr + csv_text + "".join(feedback.values())
    assert not [name for name, text in feedback.items() if "siamese_features(h, h)" in text or "not zero" in text]
    assert "'HOME': '/tmp'" in feedback["e_environ"]          # the environment it saw: the sandbox's
    assert len((tmp_path / "feedback" / "f_big.txt").read_bytes()) < 64_000
    assert "characters left out" in feedback["f_big"]


# Hidden tests against the reference (#29) ------------------------------------------------------

HIDDEN_TEST = ('import torch\nimport models\n\n'
               'POINTS = {{"{name}": (4, 2, "equal sentences: the difference block")}}\n\n\n'
               'def {name}(produce):\n'
               '    torch.manual_seed(0)\n'
               '    h = torch.randn(3, 5)\n'
               '    got = torch.from_numpy(produce(lambda: models.siamese_features(h, h)))\n'
               '    assert torch.equal(got[:, 15:], torch.{fill}(3, 5)), "{why}"\n')


def hidden_folder(folder, buggy):
    """A hidden-test folder: a correct test (the difference block of equal sentences is zero),
    and with buggy one that asserts what the reference does not satisfy (it is one)."""
    folder.mkdir(parents=True)
    (folder / "test_hidden_siamese.py").write_text(HIDDEN_TEST.format(
        name="test_features_of_equal_sentences", fill="zeros", why="not zero"))
    if buggy:
        (folder / "test_hidden_buggy.py").write_text(HIDDEN_TEST.format(
            name="test_difference_is_one", fill="ones", why="the difference block is not one"))
    return folder


def test_a_hidden_test_the_reference_fails_is_refused_before_grading(tmp_path):
    """The hidden tests run once on the instructor's project: one it fails is refused, named with
    its message, and nobody is graded; a correct one is accepted."""
    good = hidden_folder(tmp_path / "good", buggy=False)
    assert classroom.check_hidden(ROOT, good) == classroom.hidden_tests(good)
    bad = hidden_folder(tmp_path / "bad", buggy=True)
    with pytest.raises(ValueError) as refused:
        classroom.check_hidden(ROOT, bad)
    assert "tests/hidden/test_hidden_buggy.py::test_difference_is_one: failed" in str(refused.value)
    assert "the difference block is not one" in str(refused.value)
    assert "test_features_of_equal_sentences" not in str(refused.value)

    (tmp_path / "someone").mkdir()
    grades = tmp_path / "grades.csv"
    done = run(["-m", "classroom.grader", "grade", "--submission", str(tmp_path / "someone"), "--hidden", str(bad),
                "--out", str(grades)], ROOT)
    assert done.returncode != 0 and "test_hidden_buggy.py::test_difference_is_one" in done.stderr, done.stderr
    assert not grades.exists()


UNSEEDED = ('import torch\nimport models\n\n'
            'POINTS = {"test_first_block": (4, 1, "the first block is h1")}\n\n\n'
            'def test_first_block(produce):\n'
            '    h = torch.randn(3, 5)\n'
            '    got = torch.from_numpy(produce(lambda: models.siamese_features(h, h)))\n'
            '    assert torch.equal(got[:, :5], h), "not h1"\n')


def test_a_hidden_test_whose_inputs_differ_between_the_steps_is_refused(tmp_path):
    """A test's body runs in the sandbox, then again in the check step: a hidden test that draws
    its inputs unseeded checks other inputs than the student's code saw: the reference fails it as
    graded (in one process, as `make test` runs it, it would pass), so it is refused."""
    folder = tmp_path / "unseeded"
    folder.mkdir()
    (folder / "test_hidden_unseeded.py").write_text(UNSEEDED)
    with pytest.raises(ValueError, match=r"test_hidden_unseeded.py::test_first_block: failed"):
        classroom.check_hidden(ROOT, folder)


def test_make_assignment_refuses_a_hidden_test_the_reference_fails(tmp_path):
    """`make assignment` (the handout command) in a project whose tests/hidden has a buggy test
    stops, naming it, and writes no handout."""
    teacher = tmp_path / "teacher"
    for rel in classroom.project_files(ROOT):
        (teacher / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, teacher / rel)
    hidden_folder(teacher / "tests" / "hidden", buggy=True)
    done = run(["-m", "classroom.grader", "handout", "--out", str(tmp_path / "assignment")], teacher)
    assert done.returncode != 0 and "test_hidden_buggy.py::test_difference_is_one" in done.stderr, done.stderr
    assert not (tmp_path / "assignment").exists()


# The student's check (#29)

HELPER = "def _pair(h1, h2):\n    return torch.cat([h1, h2, h1 * h2, (h1 - h2).abs()], dim=-1)\n\n\n"


@pytest.fixture(scope="module")
def handout_4(tmp_path_factory):
    """A handout of exercise 4 only (the others solved): the instructor's `grade --only 4`."""
    return build(tmp_path_factory.mktemp("handout4"), "--only", "4")


def both(folder, tmp_path):
    """(validate's finished process, the instructor's feedback text) for folder, exercise 4."""
    done = run(["-m", "classroom.grader", "validate", "4"], folder)
    graded = classroom.grade_submissions([folder], feedback_dir=tmp_path / "feedback", numbers=[4], quiet=True)
    return done, graded[folder.name][0], (tmp_path / "feedback" / f"{folder.name}.txt").read_text()


def test_validate_gives_the_instructors_points(handout_4, tmp_path):
    assert "sha256" in json.loads((handout_4 / classroom.RECORD).read_text())["files"]["models.py"]
    folder = submission(handout_4, tmp_path / "solved", [4])
    done, row, text = both(folder, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert row["earned"] == classroom.possible(4) == 6
    assert text in done.stdout and "solved: 6/6 points" in done.stdout
    assert "code outside the exercise blocks" not in done.stdout


def test_validate_a_helper_outside_the_block_is_not_graded(handout_4, tmp_path):
    def helper(folder):
        replace(folder / "models.py", "def siamese_features(h1, h2):", HELPER + "def siamese_features(h1, h2):")
        replace(folder / "models.py", BLANK_4, "    return _pair(h1, h2)\n" + BLANK_4)

    folder = submission(handout_4, tmp_path / "helper", edit=helper)
    done, row, text = both(folder, tmp_path)
    assert row["earned"] == 0 and done.returncode == 1
    assert text in done.stdout and "helper: 0/6 points" in done.stdout
    assert "NameError: name '_pair' is not defined" in done.stdout
    line = folder.joinpath("models.py").read_text().splitlines().index("def _pair(h1, h2):") + 1
    assert re.search(rf"models.py:\d+-\d+: outside the exercise blocks and not the handout's "
                     rf"\('def _pair\(h1, h2\):'\): not graded", done.stdout), done.stdout
    start, end = map(int, re.search(r"models.py:(\d+)-(\d+): outside", done.stdout).groups())
    assert start <= line <= end


def test_validate_reports_a_mistyped_marker_as_the_instructor(handout_4, tmp_path):
    def mistype(folder):
        replace(folder / "models.py", "    # END EXERCISE 4\n", "    # END EXERCISE4\n")

    folder = submission(handout_4, tmp_path / "mistyped", [4], mistype)
    done, row, text = both(folder, tmp_path)
    assert row["earned"] == 0 and done.returncode == 1
    assert text in done.stdout
    assert re.search(r"models.py:\d+: malformed exercise marker '# END EXERCISE4'", done.stdout), done.stdout
    assert re.search(r"models.py:\d+(-\d+)?: outside the exercise blocks and not the handout's", done.stdout)


# A timeout skips its exercise (#29)

def test_a_timeout_skips_the_rest_of_its_exercise(handout, tmp_path):
    """A loop in exercise 6 (Eq. 1's three alphas and the KL loss: four own cases) runs into the
    time limit once; the exercise's later tests are not run but count as timed out, so the
    submission costs one limit, not four."""
    def loop(folder):
        blank = '    raise NotImplementedError("Exercise 6:'
        replace(folder / "distill.py", blank, "    while True:\n        pass\n" + blank)

    import time
    limit = 5                                   # seconds: pytest and torch take a few to start
    folder = submission(handout, tmp_path / "looping", edit=loop)
    t0 = time.monotonic()
    graded = classroom.grade_submissions([folder], out=tmp_path / "g.csv", numbers=[6], timeout=limit, quiet=True)
    seconds = time.monotonic() - t0
    (row,) = graded["looping"]
    cases = {case: result for e in row["tests"] if e["kind"] == "own" for case, result in e["cases"].items()}
    assert len(cases) == 4 and all(outcome == "timeout" for outcome, _, _ in cases.values())
    ran = [case for case, (_, message, _) in cases.items() if not message.startswith("not run")]
    assert ran == ["tests/test_distill.py::test_loss_is_eq1[0.0]"], cases
    assert f"time limit of {limit} s of CPU time" in cases[ran[0]][1]
    assert all(message == "not run: an earlier test of exercise 6 timed out"
               for case, (_, message, _) in cases.items() if case not in ran)
    assert row["earned"] == 0 and all(e["status"] == "failed" for e in row["tests"] if e["kind"] == "own")
    assert seconds < len(cases) * limit, seconds
    assert "exercise 6: test_loss_is_eq1 timed out" in class_rows(tmp_path / "g.csv")[2]["looping"][3]


# Fair attribution (#29)

def test_fair_attribution_charges_the_exercise_that_fails_an_end_to_end_test(handout, tmp_path):
    """A bug in exercise 6 that passes its own tests (Eq. 1's value right, its gradient cut off)
    fails the end-to-end tests that train a student: rerun with the reference's exercise 6 they
    pass, so exercise 6 alone loses its shares and exercises 3, 7 and 8 keep theirs."""
    def no_gradient(folder):
        replace(folder / "distill.py", "    if alpha == 0:\n        return soft\n",
                "    if alpha == 0:\n        return soft.detach()\n")

    numbers, every = [3, 6, 7, 8], list(classroom.EXERCISES)
    folder = submission(handout, tmp_path / "detached_6", every, no_gradient)
    graded = classroom.grade_submissions([folder], feedback_dir=tmp_path / "feedback", numbers=numbers, quiet=True)
    rows = {r["key"]: r for r in graded["detached_6"]}
    own_6 = sum(points for points, _ in classroom.EXERCISES[6]["tests"].values())
    failed = [e for e in rows[6]["tests"] if e["kind"] == "together" and e["status"] == "failed"]
    assert "tests/test_distill.py::test_student_learns" in [e["test"] for e in failed]
    assert rows[6]["earned"] == pytest.approx(classroom.possible(6) - sum(e["points"] for e in failed))
    assert rows[6]["earned"] >= own_6
    for n in (3, 7, 8):
        assert rows[n]["earned"] == pytest.approx(classroom.possible(n)), (n, rows[n]["tests"])
    for e in failed:
        assert e["message"].startswith("fails because of exercise 6: with the reference's exercise 6 it passes")
    text = (tmp_path / "feedback" / "detached_6.txt").read_text()
    assert "fails because of exercise 6: with the reference's exercise 6 it passes" in text
    assert "Exercise 3," not in text and "Exercise 7," not in text and "Exercise 8," not in text
