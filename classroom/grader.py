"""classroom/grader.py -- the classroom kit: this project as graded exercises
(classroom/EXERCISES.md).

Eight pieces of the method are marked in the code, each with one pair of plain comments:

    def distill_loss(student_logits, teacher_logits, labels, ...):
        \"\"\"Eq. 1. ...\"\"\"                       <- the docstring, the contract, stays in the handout
        # BEGIN EXERCISE 6: Eq. 1 (or, ...)     <- the line after the colon is the task
        if kind == "mse":                       <- the solution: replaced in the handout
            ...
        # END EXERCISE 6

(the convention of nbgrader's "BEGIN SOLUTION" cells, in plain .py files).

The teacher, in the project folder:

    python -m classroom.grader handout --out assignment
        # the project, each marked body replaced by raise NotImplementedError("Exercise 6: ...")
    python -m classroom.grader grade --submissions handins --out grades.csv
        # every folder of handins/ is one student's copy: only its marked blocks are read, pasted
        # into a fresh handout and tested there with our tests; grades.csv, feedback/<name>.txt

The student, in the handout:

    python -m classroom.grader grade      # points per exercise, and why the first failing test failed
    python -m classroom.grader grade 3    # only exercise 3's own tests (seconds)

It imports nothing of ours: it reads the source files as text and runs the tests in a pytest
subprocess, so that a half-written file (even one that does not parse) costs points, never a
crash of the grader (`python classroom/grader.py ...` works as well).  That subprocess runs in
the project folder, which `python -m pytest` puts on sys.path, and loads this file as a pytest
plugin (-p classroom.grader): it stops a test that runs past the time limit and logs each
outcome as it comes.  A submission's tests run twice: in a sandbox, where they only call the
student's code and write its outputs, then outside it, where those outputs are checked
(produce_and_check below); the grades come from the second run.
"""
import argparse
import ast
import csv
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent     # the project folder
GRADER = "classroom/grader.py"                     # this file, in the project and in a handout
PLUGIN = "classroom.grader"                        # and as pytest imports it from the project folder

# ----------------------------------------------------------------------------------------------
# The exercises: the one table of points.  An exercise's own tests need its code and no other
# exercise's, so that each row can pass while the others are still open; they are listed simple
# first, because the first failing one is the one a student is shown.  Each entry is
# test: (points, what it checks); a name covers all its parametrized cases, which share its points.

EXERCISES = {
    1: {"name": "WordPiece, greedy longest match", "file": "data.py", "function": "WordPiece.word_pieces",
        "paper": "section 3, the teacher's input: BERT's WordPiece (Devlin et al. 2019)",
        "tests": {
            "tests/test_data.py::test_wordpiece_details":
                (4, "[MASK] stays whole, a 101-letter word is [UNK], 'unaffable' is una ##ffa ##ble "
                    "(the longest piece wins; pieces after the first start with ##)"),
            "tests/test_data.py::test_wordpiece_matches_reference":
                (6, "the ids of 872 SST-2 sentences, 8 MRPC pairs and 46 hard cases (accents, CJK, "
                    "long words, truncation) equal Hugging Face's BertTokenizer's"),
            "tests/test_models.py::test_reference_ids_match_our_wordpiece":
                (2, "the ids of the batch the BERT reference was computed on")}},
    2: {"name": "attention with the padding mask", "file": "models.py", "function": "attention",
        "paper": "section 3, the teacher: BERT (Vaswani et al. 2017, Eq. 1)",
        "tests": {
            "tests/test_models.py::test_padding_does_not_change_bert":
                (4, "attention on a tiny input equals the hand computation, with and without an "
                    "added bias (MPNet's relative positions); two [PAD]s after a "
                    "sentence do not change a random BERT's logits (a padded key gets zero weight), "
                    "and changing a real word does"),
            "tests/test_models.py::test_bert_matches_reference":
                (8, "our BERT with MiniLM's weights gives Hugging Face's hidden states to 1e-4, on "
                    "sentences, then on pairs")}},
    3: {"name": "BiLSTM over a padded batch", "file": "models.py", "function": "BiLSTMStudent.encode",
        "paper": "section 3.1, the BiLSTM student (Figure 1)",
        "tests": {
            "tests/test_models.py::test_student_padding_changes_nothing":
                (4, "a sentence alone and padded beside a longer one gives the same logits (final "
                    "states, then max-pooling), and a sentence's vector changes with its words"),
            "tests/test_models.py::test_student_equals_packed_bidirectional_lstm":
                (6, "PyTorch's bidirectional LSTM over a packed batch, with your two LSTMs' weights, "
                    "gives the same sentence vectors")}},
    4: {"name": "siamese matching features", "file": "models.py", "function": "siamese_features",
        "paper": "section 3.1, the siamese student for pairs (Figure 2)",
        "tests": {
            "tests/test_models.py::test_siamese_features_by_hand":
                (5, "[h1, h2, h1 * h2, |h1 - h2|] in that order; the matching half does not depend "
                    "on which sentence comes first")}},
    5: {"name": "the three augmentation rules", "file": "augment.py", "function": "augment_sentence",
        "paper": "section 3.3: masking, POS-guided replacement, n-gram sampling",
        "tests": {
            "tests/test_augment.py::test_mask_and_replacement_rates_and_tags":
                (3, "over 50,000 words the masked and replaced rates are p_mask and p_pos; a "
                    "replacement keeps its tag and follows the unigram counts"),
            "tests/test_augment.py::test_ngram_lengths_uniform_and_contiguous":
                (3, "an n-gram is contiguous, n is uniform in 1..5, a quarter of the samples are cut"),
            "tests/test_augment.py::test_no_duplicates_and_none_equal_to_an_original":
                (2, "augment_split keeps no duplicate and no copy of an original"),
            "tests/test_augment.py::test_pair_modes_change_the_right_sides":
                (4, "pairs: only the sides the mode names change (first, second, both, mixed)"),
            "tests/test_augment.py::test_replacements_keep_tags_on_real_data":
                (1, "on SST-2 with real POS tags, a replaced word has the tag of the word it replaces"),
            "tests/test_augment.py::test_real_sst2_reads_back_and_is_deterministic":
                (1, "augment.py on 300 SST-2 sentences: reads back, same seed same file"),
            "tests/test_augment.py::test_real_mrpc_pairs_read_back":
                (1, "augment.py on 100 MRPC pairs reads back")}},
    6: {"name": "the distillation loss, Eq. 1", "file": "distill.py", "function": "distill_loss",
        "paper": "section 3.2, Eq. 1 (and Hinton et al. 2015 for kind='kl')",
        "tests": {
            "tests/test_distill.py::test_loss_is_eq1":
                (9, "alpha 0, 0.5, 1 against cross-entropy and the squared distance summed over the "
                    "classes, averaged over the batch"),
            "tests/test_distill.py::test_kl_loss_is_hinton":
                (3, "kind='kl': T^2 KL(teacher || student) at temperature T, averaged over a batch")}},
    7: {"name": "accuracy, confusion matrix, F1", "file": "distill.py", "function": "metrics",
        "paper": "section 4: GLUE's metrics (accuracy; F1 for MRPC and QQP)",
        "tests": {
            "tests/test_distill.py::test_metrics_against_confusion_matrices":
                (5, "hand-made confusion matrices: MRPC (2 classes, with F1), MNLI (3, without)")}},
    8: {"name": "the transfer set", "file": "distill.py", "function": "transfer_set",
        "paper": "section 3.3 feeding Eq. 1: originals with gold labels, augmented rows with the "
                 "teacher's argmax",
        "tests": {
            "tests/test_distill.py::test_transfer_set":
                (7, "original rows keep gold labels and logits; augmented rows follow with the "
                    "teacher's argmax as label; the baseline has no logits; mismatched counts raise")}},
}

# The end-to-end tests run the whole chain on a toy task: test: (points, the exercises it needs,
# what it checks).  Its points are shared equally among those exercises.  It runs once all of
# them pass their own tests; until then an exercise that fails its own tests loses its share and
# the others keep theirs, so that one broken exercise costs its own row, not its neighbours'.
TOGETHER = {
    "tests/test_models.py::test_siamese_student_features_and_padding":
        (2, (3, 4), "the siamese student on sentence pairs, padded and not"),
    "tests/test_distill.py::test_logits_resume_gives_identical_file":
        (3, (1, 2, 7), "the teacher's logits on a toy task, interrupted and resumed"),
    "tests/test_distill.py::test_teacher_learns_toy_task":
        (3, (1, 2, 7), "a tiny BERT fine-tuned on a toy task reaches 90% dev accuracy"),
    "tests/test_distill.py::test_student_learns":
        (4, (3, 6, 7, 8), "a student learns the toy task from the teacher's logits"),
    "tests/test_distill.py::test_student_interrupted_and_resumed_is_the_same_student":
        (4, (3, 6, 7, 8), "a student interrupted and resumed equals one trained in one go"),
    "tests/test_distill.py::test_eval_errors_submission_and_predict":
        (6, (1, 2, 3, 6, 7, 8), "eval, the error file, the GLUE file and predict on a toy task"),
}

# Never run when grading: torchrun's processes and the `make quick` chain take minutes and need
# no exercise of their own (`make test` runs them).
NOT_GRADED = ("tests/test_parallel.py", "tests/test_makefile.py")

# The teacher's, never handed out: the kit's own tests, the tutorial's shape (the chapters'
# widths and function lengths, which blanking changes) and the hidden tests.
TEACHER_ONLY = ("tests/test_classroom.py", "tests/test_layout.py", "tests/hidden/")
HIDDEN = "tests/hidden"
# What our own tests expect the exercises to give (the reference's hidden states and ids): in the
# handout, but never in the sandbox's copy, so that a block cannot read its answers there.
EXPECTED = "tests/expected"

# Seconds of CPU time a test may take when graded (the slowest take a few).  The CPU time of
# the test's own thread, not the clock's: a machine busy with other work must not fail a
# correct exercise.
TIMEOUT = 20.0


def own_tests(n, hidden=None):
    """{test: (points, hint, kind)} of exercise n: its tests in the table, then its hidden ones."""
    tests = {name: (points, hint, "own") for name, (points, hint) in EXERCISES[n]["tests"].items()}
    tests.update({name: (points, hint, "hidden") for name, (k, points, hint) in (hidden or {}).items() if k == n})
    return tests


def possible(n):
    """Exercise n's points: its own tests' and its shares of the end-to-end tests (no hidden)."""
    own = sum(points for points, _ in EXERCISES[n]["tests"].values())
    return own + sum(points / len(needs) for points, needs, _ in TOGETHER.values() if n in needs)


# ----------------------------------------------------------------------------------------------
# Reading the markers.

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN EXERCISE (?P<n>\d+): (?P<task>.*\S)\s*$")
END = re.compile(r"^[ \t]*# END EXERCISE (?P<n>\d+)\s*$")


def comment_lines(text, path="<text>", loose=False):
    """(0-based line number, text) of each line that holds nothing but a comment.  Read with
    Python's own tokenizer, so a marker quoted in a string (as in this file) is not a marker.
    loose: a file the tokenizer cannot read (a student's half-written one) is read line by line."""
    try:
        return [(tok.start[0] - 1, tok.string) for tok in tokenize.generate_tokens(io.StringIO(text).readline)
                if tok.type == tokenize.COMMENT and tok.line.strip() == tok.string.strip()]
    except (tokenize.TokenError, SyntaxError) as error:
        if not loose:
            raise ValueError(f"{path}: cannot read its comments ({error})") from None
        return [(i, line.strip()) for i, line in enumerate(text.splitlines()) if line.lstrip().startswith("#")]


def scan(text, path="<text>", loose=False):
    """The marked blocks of a file, and what is wrong with its markers: ([(n, task, indent, begin,
    end)], [(n, message)]), begin and end being the 0-based line numbers of the two marker lines,
    each message naming the file and line.  A broken marker spoils its own exercise only."""
    if "EXERCISE" not in text:
        return [], []
    lines = text.splitlines()
    blocks, problems, open_ = [], [], None
    for i, comment in comment_lines(text, path, loose):
        begin, end = BEGIN.match(lines[i]), END.match(lines[i])
        if begin:
            if open_:
                problems.append((open_[0], f"{path}:{i + 1}: BEGIN EXERCISE {begin['n']} inside exercise "
                                           f"{open_[0]}, opened at line {open_[3] + 1}"))
            open_ = (int(begin["n"]), begin["task"], begin["indent"], i)
        elif end:
            if not open_ or int(end["n"]) != open_[0]:
                problems.append((int(end["n"]), f"{path}:{i + 1}: END EXERCISE {end['n']} without its BEGIN"))
            else:
                blocks.append(open_ + (i,))
                open_ = None
        elif re.match(r"#\s*(BEGIN|END)\s+EXERCISE", comment, re.IGNORECASE):
            number = re.search(r"\d+", comment)
            problems.append((int(number.group()) if number else None,
                             f"{path}:{i + 1}: malformed exercise marker {comment!r}; expected "
                             f"'# BEGIN EXERCISE <n>: <task>' or '# END EXERCISE <n>'"))
    if open_:
        problems.append((open_[0], f"{path}:{open_[3] + 1}: BEGIN EXERCISE {open_[0]} is never closed"))
    return blocks, problems


def find_blocks(text, path="<text>"):
    """The marked blocks of one of our files: a list of (n, task, indent, begin, end).  Any broken
    marker is an error that names the file and line: a typo must not hand out a solution."""
    blocks, problems = scan(text, path)
    if problems:
        raise ValueError(problems[0][1])
    return blocks


def all_blocks(root):
    """{n: (file, task)} over the project's Python files; an exercise marked twice is an error."""
    found = {}
    for rel in project_files(root):
        if rel.endswith(".py"):
            for n, task, *_ in find_blocks((Path(root) / rel).read_text(encoding="utf-8"), rel):
                if n in found:
                    raise ValueError(f"exercise {n} is marked twice: {found[n][0]} and {rel}")
                found[n] = (rel, task)
    return found


def hints(text, begin, end):
    """The comments inside a block, in order: they say why, not what, so they stay as hints."""
    return [tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.COMMENT and begin < tok.start[0] - 1 < end]


def blank(text, path="<text>", only=()):
    """The handout's version of a file: every block's body (or only those of the exercises in
    `only`) replaced by its comments and a raise NotImplementedError("Exercise n: <task>") at
    the block's indentation."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.endswith("\r\n") else "\n"
    out, last = [], 0
    for n, task, indent, begin, end in find_blocks(text, path):
        if only and n not in only:
            continue
        out += lines[last:begin + 1]
        out += [indent + comment + newline for comment in hints(text, begin, end)]
        message = f"Exercise {n}: {task}".replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'{indent}raise NotImplementedError("{message}"){newline}')
        last = end
    return "".join(out + lines[last:])


def paste(text, solutions, path="<text>"):
    """text with the body of each block n in solutions replaced by solutions[n] (a list of
    lines); the other blocks as they are."""
    lines = text.splitlines(keepends=True)
    out, last = [], 0
    for n, _, _, begin, end in find_blocks(text, path):
        if n in solutions:
            out += lines[last:begin + 1] + solutions[n]
            last = end
    return "".join(out + lines[last:])


def bodies(root):
    """{n: the lines between exercise n's markers} of a project: its solutions."""
    found = {}
    for rel in project_files(root):
        if rel.endswith(".py"):
            text = (Path(root) / rel).read_text(encoding="utf-8")
            lines = text.splitlines(keepends=True)
            for n, _, _, begin, end in find_blocks(text, rel):
                found[n] = lines[begin + 1:end]
    return found


def read_blocks(folder, wanted):
    """The blocks a student's folder holds for the exercises in wanted ({n: file}): ({n: (file,
    body lines, begin)}, {n: why not, naming the file and line}).  Only the file wanted[n] is read
    for exercise n, and only between its markers: nothing else of a submission is used."""
    found, problems = {}, {}
    for rel in sorted(set(wanted.values())):
        numbers = [n for n, f in wanted.items() if f == rel]
        try:
            text = read_regular(folder, rel).decode("utf-8")
        except FileNotFoundError:
            problems.update({n: f"{rel}: not in the submission" for n in numbers})
            continue
        except ValueError as error:                 # a link, a folder: refused, named
            problems.update({n: str(error) for n in numbers})
            continue
        except UnicodeDecodeError as error:
            problems.update({n: f"{rel}: not UTF-8 text ({error})" for n in numbers})
            continue
        blocks, issues = scan(text, rel, loose=True)
        for n, message in issues:
            if n in numbers:
                problems.setdefault(n, message)
        lines, seen = text.splitlines(keepends=True), {}
        for n, _, _, begin, end in blocks:
            if n not in numbers or n in problems:
                continue
            if n in seen:
                problems[n] = f"{rel}:{begin + 1}: exercise {n} is marked twice (also at line {seen[n] + 1})"
                found.pop(n, None)
                continue
            seen[n] = begin
            found[n] = (rel, lines[begin + 1:end], begin)
        for n in numbers:
            if n not in found and n not in problems:
                function = EXERCISES[n]["function"].split(".")[-1] if n in EXERCISES else ""
                line = next((i + 1 for i, l in enumerate(lines) if function and re.match(rf"\s*def {function}\(", l)), None)
                problems[n] = (f"{rel}:{line}: the markers of exercise {n} in {function} are gone (deleted?)" if line
                               else f"{rel}: no '# BEGIN EXERCISE {n}: ...' marker (deleted?)")
    return found, problems


def paste_blocks(root, found, problems):
    """Paste each of found ({n: (file, body, begin)}) into root's files, one exercise at a time.
    A body that leaves its file invalid Python is left out, with the line in the student's
    file in problems[n]: a syntax error costs its own exercise, not the file's other ones."""
    for rel in sorted({f for f, _, _ in found.values()}):
        path = Path(root) / rel
        try:
            text = read_regular(root, rel).decode("utf-8")    # never written through a link
        except (FileNotFoundError, ValueError) as error:
            problems.update({n: f"the handout's {error}" for n, (f, _, _) in found.items() if f == rel})
            continue
        where = {n: begin for n, _, _, begin, _ in find_blocks(text, rel)}
        good = {}
        for n in sorted(n for n, (f, _, _) in found.items() if f == rel and n in where):
            _, body, begin = found[n]
            try:
                ast.parse(paste(text, {n: body}, rel), rel)
            except SyntaxError as error:
                k = (error.lineno or 0) - 1 - (where[n] + 1)         # its line within the body
                line = begin + 2 + min(max(k, 0), len(body))
                problems[n] = f"{rel}:{line}: exercise {n} is not valid Python ({error.msg}); not used"
                continue
            good[n] = body
        path.write_bytes(paste(text, good, rel).encode("utf-8"))
        for n in found:
            if found[n][0] == rel and n not in where:
                problems[n] = f"{rel}: this handout has no block for exercise {n}"


# ----------------------------------------------------------------------------------------------
# The handout.

CACHES = {".git", "__pycache__", ".pytest_cache", ".benchmarks"}    # left out at any depth
OUTPUTS = {"runs", "data", "assignment", ".venv"}                   # left out at the top only
ANSWER_BEGIN, ANSWER_END = "<!-- BEGIN ANSWER -->", "<!-- END ANSWER -->"


def project_files(root, exclude=None):
    """The project's files, relative to root: in a git checkout, the files git tracks or would
    track (ignored outputs and caches left out; new files not yet committed kept); elsewhere
    (a handout, an unpacked copy) every file outside CACHES and OUTPUTS.  Kit-only files left
    out."""
    root = Path(root).resolve()
    exclude = Path(exclude).resolve() if exclude else None
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    if top.returncode == 0 and Path(top.stdout.strip()).resolve() == root:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=root, capture_output=True, text=True, check=True).stdout.split("\0")
        files = sorted({f for f in listed if f and (root / f).is_file()})    # not deleted ones
    else:
        files = []
        for folder, dirs, names in os.walk(root):
            here = Path(folder)
            dirs[:] = [d for d in dirs if d not in CACHES and not (here == root and d in OUTPUTS)]
            files += [(here / name).relative_to(root).as_posix() for name in names]
        files.sort()
    # A folder below the top that holds a chapter file is a copy of the project (a hand-in folder
    # kept inside it, a student's copy, a handout): its files are not ours, nor its markers.
    chapters = {ex["file"] for ex in EXERCISES.values()}
    copies = tuple(sorted({f.rsplit("/", 1)[0] + "/" for f in files if "/" in f and f.rsplit("/", 1)[1] in chapters}))
    keep = []
    for f in files:
        if any(f == t or (t.endswith("/") and f.startswith(t)) for t in TEACHER_ONLY):
            continue
        if f.startswith(copies):
            continue
        if exclude and (root / f).resolve().is_relative_to(exclude):
            continue
        keep.append(f)
    return keep


def strip_answers(text, path="<text>"):
    """A Markdown file without its answers: the lines from ANSWER_BEGIN to ANSWER_END."""
    out, opened = [], None
    for i, line in enumerate(text.splitlines(keepends=True)):
        if line.strip() == ANSWER_BEGIN:
            if opened is not None:
                raise ValueError(f"{path}:{i + 1}: {ANSWER_BEGIN} inside the answer opened at line {opened + 1}")
            opened = i
        elif line.strip() == ANSWER_END:
            if opened is None:
                raise ValueError(f"{path}:{i + 1}: {ANSWER_END} without its {ANSWER_BEGIN}")
            opened = None
        elif opened is None:
            out.append(line)
    if opened is not None:
        raise ValueError(f"{path}:{opened + 1}: {ANSWER_BEGIN} is never closed")
    return "".join(out)


# Our runs' results and their records: they answer the open questions, so only the teacher's.
RECORDS = ("results", "experiments")


def handed_out(rel, with_results=False):
    """Whether a project file goes into the handout: not results/ nor experiments/ (unless
    with_results)."""
    return with_results or not any(rel == top or rel.startswith(top + "/") for top in RECORDS)


def make_handout(root, out, force=False, only=(), with_results=False, quiet=False):
    """The handout: the project with the marked bodies blanked (only those of `only`, if given);
    without results/, experiments/ and the answers in Markdown files unless with_results; no
    data, and no link to any (it finds its data as the README says: DATA_DIR, ../shared/data, or
    data/)."""
    root, out = Path(root).resolve(), Path(out).resolve()
    all_blocks(root)                                  # stops at a broken or doubled marker
    if (root / HIDDEN).is_dir() and not quiet:        # (grading checks the hidden tests it is given)
        check_hidden(root, root / HIDDEN)             # a hidden test the reference fails is refused
    if out.exists():
        if not force:
            sys.exit(f"{GRADER}: {out} exists; delete it or pass --force (make assignment FORCE=1)")
        if not (out / GRADER).exists():
            sys.exit(f"{GRADER}: {out} has no {GRADER}, so it is not a handout; not deleting it")
        shutil.rmtree(out)
    blanked = {}
    shipped = [rel for rel in project_files(root, exclude=out) if handed_out(rel, with_results)]
    for rel in shipped:
        src, dst = root / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)                        # keeps modes: .ci/run stays executable
        if rel.endswith(".md") and not with_results:
            text = src.read_bytes().decode("utf-8")
            handout_text = handout_markdown(strip_answers(text, rel), rel, shipped)
            if handout_text != text:
                dst.write_bytes(handout_text.encode("utf-8"))
        if not rel.endswith(".py"):
            continue
        text = src.read_bytes().decode("utf-8")       # bytes: line endings stay as they are
        numbers = [n for n, *_ in find_blocks(text, rel) if not only or n in only]
        if numbers:
            text = blank(text, rel, only)
            blanked[rel] = numbers
            dst.write_bytes(text.encode("utf-8"))
        ast.parse(text, filename=str(dst))            # a handout that does not parse is a bug of ours
    if quiet:
        return out
    where = sorted((n, rel) for rel, ns in blanked.items() for n in ns)
    numbers = [n for n, _ in where]
    print(f"{out}: {len(project_files(out))} files; blanked " + ", ".join(f"exercise {n} in {rel}" for n, rel in where))
    if not only and numbers != sorted(EXERCISES):
        print(f"warning: marked exercises {numbers}, but the grading table has {sorted(EXERCISES)}")
    if not with_results:
        print("left out: results/, experiments/ and the answers in classroom/EXERCISES.md "
              "(--with-results keeps them)")
    data = data_dir(root)
    print(f"no data in it: it finds its data as the README says; to use this project's, "
          f"DATA_DIR={data} make test")
    return out


def data_dir(root):
    """Where the project in root reads its data: files.find_data_dir's order, without importing it."""
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"]).resolve()
    shared = Path(root).resolve().parent / "shared" / "data"
    return shared if shared.is_dir() else Path(root).resolve() / "data"


def solve(source, target):
    """Paste the source's marked blocks into the target's: this project's solutions into a
    handout, or a student's blocks into a fresh one.  A block the source lacks or whose markers
    are broken is named with its file and line and left as it is: exit status 1."""
    wanted = {n: rel for n, (rel, _) in all_blocks(target).items()}
    found, problems = read_blocks(source, wanted)
    paste_blocks(target, found, problems)
    pasted = sorted(set(found) - set(problems))
    print(f"pasted the blocks of exercises {', '.join(map(str, pasted)) or 'none'} from {source} into {target}")
    for n in sorted(problems):
        print(f"exercise {n} not pasted: {problems[n]}", file=sys.stderr)
    return not problems


# ----------------------------------------------------------------------------------------------
# The pytest plugin of a grading run: `python -m pytest -p classroom.grader`, run in the project
# folder (which `python -m` puts on sys.path), with CLASSROOM_PLAN naming a JSON plan.  Plain
# hook functions, so that importing this file needs no pytest; they act only when a plan is
# given.  The plan says which tests to run in which order, which exercise each own test belongs
# to, what each end-to-end test needs, the time limit and the log file, and which exercises
# fail their own tests or have timed out (a restarted pytest must go on skipping their tests).

_run = {}


class TimeLimit(BaseException):
    """Raised in a test that runs past the time limit.  A BaseException, so that an `except
    Exception` in a student's loop does not swallow it (pytest still reports it as a failure)."""


def _base(nodeid):
    return nodeid.split("[")[0]


def _log(**event):
    with open(_run["log"], "a", encoding="utf-8") as f:
        f.write(json.dumps(event) + "\n")


def pytest_configure(config):
    if not os.environ.get("CLASSROOM_PLAN"):
        return
    _run.update(json.loads(Path(os.environ["CLASSROOM_PLAN"]).read_text(encoding="utf-8")))
    _run["failing"], _run["blocked"] = set(_run["failing"]), set()
    _run["timed_out"], _run["passed_over"] = set(_run["timed_out"]), set()
    if _run.get("timeout") and hasattr(time, "pthread_getcpuclockid") and hasattr(signal, "pthread_kill"):
        signal.signal(signal.SIGUSR1, _expire)
        threading.Thread(target=_watch, args=(_run["timeout"],), daemon=True).start()


def _cpu():
    """CPU time of the main thread alone: the process's would count the idle spinning of torch's
    worker threads, and the clock's time the other work of a busy machine."""
    return time.clock_gettime(time.pthread_getcpuclockid(threading.main_thread().ident))


def _watch(seconds):
    """Signals the main thread once its test has used `seconds` of CPU time."""
    while True:
        time.sleep(0.1)
        test = _run.get("current")
        if test and _run.get("expired") != test[0] and _cpu() - test[1] > seconds:
            _run["expired"] = test[0]
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)


def _expire(signum, frame):
    test = _run.get("current")
    if test and _run.get("expired") == test[0]:        # not a late signal after the test ended
        raise TimeLimit(f"ran past the time limit of {_run['timeout']:g} s of CPU time: a loop that never ends?")


def pytest_collection_modifyitems(session, config, items):
    if not _run:
        return
    rank = {name: i for i, name in enumerate(_run["order"])}
    done = set(_run["done"])
    keep = [item for item in items if item.nodeid not in done and (_run["select_all"] or _base(item.nodeid) in rank)]
    kept = {id(item) for item in keep}
    dropped = [item for item in items if id(item) not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = sorted(keep, key=lambda item: rank.get(_base(item.nodeid), len(rank)))    # stable


def pytest_runtest_logstart(nodeid, location):
    if _run:
        _log(event="start", nodeid=nodeid)


def pytest_runtest_setup(item):
    if not _run:
        return
    failing = sorted(set(_run["together"].get(_base(item.nodeid), ())) & _run["failing"])
    if failing:
        import pytest
        _run["blocked"].add(item.nodeid)
        pytest.skip(f"not run: {waiting_for(failing)}")
    exercise = _run["own"].get(_base(item.nodeid))
    if exercise in _run["timed_out"]:                  # one time limit per looping exercise, not one per test
        import pytest
        _run["passed_over"].add(item.nodeid)
        pytest.skip(f"not run: an earlier test of exercise {exercise} timed out")
    if hasattr(time, "pthread_getcpuclockid"):
        _run["current"] = (item.nodeid, _cpu())


def pytest_runtest_logreport(report):
    if not _run or (report.passed and report.when != "call"):
        return
    if report.nodeid in _run["blocked"]:
        outcome = "blocked"
    elif report.nodeid in _run["passed_over"] or (report.failed and _run.get("expired") == report.nodeid):
        outcome = "timeout"
    elif report.failed and report.when != "call":
        outcome = "error"
    else:
        outcome = report.outcome
    _log(event="result", nodeid=report.nodeid, outcome=outcome, message=_message(report), where=_where(report))
    if report.failed and _base(report.nodeid) in _run["own"]:
        _run["failing"].add(_run["own"][_base(report.nodeid)])
    if outcome == "timeout" and _base(report.nodeid) in _run["own"]:
        _run["timed_out"].add(_run["own"][_base(report.nodeid)])


def pytest_runtest_logfinish(nodeid, location):
    if not _run:
        return
    _run["current"] = None
    _log(event="finish", nodeid=nodeid)


def pytest_collectreport(report):
    if _run and report.failed:
        _log(event="result", nodeid=report.nodeid, outcome="error", message=_message(report), where="")


def _message(report):
    """What went wrong, as pytest's summary line says it, whole: the exception and pytest's
    explanation of a failed assert (the two lists, the first difference)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):                        # a skip: (file, line, reason)
        return longrepr[2].removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    text = str(longrepr or "")
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return "\n".join(errors) or text.strip()


def _where(report):
    """file:line of the innermost line of the traceback that lies in the project (inside torch
    or pytest is no help to a student; nor is this file's time limit), else ''."""
    traceback = getattr(report.longrepr, "reprtraceback", None)
    for entry in reversed(getattr(traceback, "reprentries", [])):
        location = getattr(entry, "reprfileloc", None)
        if location is None:
            continue
        try:
            path = Path(location.path).resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            continue
        if path != GRADER:
            return f"{path}:{location.lineno}"
    return ""


# ----------------------------------------------------------------------------------------------
# The sandbox.  A submission's tests run its student's code, so they run in bubblewrap (bwrap, the
# Debian package bubblewrap, which `make grade` installs): in namespaces of their own, as the
# user nobody (within its user namespace, without capabilities; outside it, the grader's own
# user: what it can reach is decided by what is mounted), with no network, a private /tmp, a pid
# namespace that dies with the run (a forked `setsid` process too), an environment cleared to the
# few variables below, and of the file system only the system and Python read-only, the data
# read-only, the run's plan and log, and the submission's own work copy.  The instructor's
# project, the other submissions, the hand-in folder, $HOME, /work and the grader's temp folders
# are not there to read or write.  The limits of each pytest process: its address space, its
# processes (Linux does not hold root to that one), the size of a file it writes, the size of
# its /tmp; a test's message is cut to MESSAGE characters when read back.  Where bwrap is missing
# or cannot make its namespaces (not Linux, a container without user namespaces), the tests run
# unsandboxed after a loud warning.  A student's own check (grade_here: the grader's own folder)
# runs unsandboxed: it is the student's code on the student's machine.

SANDBOX_MEMORY = 8 << 30        # bytes of address space (a MiniLM teacher and torch take ~3 GB)
SANDBOX_PROCESSES = 512         # processes and threads, beyond those the grader's user runs now
SANDBOX_FILE = 256 << 20        # bytes of one file written (pytest's output and log included)
SANDBOX_TMP = 1 << 30           # bytes of the private /tmp, which lives in memory
MESSAGE = 4000                  # characters kept of a test's message: its start and its end
NOBODY = "65534"
NAMESPACES = ["--unshare-all", "--die-with-parent", "--new-session", "--uid", NOBODY, "--gid", NOBODY]
# The only variables of the grader's environment the tests see (the grader's own, e.g. a
# secret, never reach a student's code or feedback).
PASSED_ON = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "DATA_DIR", "NLTK_DATA",
             "CLASSROOM_PLAN", "CLASSROOM_STEP", "CLASSROOM_OUTPUTS", "PYTHONDONTWRITEBYTECODE")
# Set inside the sandbox before pytest starts (the limits are the sandboxed process's own).
LIMITS = ("import json, os, resource, sys\n"
          "for name, value in json.loads(sys.argv[1]).items():\n"
          "    resource.setrlimit(getattr(resource, name), (value, value))\n"
          "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n")
UNSANDBOXED = """
*** WARNING: grading WITHOUT a sandbox: {why}.
*** Each submission's code runs as you, in your environment, with your files in reach: a student
*** can read the solutions (your project folder, /proc/<pid>/cwd), change other submissions and
*** their grades, the CSV and your files, read your environment variables into the feedback,
*** kill the grader or leave processes running after it, use the network.  Grade on Linux with
*** bubblewrap (apt-get install bubblewrap) to run each submission in its own sandbox.
"""
_sandbox = {}


def sandbox_problem():
    """Why no sandbox can run here, '' when bwrap works (tried once per process)."""
    if "problem" not in _sandbox:
        if not sys.platform.startswith("linux"):
            problem = f"{sys.platform} is not Linux (bubblewrap needs Linux namespaces)"
        elif not shutil.which("bwrap"):
            problem = "bwrap is not installed (Debian, Ubuntu: apt-get install bubblewrap)"
        else:
            done = subprocess.run(["bwrap", *system_mounts(), *NAMESPACES, "--", "true"],
                                  capture_output=True, text=True)
            problem = "" if done.returncode == 0 else f"bwrap cannot run here ({done.stderr.strip()[-300:]})"
        _sandbox["problem"] = problem
    return _sandbox["problem"]


def warn_unsandboxed():
    """The warning, loud and once per process."""
    if not _sandbox.get("warned"):
        _sandbox["warned"] = True
        print(UNSANDBOXED.format(why=sandbox_problem()), file=sys.stderr, flush=True)


def system_mounts():
    """bwrap's arguments for the system, read-only: /usr, /etc and their links (/bin -> usr/bin),
    /dev, /proc of the sandbox's own pid namespace, a private /tmp, and Python with its packages
    wherever they live (a pyenv in $HOME, a .venv in the project: only those folders of it)."""
    args = []
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind-try", "/sys", "/sys", "--dev", "/dev", "--proc", "/proc"]
    if "sized" not in _sandbox:                 # bwrap 0.8 and later can cap a tmpfs (in memory)
        _sandbox["sized"] = "--size" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True).stdout
    args += [*(["--size", str(SANDBOX_TMP)] if _sandbox["sized"] else []), "--tmpfs", "/tmp"]
    # Python's own folders and its packages' only: sys.path also holds the folder the grader
    # was started in, which may be the instructor's project or hold the hand-in folder.
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    python |= {p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages") and os.path.isdir(p)}
    for folder in sorted(python):
        if not folder.startswith(("/usr/", "/etc/")):
            args += ["--ro-bind", folder, folder]
    return args


def user_processes():
    """How many processes and threads the grader's user runs now: RLIMIT_NPROC counts them all."""
    uid, count = os.getuid(), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return count


def sandboxed(command, root, env, writable):
    """command (a python command line) as it runs in the sandbox in root, with env its whole
    environment, and the files `writable` (the run's log) bound read-write beside the read-only
    plan.  Each --bind comes after the /tmp it may lie in."""
    root = str(Path(root).resolve())
    args = ["bwrap", *system_mounts(), *NAMESPACES]
    for name in ("DATA_DIR", "NLTK_DATA"):
        if env.get(name) and os.path.isdir(env[name]):
            args += ["--ro-bind", env[name], env[name]]
    args += ["--ro-bind", env["CLASSROOM_PLAN"], env["CLASSROOM_PLAN"]]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    args += ["--bind", root, root, "--chdir", root, "--clearenv"]
    path = f"{os.path.dirname(command[0])}:/usr/local/bin:/usr/bin:/bin"
    variables = {"PATH": path, "HOME": "/tmp", "LC_ALL": "C.UTF-8",
                 **{k: v for k, v in env.items() if k in PASSED_ON}}
    for name, value in variables.items():
        args += ["--setenv", name, value]
    limits = {"RLIMIT_AS": SANDBOX_MEMORY, "RLIMIT_FSIZE": SANDBOX_FILE,
              "RLIMIT_NPROC": user_processes() + SANDBOX_PROCESSES}
    return [*args, "--", command[0], "-c", LIMITS, json.dumps(limits), *command[1:]]


def cut(text, limit=MESSAGE):
    """text, or its start and end when longer than limit characters (a 3 MB message is a cheat
    or a runaway print; its feedback file stays small)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit * 3 // 4]}\n... ({len(text) - limit} characters left out) ...\n{text[-limit // 4:]}"


CHAPTER_BYTES = 4 << 20         # a chapter file is some 50 KB; a larger one is not read


def read_regular(folder, rel):
    """The bytes of folder/rel, which must be a regular file: a symbolic link anywhere in rel
    (to /proc/self/cwd/models.py, the grader's own solutions, say), a folder, a pipe or a device
    where the file belongs raises ValueError naming it; a missing one FileNotFoundError."""
    path = Path(folder)
    for part in Path(rel).parts:
        path = path / part
        if path.is_symlink():
            raise ValueError(f"{rel}: a symbolic link (to {os.readlink(path)}), not a file; not used")
    if not path.exists():
        raise FileNotFoundError(path)
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise ValueError(f"{rel}: {kind} where the file belongs; not used")
    if path.stat().st_size > CHAPTER_BYTES:
        raise ValueError(f"{rel}: {path.stat().st_size} bytes, more than a chapter's {CHAPTER_BYTES}; not used")
    return path.read_bytes()


# ----------------------------------------------------------------------------------------------
# Running the tests: one pytest process, restarted after a test that had to be killed.

BAD = ("failed", "error", "timeout", "crashed")
RANK = {"passed": 0, "skipped": 1, "blocked": 1, **{o: 2 for o in BAD}}
STALL = 300        # seconds without a word from pytest outside any test: it hangs, stop it


def run_tests(root, args, own, together, order, select_all=False, timeout=TIMEOUT, env=None, wall=None,
              sandbox=None):
    """Run pytest on args in root with this file as its plugin: {nodeid: (outcome, message,
    where)}, and the tail of pytest's output.  own: {test: exercise}; together: {test: needs};
    order: the tests to run first, in that order.  The alarm stops a test after `timeout`
    seconds of CPU time.  One that survives it for `wall` seconds on the clock (a loop that
    sleeps, or swallows the alarm) is killed with its process and recorded as timed out, and
    the run goes on without it.  Once an own test of an exercise times out, its later own tests
    are not run but recorded as timed out: a loop costs one time limit per exercise, not one per
    test.  sandbox: run pytest in the sandbox (above); by default
    everywhere but in the grader's own folder, where a student checks their own work."""
    wall = 3 * timeout + 30 if wall is None else wall
    if sandbox is None:
        sandbox = Path(root).resolve() != HERE
    if sandbox and sandbox_problem():
        warn_unsandboxed()
        sandbox = False
    results, failing, timed_out = {}, set(), set()
    # One thread: the tests' models are tiny, and torch's worker threads, which spin while they
    # wait for each other, turn a busy machine's contention into minutes of CPU time (a test of
    # 2 s took 60 on two shared cores) and would trip the time limit.
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ, **(env or {}), "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="classroom-run-") as tmp:
        log, plan, output = Path(tmp) / "log.jsonl", Path(tmp) / "plan.json", Path(tmp) / "pytest.out"
        env["CLASSROOM_PLAN"] = str(plan)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", PLUGIN, *args]
        if sandbox:
            log.touch()                                 # bound into the sandbox: it must exist
            plan.touch()
            command = sandboxed(command, root, env, writable=[log])
        position = 0
        while True:
            plan.write_text(json.dumps({"log": str(log), "timeout": timeout, "own": own, "together": together,
                                        "order": order, "select_all": select_all, "done": sorted(results),
                                        "failing": sorted(failing), "timed_out": sorted(timed_out)}),
                            encoding="utf-8")
            with open(output, "a", encoding="utf-8") as sink:
                process = subprocess.Popen(command, cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                           start_new_session=os.name == "posix")
            running, started, heard, killed = None, 0.0, time.monotonic(), False
            while True:
                ended = process.poll() is not None
                events, position = read_log(log, position)
                for event in events:
                    heard = time.monotonic()
                    if event["event"] == "start":
                        running, started = event["nodeid"], heard
                    elif event["event"] == "finish":
                        running = None
                    else:
                        record(results, event["nodeid"], event["outcome"], cut(event["message"]),
                               cut(event["where"], 300))
                        if event["outcome"] in BAD and _base(event["nodeid"]) in own:
                            failing.add(own[_base(event["nodeid"])])
                        if event["outcome"] == "timeout" and _base(event["nodeid"]) in own:
                            timed_out.add(own[_base(event["nodeid"])])
                if ended:
                    break
                now = time.monotonic()
                if not killed and ((running and now - started > wall) or (not running and now - heard > STALL)):
                    kill(process)
                    killed = True
                time.sleep(0.1)
            if running is None:
                if killed:
                    record(results, "pytest", "error", f"pytest said nothing for {STALL} s and was stopped", "")
                break
            if killed:
                record(results, running, "timeout", f"still running after {wall:g} s and stopped: a loop that "
                                                    f"never ends (and sleeps, or catches the alarm)?", "")
            else:
                record(results, running, "crashed", "the test process died during this test "
                                                    "(os._exit, or a crash in C code?)", "")
            if _base(running) in own:
                failing.add(own[_base(running)])
                if killed:
                    timed_out.add(own[_base(running)])
        with open(output, "rb") as f:                   # its end only: it may be huge
            f.seek(max(0, output.stat().st_size - 12000))
            tail = f.read().decode("utf-8", errors="replace")[-3000:]
    return results, tail


def read_log(path, position):
    """The whole lines the plugin has logged since position, and the new position."""
    try:
        with open(path, "rb") as f:
            f.seek(position)
            chunk = f.read()
    except FileNotFoundError:
        return [], position
    complete = chunk[:chunk.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.decode("utf-8").splitlines()], position + len(complete)


def record(results, nodeid, outcome, message, where):
    """A test's outcome: its worst phase's (a failed call stays failed after a clean teardown)."""
    if nodeid not in results or RANK[outcome] > RANK[results[nodeid][0]]:
        results[nodeid] = (outcome, message, where)


def kill(process):
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)       # the test's own subprocesses too
        except ProcessLookupError:
            pass
    else:
        process.kill()
    process.wait()


# ----------------------------------------------------------------------------------------------
# Outputs inside, verdicts outside.  A graded test calls the student's code in one producer (the
# `produce` fixture of tests/conftest.py).  A submission's tests run twice: in its sandbox with
# CLASSROOM_STEP=produce, where each producer's outputs are written as arrays and JSON and the
# test stops; then, outside the sandbox, in the fresh handout `base` (the exercises blank, the
# instructor's tests and conftest) with CLASSROOM_STEP=check, where the outputs are read back as
# data and the checks run.  The verdicts are the check step's: whatever a submission patches in
# its own process (pytest, the grader's log, numpy, torch) changes only its own outputs.

PRODUCED = ".classroom-outputs"       # where the produce step writes, in the submission's copy
OUTPUT_TOTAL = 1 << 30                # bytes of outputs copied out of one sandbox
NO_OUTPUTS = "no outputs"             # how the check step's failure starts (tests/conftest.py)


def sandbox_copy(base, work, blocks, problems):
    """work: a copy of the handout in base with the blocks pasted in (those in problems left
    out; a block that does not parse is added to problems) and without the tests' stored
    answers (EXPECTED), for a produce step."""
    shutil.copytree(base, work, symlinks=True)
    shutil.rmtree(Path(work) / EXPECTED, ignore_errors=True)
    paste_blocks(work, {n: b for n, b in blocks.items() if n not in problems}, problems)


def produce_and_check(work, base, order, own, together, timeout, env, cap=None, sandbox=None):
    """(results, tail of the produce step's output, whether the cap stopped it): the tests of
    order produced in work (sandboxed unless sandbox=False), checked in base.  A test whose
    producer failed, timed out or never ran keeps the produce step's outcome and message."""
    outputs = Path(work) / PRODUCED
    step = {**env, "CLASSROOM_STEP": "produce", "CLASSROOM_OUTPUTS": str(outputs)}
    (made, tail), stopped = capped(cap or 1e9, work, lambda: run_tests(
        work, files_of(order, work), own, together, order, timeout=timeout, env=step, sandbox=sandbox))
    with tempfile.TemporaryDirectory(prefix="classroom-outputs-") as tmp:
        copied = copy_outputs(outputs, Path(tmp) / "outputs")
        step = {**env, "CLASSROOM_STEP": "check", "CLASSROOM_OUTPUTS": str(copied)}
        checked, _ = run_tests(base, files_of(order, base), own, together, order, timeout=timeout, env=step,
                               sandbox=False)
    return merge_steps(made, checked, stopped, cap), tail, stopped


def copy_outputs(source, target, limit=OUTPUT_TOTAL):
    """Copy the produce step's outputs (source/<test>/<file>) to target, regular files only, with
    plain names, up to limit bytes: a link out of the sandbox (to the instructor's files, say)
    or a device is not followed but left out, and its test then has no outputs."""
    target.mkdir(parents=True)
    plain, total = re.compile(r"^[\w.-]+$"), 0
    if not source.is_dir() or source.is_symlink():
        return target
    for test in sorted(source.iterdir()):
        if not plain.match(test.name) or test.is_symlink() or not test.is_dir():
            continue
        for file in sorted(test.iterdir()):
            info = file.lstat()
            if not plain.match(file.name) or not stat.S_ISREG(info.st_mode) or total + info.st_size > limit:
                continue
            (target / test.name).mkdir(exist_ok=True)
            shutil.copyfile(file, target / test.name / file.name, follow_symlinks=False)
            total += info.st_size
    return target


def merge_steps(made, checked, stopped, cap):
    """The check step's results, but 'timeout' for a test the cap stopped before it began, and
    where a test had no outputs the produce step's outcome for it (a failure, a timeout, a
    crash, its module not loading), else the check step's 'no outputs' failure."""
    results = dict(checked)
    for nodeid, (outcome, message, where) in checked.items():
        module = nodeid.split("::")[0]
        if stopped and nodeid not in made:
            results[nodeid] = ("timeout", f"not run: the submission ran past its {cap:g} s", "")
        elif outcome not in BAD or not message.strip().removeprefix("Failed:").strip().startswith(NO_OUTPUTS):
            continue
        elif nodeid in made and made[nodeid][0] in BAD:      # its "passed" would be no outputs' word
            results[nodeid] = made[nodeid]
        elif module in made and made[module][0] in BAD:
            results[nodeid] = ("error", f"not run: {module} did not load: {made[module][1]}", made[module][2])
    for nodeid in made.keys() - checked.keys():
        if made[nodeid][0] in BAD:                  # a module that did not load, pytest stalled
            results[nodeid] = made[nodeid]
    return results


def files_of(names, root):
    """The test files that hold these tests and exist in root, in order."""
    files = dict.fromkeys(name.split("::")[0] for name in names)
    return [f for f in files if (Path(root) / f).is_file()]


# ----------------------------------------------------------------------------------------------
# Scoring.

def waiting_for(numbers):
    numbers = list(numbers)
    return (f"exercise {numbers[0]} fails its own tests" if len(numbers) == 1 else
            f"exercises {', '.join(map(str, numbers))} fail their own tests")


def cases_of(results, name):
    return {t: r for t, r in results.items() if t == name or t.startswith(name + "[")}


def why_missing(results, name):
    module = name.split("::")[0]
    if module in results:
        return f"not run: {module} did not load: {results[module][1]}"
    return "not run: no such test (renamed or removed?)"


def score(results, numbers, hidden=None, own_only=False):
    """One row per exercise: its own tests' points (a test's points shared among its
    parametrized cases), then its shares of the end-to-end tests (not when own_only)."""
    failing = set()
    entries = {}
    for n in numbers:
        entries[n] = []
        for name, (points, hint, kind) in own_tests(n, hidden).items():
            cases = cases_of(results, name)
            entries[n].append({"test": name, "kind": kind, "points": points, "hint": hint, "cases": cases})
            if not cases or any(o in BAD for o, _, _ in cases.values()):
                failing.add(n)
    rows = []
    for n in numbers:
        for name, (points, needs, hint) in ({} if own_only else TOGETHER).items():
            if n in needs:
                entries[n].append({"test": name, "kind": "together", "points": points / len(needs), "hint": hint,
                                   "cases": cases_of(results, name), "needs": list(needs)})
        for e in entries[n]:
            cases = e["cases"]
            if not cases:
                e["earned"], e["status"] = 0.0, "not run"
                e["message"] = why_missing(results, e["test"])
                continue
            credited = [o == "passed" or (o == "blocked" and n not in failing) for o, _, _ in cases.values()]
            e["earned"] = e["points"] * sum(credited) / len(cases)
            outcomes = [o for o, _, _ in cases.values()]
            e["passed"] = outcomes.count("passed")
            bad = [(t, r) for t, r in cases.items() if r[0] in BAD]
            if bad:
                e["status"], e["case"], (e["outcome"], e["message"], e["where"]) = "failed", bad[0][0], bad[0][1]
            elif all(o == "passed" for o in outcomes):
                e["status"] = "passed"
            elif "blocked" in outcomes:
                e["status"] = "credited" if n not in failing else "waiting"
                e["message"] = next(r[1] for r in cases.values() if r[0] == "blocked")
            else:
                e["status"] = "skipped"
                e["message"] = next(r[1] for r in cases.values() if r[0] == "skipped")
        own = [e for e in entries[n] if e["kind"] != "together"]
        ends = [e for e in entries[n] if e["kind"] == "together"]
        rows.append(tally({"key": n, "name": EXERCISES[n]["name"], "file": EXERCISES[n]["file"],
                           "function": EXERCISES[n]["function"],
                           "points": sum(e["points"] for e in entries[n]),
                           "passed": sum(e.get("passed", 0) for e in own),
                           "total": sum(max(1, len(e["cases"])) for e in own),
                           "together_passed": sum(e.get("passed", 0) for e in ends),
                           "together_total": sum(max(1, len(e["cases"])) for e in ends),
                           "fails_own": n in failing, "tests": entries[n]}))
    return rows


def tally(row):
    """A row's totals from its tests' entries: the points earned, the end-to-end tests credited to
    it, and whether it earned them all.  score() sets them; fair_attribution() sets them again
    after it changes entries."""
    row["earned"] = sum(e["earned"] for e in row["tests"])
    row["credited"] = sum(e["status"] == "credited" for e in row["tests"] if e["kind"] == "together")
    row["ok"] = abs(row["earned"] - row["points"]) < 1e-9
    return row


def other_row(results, rows):
    """Every test no exercise claims: no points, but they should pass.  One that fails only on an
    exercise's NotImplementedError waits for that exercise and is no failure."""
    claimed = {t for r in rows for e in r["tests"] for t in e["cases"]}
    tests = {t: r for t, r in results.items() if t not in claimed}
    waiting = {t for t, (o, m, _) in tests.items() if o in BAD and re.search(r"NotImplementedError: Exercise \d+", m)}
    failed = [t for t, (o, _, _) in tests.items() if o in BAD and t not in waiting]
    return {"key": "other", "name": "other tests (no points)", "tests": tests,
            "passed": sum(o == "passed" for o, _, _ in tests.values()), "total": len(tests),
            "waiting": len(waiting), "failed": failed, "ok": not failed}


# ----------------------------------------------------------------------------------------------
# Reports: the table, then for each exercise short of its points the first failing test, what it
# checks and its whole message.

def fmt(x):
    return f"{round(x, 2):g}"


def many(k, word):
    return f"{fmt(k)} {word}" + ("" if k == 1 else "s")


def table(rows, other=None):
    lines = [f"{'#':>2}  {'exercise':<33} {'where':<36} {'points':>7}  tests"]
    for r in rows:
        result = f"{r['passed']}/{r['total']} tests passed"
        if r["together_total"]:
            result += f"; end to end {r['together_passed']}/{r['together_total']}"
            if r["credited"]:
                result += f" ({r['credited']} waiting for other exercises, credited)"
        where = f"{r['file']} {r['function']}"
        lines.append(f"{r['key']:>2}  {r['name']:<33} {where:<36} {fmt(r['earned']) + '/' + fmt(r['points']):>7}  {result}")
    if other:
        result = f"{other['passed']}/{other['total']} passed"
        result += f", {other['waiting']} waiting for an exercise" if other["waiting"] else ""
        lines.append(f"{'':>2}  {other['name']:<33} {'':<36} {'-':>7}  {result}")
    earned, points = sum(r["earned"] for r in rows), sum(r["points"] for r in rows)
    lines.append(f"{'':>2}  {'total':<33} {'':<36} {fmt(earned) + '/' + fmt(points):>7}")
    return "\n".join(lines)


def indent(text, prefix, limit=60):
    lines = text.splitlines() or [""]
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more lines: run the test yourself)"]
    return "\n".join(prefix + line for line in lines)


def feedback(rows, problems=None, other=None):
    """For each exercise short of its points: what kept it from them, simplest first."""
    out = []
    for r in rows:
        if r["ok"]:
            continue
        out.append(f"\nExercise {r['key']}, {r['name']} ({r['file']} {r['function']}): "
                   f"{fmt(r['earned'])}/{fmt(r['points'])} points")
        if problems and r["key"] in problems:
            out.append(f"  your block was not used: {problems[r['key']]}")
        first = next((e for e in r["tests"] if e["kind"] != "together" and e["status"] in ("failed", "not run")), None)
        first = first or next((e for e in r["tests"] if e["status"] in ("failed", "not run")), None)
        if first:
            case = first.get("case", first["test"])
            label = "hidden test" if first["kind"] == "hidden" else (
                "end-to-end test" if first["kind"] == "together" else "test")
            out.append(f"  first failing {label}: {case if first['kind'] != 'hidden' else case.split('::')[-1]} "
                       f"({many(first['points'], 'point')}{', shared' if first['kind'] == 'together' else ''})")
            out.append(f"  it checks: {first['hint']}")
            message, where = first["message"], f" at {first['where']}" if first.get("where") else ""
            if first["kind"] == "hidden":              # its assertion and line would show the hidden test
                message, where = message.split(":")[0].split("\n")[0], ""
            out.append(f"  what happened{where}:")
            out.append(indent(message, "    "))
            if first["kind"] != "hidden" and first["status"] == "failed":
                out.append(f"  run it yourself: python -m pytest -x \"{case}\"")
        for e in r["tests"]:
            if e["status"] == "skipped":
                out.append(f"  skipped, so not counted: {e['test']}: {e['message']}")
        waiting = [e for e in r["tests"] if e["status"] == "waiting"]
        if waiting:
            out.append(f"  {many(len(waiting), 'end-to-end test')} {'waits' if len(waiting) == 1 else 'wait'} for this "
                       f"exercise to pass its own tests ({many(sum(e['points'] for e in waiting), 'point')})")
    if other and other["failed"]:
        out.append(f"\nOther tests (no points) that failed: {len(other['failed'])}")
        for t in other["failed"][:5]:
            out.append(f"  {t}:")
            out.append(indent(other["tests"][t][1], "    ", limit=12))
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# Grading here: this folder's tests, grouped by exercise (the student's `make grade`).

def hidden_tests(folder):
    """{test: (exercise, points, hint)} of the hidden test files in folder: each file,
    tests/hidden/test_hidden_<something>.py, declares its tests in a module-level
    POINTS = {"test_name": (exercise, points, "what it checks")}."""
    table_ = {}
    for path in sorted(Path(folder).glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        points = next((ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                       and any(getattr(t, "id", None) == "POINTS" for t in node.targets)), None)
        tests = [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test")]
        if points is None:
            raise ValueError(f"{path}: no POINTS = {{test: (exercise, points, hint)}} table")
        unlisted = [t for t in tests if t not in points]
        if unlisted:
            raise ValueError(f"{path}: {unlisted} not in its POINTS table")
        for name, (n, p, hint) in points.items():
            if n not in EXERCISES or name not in tests:
                raise ValueError(f"{path}: POINTS[{name!r}]: no test {name} or no exercise {n}")
            table_[f"{HIDDEN}/{path.name}::{name}"] = (n, p, hint)
    return table_


def check_hidden(root, folder, env=None, timeout=TIMEOUT):
    """Refuse hidden tests that the reference solution fails: the hidden tests of folder run once
    as a submission's do, produced by a copy of the instructor's project in root (its own solved
    blocks) and checked in a blank handout, before anyone is graded, so that a hidden test with
    a bug (or one whose check calls an exercise, or whose inputs are not the same in both steps)
    cannot charge every correct student.  Returns the table of hidden_tests(folder); raises
    ValueError naming each failing test and its message."""
    table_ = hidden_tests(folder)
    if not table_:
        return table_
    with tempfile.TemporaryDirectory(prefix="classroom-reference-") as tmp:
        reference = Path(tmp) / "reference"
        for rel in project_files(root):
            (reference / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(root) / rel, reference / rel)
        base = make_handout(root, Path(tmp) / "handout", quiet=True)
        for copy in (reference, base):
            shutil.copytree(folder, copy / HIDDEN, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        own = {name: n for name, (n, _, _) in table_.items()}
        data = data_dir(root)
        env = {**({"DATA_DIR": str(data)} if data.is_dir() else {}), **(env or {})}
        results, tail, _ = produce_and_check(reference, base, list(table_), own, {}, timeout, env, sandbox=False)
    failing = []
    for name in table_:
        cases = cases_of(results, name) or {name: ("error", why_missing(results, name), "")}
        failing += [f"  {case}: {outcome}{f' at {where}' if where else ''}:\n"
                    + indent(message.strip() or "(no message)", "    ", limit=20)
                    for case, (outcome, message, where) in cases.items() if outcome in BAD]
    if failing:
        why = "" if results else "\n" + indent(tail, "    ", limit=20)    # pytest ran nothing: its words
        raise ValueError(f"{folder}: the reference solution ({root}) fails {many(len(failing), 'hidden test')}, "
                         f"refused before grading anyone (fix the test, or the solution):\n" + "\n".join(failing) + why)
    return table_


def plan_for(numbers, hidden, own_only):
    own = {name: n for n in numbers for name in own_tests(n, hidden)}
    together = {} if own_only else {name: list(needs) for name, (_, needs, _) in TOGETHER.items()
                                    if set(needs) & set(numbers)}
    return own, together, list(own) + list(together)


def grade_here(root=HERE, numbers=(), json_path=None, timeout=TIMEOUT):
    """Grade the project in root as it is: every test but the kit's and torchrun's, or with
    numbers only those exercises' own tests.  True when everything passed."""
    root = Path(root).resolve()
    hidden = hidden_tests(root / HIDDEN) if (root / HIDDEN).is_dir() else {}
    own, together, order = plan_for(numbers or sorted(EXERCISES), hidden, own_only=bool(numbers))
    if numbers:
        args = files_of(order, root)
    else:
        skip = [t for t in ("tests/test_classroom.py", *NOT_GRADED) if (root / t).exists()]
        args = ["tests", *(f"--ignore={t}" for t in skip)]
    t0 = time.time()
    results, tail = run_tests(root, args, own, together, order, select_all=not numbers, timeout=timeout)
    rows = score(results, numbers or sorted(EXERCISES), hidden, own_only=bool(numbers))
    other = None if numbers else other_row(results, rows)
    scope = f"exercises {', '.join(map(str, numbers))}, their own tests" if numbers else "tests/"
    print(f"{root}, pytest on {scope} ({time.time() - t0:.0f} s)\n")
    if not results:
        print(tail)
    print(table(rows, other))
    print(feedback(rows, other=other))
    ok = bool(results) and all(r["ok"] for r in rows) and (other is None or other["ok"])
    print("\nall tests passed" if ok else "\nnot everything passed: exit status 1")
    if json_path:
        Path(json_path).write_text(json.dumps({"ok": ok, "rows": rows + ([other] if other else [])}, indent=1) + "\n")
    return ok


# ----------------------------------------------------------------------------------------------
# Grading submissions: each one's blocks pasted into a fresh handout of the instructor's copy
# and tested there with the instructor's tests, conftest and classroom/grader.py.

def find_project(folder):
    """The submission's project folder: the folder itself, or the one folder inside it that
    holds the exercise files (an unpacked archive often adds one level)."""
    folder = Path(folder)
    files = {ex["file"] for ex in EXERCISES.values()}
    for candidate in [folder] + sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if any((candidate / f).is_file() for f in files):
            return candidate
    return folder


SUBMISSION_TIME = 15 * 60         # seconds of the clock one submission may take in all, by default
UNPACKED = 50 * 2 ** 20           # bytes a hand-in .zip may unpack to
MAX_POINTS = "max points"         # the CSV's first row under its header: what each column can earn


def grade_submissions(submissions, out=None, feedback_dir=None, numbers=(), instructor=HERE, hidden=None,
                      timeout=TIMEOUT, quiet=False, jobs=1, regrade=(), cap=SUBMISSION_TIME, skipped=()):
    """Grade each submission (a folder, or a .zip graded under its stem), `jobs` at a time, each
    in its own work folder.  out: grades.csv, a max-points row, then a row per submission (points
    per exercise, total, problems, points per test), each written as it finishes, in the
    submissions' order at the end; beside it grades.json (the commit and the tests' hash, the
    skipped entries, identical blocks).  An out of the same commit and tests is resumed: its
    submissions are kept unless named in regrade.  Returns {name: rows} of those graded."""
    instructor = Path(instructor).resolve()
    numbers = sorted(numbers or EXERCISES)
    hidden_dir = Path(hidden) if hidden else instructor / HIDDEN
    hidden = check_hidden(instructor, hidden_dir, timeout=timeout) if hidden_dir.is_dir() else {}
    plan = plan_for(numbers, hidden, own_only=False)
    data = data_dir(instructor)
    env = {"DATA_DIR": str(data)} if data.is_dir() else {}
    skipped, named = list(skipped), {}
    for submission in map(Path, submissions):
        name = submission.stem if submission.suffix.lower() == ".zip" and submission.is_file() else submission.name
        if name in named or name == MAX_POINTS:
            skipped.append((submission.name, f"a second submission named {name!r}: rename it"))
            continue
        named[name] = submission
    empty = score({}, numbers, hidden)
    header = ["submission", *(f"exercise {n}" for n in numbers), "total", "problems",
              *(f"{r['key']}: {test_column(e)}" for r in empty for e in r["tests"])]
    graded, t0 = {}, time.time()
    with tempfile.TemporaryDirectory(prefix="classroom-grade-") as tmp:
        base = make_handout(instructor, Path(tmp) / "handout", only=numbers, quiet=True)
        if hidden:
            shutil.copytree(hidden_dir, base / HIDDEN, ignore=shutil.ignore_patterns("__pycache__"))
        key = {"commit": commit_of(instructor), "tests": tests_hash(base), "exercises": numbers}
        kept, blocks = previous_grades(out, key, header) if out else ({}, {})
        unknown = sorted(set(regrade) - set(named))
        if unknown:
            raise ValueError(f"--regrade {' '.join(unknown)}: no such submission among {len(named)}")
        kept = {name: row for name, row in kept.items() if name not in regrade}
        todo = [name for name in named if name not in kept]
        top = sheet_row(MAX_POINTS, empty, "", points=True)
        sheet = open_sheet(out, header, [top, *kept.values()]) if out else None
        if out and not quiet and kept:
            print(f"{out}: {len(kept)} submission(s) already graded, kept; grading {len(todo)}")
        solutions, _ = read_blocks(instructor, {n: EXERCISES[n]["file"] for n in numbers})  # the chapters only
        reference = {n: body for n, (_, body, _) in solutions.items()}      # to find who fails an end-to-end test
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_one, named[name], Path(tmp) / f"work-{i}", base, numbers, plan, hidden,
                                   timeout, env, cap, reference): name for i, name in enumerate(todo)}
            for future in as_completed(futures):
                name = futures[future]
                rows, problems, notes, found, seconds = future.result()
                graded[name], blocks[name] = rows, found
                earned, points = sum(r["earned"] for r in rows), sum(r["points"] for r in rows)
                if sheet:
                    kept[name] = sheet_row(name, rows, "; ".join(notes))
                    sheet.writerow(kept[name])
                    sheet.file.flush()
                    write_sidecar(out, key, blocks, skipped)
                text = f"{name}: {fmt(earned)}/{fmt(points)} points\n\n{table(rows)}\n"
                text += feedback(rows, problems) + "\n"
                if notes and not problems and not rows_ran(rows):
                    text += "\n" + "\n".join(notes) + "\n"
                if feedback_dir:
                    Path(feedback_dir).mkdir(parents=True, exist_ok=True)
                    (Path(feedback_dir) / f"{name}.txt").write_text(text, encoding="utf-8")
                if quiet:
                    continue
                if len(named) == 1 and not out:
                    print(text)
                print(f"{name}: {fmt(earned)}/{fmt(points)} ({seconds:.0f} s)"
                      + (f"; {len(notes)} problem(s)" if notes else ""), flush=True)
    identical = identical_blocks(blocks)
    if out:
        sheet.file.close()
        order = [name for name in named if name in kept] + [name for name in kept if name not in named]
        rewrite_sheet(out, header, [top, *(kept[n] for n in order)])
        write_sidecar(out, key, blocks, skipped, identical)
    if not quiet:
        report_end(out, feedback_dir, len(graded), time.time() - t0, skipped, identical)
    return graded


# ----------------------------------------------------------------------------------------------
# A class of submissions: one submission graded (never raising), a hand-in folder's entries and
# its zips, the CSV written row by row and resumed, identical blocks.

def grade_one(source, work, base, numbers, plan, hidden, timeout, env, cap, reference=None):
    """One submission graded in its own work folder: (rows, problems {n: why its block was not
    used}, notes for the CSV, {n: hash of its normalized block}, seconds).  Whatever goes wrong
    (a zip refused, a folder that cannot be read) is its own row: 0 points, the error in notes.
    reference: the instructor's blocks ({n: body lines}); with them a failing end-to-end test is
    charged only to the exercises that make it fail (fair_attribution, below)."""
    t0 = time.monotonic()
    own, together, order = plan
    unpacked = work.with_name(work.name + "-zip")
    try:
        folder = unpack(source, unpacked) if Path(source).is_file() else Path(source)
        found, problems = read_blocks(find_project(folder), {n: EXERCISES[n]["file"] for n in numbers})
        blocks = {n: block_hash(body) for n, (_, body, _) in found.items() if block_hash(body)}
        sandbox_copy(base, work, found, problems)
        results, tail, stopped = produce_and_check(work, base, order, own, together, timeout, env, cap)
        notes = [f"exercise {n}: {problems[n]}" for n in sorted(problems)]
        if stopped:
            crashed = [t for t, r in results.items() if r[0] == "crashed"]
            if crashed:
                results[crashed[-1]] = ("timeout", f"stopped: the submission ran past its {cap:g} s", "")
            notes.append(f"stopped after {cap:g} s (the submission's time cap): the tests not run count as timed out")
        rows = score(results, numbers, hidden)
        if reference and not stopped:
            def rerun(test, blocks):
                return rerun_passes(test, blocks, problems, work.with_name(work.name + "-swap"), base, timeout, env,
                                    cap - (time.monotonic() - t0))
            fair_attribution(rows, found, problems, reference, rerun)
        notes += [f"exercise {r['key']}: {e['test'].split('::')[-1]} timed out" for r in rows for e in r["tests"]
                  if e.get("outcome") == "timeout" and not e["message"].startswith("not run")]
        if not results:
            notes.append("pytest ran no test: " + tail.strip().splitlines()[-1] if tail.strip() else "pytest ran no test")
    except Exception as error:                      # one bad submission never stops the class's grading
        rows, problems, blocks = score({}, numbers, hidden), {}, {}
        notes = [f"not graded: {type(error).__name__}: {error}"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(unpacked, ignore_errors=True)
    return rows, problems, notes, blocks, time.monotonic() - t0


def fair_attribution(rows, found, problems, reference, rerun):
    """Charge each failing end-to-end test only to the exercises that make it fail.  It is
    rerun with one of the student's blocks among its needs swapped for the reference's at a
    time (only blocks that differ from the reference's, so at most len(needs) reruns): an
    exercise is charged if its swap alone makes the test pass; when no single swap does, every
    exercise whose block differs is.  The others keep their share (credited), and every row's
    message names the charged exercises.  rows: score()'s, changed in place; found: the
    student's blocks {n: (file, body, begin)}; rerun(test, blocks) -> whether test passes."""
    differ = [n for n, (_, body, _) in sorted(found.items())
              if n not in problems and n in reference and block_hash(body) != block_hash(reference[n])]
    failed = {e["test"]: e["needs"] for r in rows for e in r["tests"]
              if e["kind"] == "together" and e["status"] == "failed"}
    for test, needs in failed.items():
        candidates = [n for n in needs if n in differ]
        if not candidates:                      # the reference's blocks fail it too: charged as it stands
            continue
        fixes = [n for n in candidates if rerun(test, {**found, n: (found[n][0], reference[n], found[n][2])})]
        charged = fixes or candidates
        which = f"exercise {charged[0]}" if len(charged) == 1 else f"exercises {', '.join(map(str, charged))}"
        why = (f"fails because of {which}: with the reference's {which} it passes" if fixes else
               f"fails because of {which} (no single one swapped for the reference's makes it pass)")
        for r in rows:
            for e in r["tests"]:
                if e["test"] != test:
                    continue
                if r["key"] in charged:
                    e["message"] = f"{why}\n{e['message']}"
                else:
                    e["earned"], e["status"], e["message"] = e["points"], "credited", f"{why}; not charged here"
    for r in rows:
        tally(r)
    return rows


def rerun_passes(test, blocks, problems, work, base, timeout, env, seconds):
    """Whether one test passes in a fresh copy of the handout with these blocks pasted in (those
    that were not used, in problems, left out), within `seconds` on the clock."""
    if seconds <= 0:
        return False
    try:
        sandbox_copy(base, work, blocks, dict(problems))
        results, _, stopped = produce_and_check(work, base, [test], {}, {}, timeout, env, seconds)
        cases = cases_of(results, test)
        return not stopped and bool(cases) and all(o == "passed" for o, _, _ in cases.values())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def rows_ran(rows):
    return any(e["status"] != "not run" for r in rows for e in r["tests"])


def capped(seconds, work, call):
    """(call(), whether it was stopped): call runs pytest in work; once `seconds` have passed on
    the clock, every process of ours working in work is killed with its group until call returns
    (run_tests records the test that was running as crashed, and restarts none that had not
    begun a test).  Linux's /proc finds them; elsewhere there is no cap."""
    done, fired = threading.Event(), []

    def stop():
        if done.wait(seconds):
            return
        fired.append(True)
        while not done.wait(0.2):
            for pid, group in processes_in(work):
                try:
                    if group == pid:                # its own session (start_new_session): all of it
                        os.killpg(group, signal.SIGKILL)
                    else:
                        os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    threading.Thread(target=stop, daemon=True).start()
    try:
        value = call()
    finally:
        done.set()
    return value, bool(fired)


def processes_in(folder):
    """(pid, process group) of this process's children whose working folder is folder."""
    folder, found = Path(folder).resolve(), []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and Path(os.readlink(entry.parent / "cwd")).resolve() == folder:
                found.append((int(entry.parent.name), int(fields[2])))
        except (OSError, ValueError, IndexError):
            continue
    return found


def unpack(archive, folder, limit=UNPACKED):
    """A hand-in .zip unpacked into folder, member by member, refused (ValueError naming the
    member) if one has an absolute path or '..', is a link, or all of them unpack to more than
    limit bytes (a zip's sizes can lie: the bytes are counted as they come)."""
    archive, folder, total = Path(archive), Path(folder), 0
    folder.mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            name = info.filename.replace("\\", "/")
            if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in name.split("/"):
                raise ValueError(f"{archive.name}: member {info.filename!r} is outside the folder "
                                 f"(an absolute path or '..'); not unpacked")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ValueError(f"{archive.name}: member {info.filename!r} is a link; not unpacked")
            target = folder / name
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                while chunk := src.read(2 ** 20):
                    total += len(chunk)
                    if total > limit:
                        raise ValueError(f"{archive.name}: unpacks to more than {limit / 2 ** 20:g} MB; not unpacked")
                    dst.write(chunk)
    return folder


def hand_ins(folder, exclude=()):
    """A hand-in folder's entries to grade (folders and .zip files, an LMS's download) and
    [(entry, why not)] for every other one, so that nothing is skipped silently.  exclude: the
    grading's own outputs, if they lie in it."""
    exclude = {Path(p).resolve() for p in exclude}
    graded, skipped = [], []
    for path in sorted(Path(folder).iterdir()):
        if path.resolve() in exclude:
            continue
        if path.name.startswith("."):
            skipped.append((path.name, "a hidden entry (its name starts with a dot)"))
        elif path.is_symlink():
            skipped.append((path.name, "a link; hand in the folder itself"))
        elif path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip"):
            graded.append(path)
        else:
            skipped.append((path.name, "neither a folder nor a .zip"))
    return graded, skipped


def test_column(e):
    """A test's column in the CSV: its name, and for an end-to-end test, the exercise's share."""
    name = e["test"].split("::")[-1]
    return f"end to end {name}" if e["kind"] == "together" else (f"hidden {name}" if e["kind"] == "hidden" else name)


def sheet_row(name, rows, notes, points=False):
    """A CSV row: name, each exercise's points, the total, the notes, each test's points (earned,
    or with points=True what it can earn)."""
    value = "points" if points else "earned"
    return [name, *(fmt(r[value]) for r in rows), fmt(sum(r[value] for r in rows)), notes,
            *(fmt(e[value] if points else e.get("earned", 0.0)) for r in rows for e in r["tests"])]


def commit_of(folder):
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "none (not a git checkout)"


def tests_hash(handout):
    """sha256 of the tests a grading runs: every file under the handout's tests/ (hidden ones
    included), with its path."""
    digest = hashlib.sha256()
    for path in sorted(p for p in (Path(handout) / "tests").rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(handout).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def sidecar(out):
    return Path(out).with_suffix(".json")


def previous_grades(out, key, header):
    """The rows of an earlier grading into out ({name: row}) and its blocks' hashes, if it was
    made with the same commit, tests and exercises; a ValueError naming both if not."""
    out = Path(out)
    if not out.exists():
        return {}, {}
    side = sidecar(out)
    if not side.exists():
        raise ValueError(f"{out} exists but {side} does not, so what it was graded with is unknown: "
                         f"delete it or grade into another --out")
    old = json.loads(side.read_text(encoding="utf-8"))
    if {k: old.get(k) for k in key} != key:
        raise ValueError(f"{out} was graded with commit {old.get('commit')}, tests {old.get('tests')}, exercises "
                         f"{old.get('exercises')}; this grading has commit {key['commit']}, tests {key['tests']}, "
                         f"exercises {key['exercises']}: grade into another --out, or delete it to grade anew")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != header:
        raise ValueError(f"{out}: its columns are not this grading's; grade into another --out")
    return {row[0]: row for row in rows[1:] if row and row[0] != MAX_POINTS}, dict(old.get("blocks", {}))


class Sheet:
    def __init__(self, file):
        self.file, self.writerow = file, csv.writer(file).writerow


def open_sheet(out, header, rows):
    """The CSV rewritten with its header and rows, left open to add a row as each submission finishes."""
    rewrite_sheet(out, header, rows)
    return Sheet(open(out, "a", newline="", encoding="utf-8"))


def rewrite_sheet(out, header, rows):
    part = Path(str(out) + ".part")
    with open(part, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    os.replace(part, out)


def write_sidecar(out, key, blocks, skipped, identical=None):
    record = {**key, "skipped": [{"entry": e, "why": why} for e, why in skipped], "blocks": blocks}
    if identical is not None:
        record["identical_blocks"] = identical
    part = Path(str(sidecar(out)) + ".part")
    part.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(part, sidecar(out))


def block_hash(body):
    """A block's code with comments, blank lines and indentation left out, hashed; '' for a blank
    block (the handout's raise NotImplementedError, or nothing)."""
    code = [line.strip() for line in body if line.strip() and not line.strip().startswith("#")]
    if not code or (len(code) == 1 and code[0].startswith("raise NotImplementedError(")):
        return ""
    return hashlib.sha256("\n".join(code).encode("utf-8")).hexdigest()[:16]


def identical_blocks(blocks):
    """{exercise: [[names], ...]}: the submissions whose blocks for an exercise are the same code
    (comments and layout aside) -- a hint for the instructor, not a verdict."""
    groups = {}
    for name, found in blocks.items():
        for n, digest in found.items():
            groups.setdefault(int(n), {}).setdefault(digest, []).append(name)
    return {n: sorted(sorted(names) for names in by.values() if len(names) > 1)
            for n, by in sorted(groups.items()) if any(len(names) > 1 for names in by.values())}


def report_end(out, feedback_dir, count, seconds, skipped, identical):
    if out:
        print(f"{out}: {count} submission(s) graded in {seconds:.0f} s; {sidecar(out)}: the commit, the tests' hash"
              + (f"; feedback in {feedback_dir}" if feedback_dir else ""))
    if skipped:
        print(f"skipped, not graded ({len(skipped)}):")
        for entry, why in skipped:
            print(f"  {entry}: {why}")
    for n, groups in identical.items():
        for names in groups:
            print(f"identical blocks for exercise {n} (a hint, not a verdict): {', '.join(names)}")


# ----------------------------------------------------------------------------------------------
# The student's check (`validate`): the folder graded as the instructor will grade it, its blocks
# pasted into the handout as handed out, and the code outside the blocks named as unused.

RECORD = "classroom/handout.json"     # in a handout: each chapter file as handed out (blanked)


def record_handout(out):
    """Write RECORD into the handout in out: each chapter file's sha256 and text as handed out,
    so that validate grades with the handout's code outside the blocks, not the student's."""
    files = {}
    for rel in sorted({ex["file"] for ex in EXERCISES.values()}):
        text = (Path(out) / rel).read_bytes().decode("utf-8")
        files[rel] = {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "text": text}
    (Path(out) / RECORD).write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")


def outside_lines(text, rel):
    """(1-based line number, line) of text's lines outside the bodies of its well-formed blocks
    (their markers included): the lines a grading takes from the handout, never the student's."""
    blocks, _ = scan(text, rel, loose=True)
    inside = {i for *_, begin, end in blocks for i in range(begin + 1, end)}
    return [(i + 1, line) for i, line in enumerate(text.splitlines()) if i not in inside]


def unused_lines(folder, record):
    """[message] naming, in each chapter file of folder whose blanked text is not the handout's
    (its sha256 in record), the lines outside the blocks that differ from the handout's."""
    import difflib
    found = []
    for rel, handed in record["files"].items():
        try:
            text = read_regular(folder, rel).decode("utf-8")
        except (OSError, ValueError):               # missing, a link, not UTF-8: the grading names it
            continue
        try:
            same = hashlib.sha256(blank(text, rel).encode("utf-8")).hexdigest() == handed["sha256"]
        except ValueError:                           # a broken marker: blank refuses the file
            same = False
        if same:
            continue
        mine, theirs = outside_lines(text, rel), outside_lines(handed["text"], rel)
        matcher = difflib.SequenceMatcher(None, [l for _, l in theirs], [l for _, l in mine], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            if j2 > j1:
                span = f"{mine[j1][0]}" + (f"-{mine[j2 - 1][0]}" if j2 - j1 > 1 else "")
                first = next((line.strip() for _, line in mine[j1:j2] if line.strip()), "")
                found.append(f"{rel}:{span}: outside the exercise blocks and not the handout's "
                             f"({first[:60]!r}): not graded; the instructor grades the handout's lines here")
            else:
                after = mine[j1 - 1][0] if j1 else 0
                found.append(f"{rel}:{after}: the handout's lines {theirs[i1][0]}-{theirs[i2 - 1][0]} are "
                             f"missing after this line: the instructor grades with them")
    return found


def validate(folder=HERE, numbers=(), timeout=TIMEOUT):
    """Grade folder exactly as the instructor will (grade_submissions, the folder its one
    submission): only its marked blocks, pasted into the handout as handed out (RECORD), in the
    same sandbox, limits and points; then name the code outside the blocks that differs from the
    handout's, which is not graded.  True when every exercise passed."""
    folder = Path(folder).resolve()
    path = folder / RECORD
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    saved = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(data_dir(folder))   # the instructor copy below lies in a temporary folder
    try:
        with tempfile.TemporaryDirectory(prefix="classroom-validate-") as tmp:
            instructor = folder
            if record:
                instructor = Path(tmp) / folder.name
                for rel in project_files(folder):
                    (instructor / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(folder / rel, instructor / rel)
                for rel, handed in record["files"].items():
                    if hashlib.sha256(handed["text"].encode("utf-8")).hexdigest() != handed["sha256"]:
                        raise ValueError(f"{path}: the text of {rel} does not match its sha256 (edited?)")
                    (instructor / rel).write_bytes(handed["text"].encode("utf-8"))
            graded = grade_submissions([folder], numbers=numbers, instructor=instructor, timeout=timeout)
    finally:
        if saved is None:
            os.environ.pop("DATA_DIR", None)
        else:
            os.environ["DATA_DIR"] = saved
    unused = unused_lines(folder, record) if record else []
    if unused:
        print("code outside the exercise blocks, not graded (the instructor reads only the blocks):")
        print("\n".join(f"  {line}" for line in unused))
    elif not record:
        print(f"no {RECORD}: the code outside the blocks is this folder's own (the instructor's project)")
    rows = next(iter(graded.values()))
    return all(r["ok"] for r in rows)


# Links and generated blocks of the Markdown pages: the handout ships no results/ nor experiments/.
GENERATED = re.compile(r"^(<!-- (\w+):begin -->\n).*?^(<!-- \2:end -->)$", re.M | re.S)
LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")


def handout_markdown(text, rel, shipped):
    """A Markdown page as handed out: each generated block (<!-- name:begin --> ... end) says how
    to fill it, and a relative link to a file the handout does not ship keeps its text only (an
    image is dropped)."""
    text = GENERATED.sub(lambda m: m[1] + "*Written from your own runs: run `make sst2`, then `make readme`, "
                                          "to fill this.*\n" + m[3], text)
    folders = {f.rsplit("/", i)[0] for f in shipped for i in range(1, f.count("/") + 1)}

    def resolve(m):
        target = m[3].split("#")[0]
        if not target or re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            return m[0]
        path = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target)).rstrip("/")
        if path in shipped or path in folders or path == ".":
            return m[0]
        return "" if m[1] else m[2]

    return LINK.sub(resolve, text)


# ----------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("handout", help="write the project with the exercise bodies blanked")
    c.add_argument("--out", default="assignment")
    c.add_argument("--force", action="store_true", help="replace an existing handout")
    c.add_argument("--only", nargs="+", type=int, default=(), help="blank only these exercises")
    c.add_argument("--with-results", action="store_true",
                   help="keep results/, experiments/ and the answers to the open questions "
                        "(left out by default)")
    c = sub.add_parser("grade", help="grade this folder (a table; exit 0 only if all passed), or submissions")
    c.add_argument("exercises", nargs="*", type=int, help="here: only these exercises' own tests")
    c.add_argument("--json", default=None, help="here: also write the rows and each test's outcome")
    c.add_argument("--submission", action="append", default=[], help="a student's folder (repeatable)")
    c.add_argument("--submissions", default=None, help="a folder of students' folders")
    c.add_argument("--out", default=None, help="the grades' CSV (default grades.csv with --submissions)")
    c.add_argument("--feedback", default=None, help="one feedback file per submission (default: feedback/ beside --out)")
    c.add_argument("--only", nargs="+", type=int, default=(), help="grade only these exercises")
    c.add_argument("--hidden", default=None, help=f"hidden tests (default: {HIDDEN}/ of this project)")
    c.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds a test may run (default %(default)s)")
    c.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (default %(default)s)")
    c.add_argument("--submission-timeout", type=float, default=SUBMISSION_TIME,
                   help="seconds of the clock one submission may take in all (default %(default)g)")
    c.add_argument("--regrade", nargs="+", default=(), metavar="NAME",
                   help="grade these submissions again; the others already in --out are kept")
    c = sub.add_parser("validate", help="grade this folder exactly as the instructor will; name the code "
                                        "outside the blocks, which is not graded (exit 0 only if all passed)")
    c.add_argument("exercises", nargs="*", type=int, help="only these exercises (as grade --only)")
    c.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds a test may run (default %(default)s)")
    c = sub.add_parser("solve", help="paste a project's marked blocks into a handout's")
    c.add_argument("--from", dest="source", default=str(HERE))
    c.add_argument("--to", dest="target", required=True)
    args = p.parse_args(argv)
    unknown = [n for n in [*(getattr(args, "exercises", None) or ()), *(getattr(args, "only", None) or ())]
               if n not in EXERCISES]
    if unknown:
        sys.exit(f"{GRADER}: no exercise {unknown}; there are {sorted(EXERCISES)}")
    try:
        if args.cmd == "handout":
            record_handout(make_handout(HERE, args.out, args.force, args.only, args.with_results))
        elif args.cmd == "grade" and (args.submission or args.submissions):
            if args.exercises:
                sys.exit(f"{GRADER}: with submissions, choose the exercises with --only")
            folders, skipped = list(args.submission), []
            out = args.out or ("grades.csv" if args.submissions else None)
            feedback_dir = args.feedback or (Path(out).parent / "feedback" if out else None)
            if args.submissions:
                folder = Path(args.submissions)
                if not folder.is_dir():
                    sys.exit(f"{GRADER}: {folder} is not a folder of submissions")
                outputs = [p for p in (out, out and sidecar(out), feedback_dir) if p]
                entries, skipped = hand_ins(folder, exclude=outputs)
                folders += entries
            missing = [f for f in folders if not Path(f).exists()]
            if missing or not folders:
                sys.exit(f"{GRADER}: no submission folder {missing or args.submissions}")
            grade_submissions(folders, out, feedback_dir, args.only, HERE, args.hidden, args.timeout,
                              jobs=args.jobs, regrade=args.regrade, cap=args.submission_timeout, skipped=skipped)
        elif args.cmd == "grade":
            if args.only:
                sys.exit(f"{GRADER}: --only chooses the exercises of submissions; here, name them: grade 1 6")
            sys.exit(0 if grade_here(HERE, args.exercises, args.json, args.timeout) else 1)
        elif args.cmd == "validate":
            sys.exit(0 if validate(HERE, args.exercises, args.timeout) else 1)
        else:
            sys.exit(0 if solve(args.source, args.target) else 1)
    except ValueError as error:                     # our own files' markers or hidden tests: say where
        sys.exit(f"{GRADER}: {error}")


if __name__ == "__main__":
    main()
