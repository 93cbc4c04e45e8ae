import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import data    # noqa: E402  (found through the path above)
import models  # noqa: E402
from machinery import files  # noqa: E402


@pytest.fixture
def shared_data():
    """The real data, found as the project finds it (files.find_data_dir: DATA_DIR, else
    ../shared/data beside the checkout, our machines' and CI's offline copy, else ./data)."""
    folder = files.find_data_dir()
    if not (folder / "glue" / "SST-2" / "train.tsv").exists():
        pytest.skip(f"real GLUE data not found at {folder} (set DATA_DIR, or see docs/setup.md)")
    os.environ.setdefault("NLTK_DATA", str(folder / "nltk_data"))
    return folder


@pytest.fixture
def minilm_folder():
    from machinery import checkpoints
    try:
        return checkpoints.resolve_teacher("minilm")
    except FileNotFoundError as error:
        pytest.skip(str(error))


@pytest.fixture
def mpnet_folder():
    """The MPNet teacher's folder, assembled from its five packages (once, into torch.hub's
    folder); skipped when none is installed, where the teacher would be downloaded instead."""
    from machinery import checkpoints
    if not checkpoints.mpnet_installed():
        pytest.skip(f"teacher 'mpnet' not installed: {checkpoints.MPNET_PIP}")
    return checkpoints.resolve_teacher("mpnet")


# A toy task for the end-to-end tests of distill.py and parallel.py.

POSITIVE, NEGATIVE, FILLER = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "dull"], ["the", "movie", "was", "a", "film", "plot"]


def toy_sentences(n, rng):
    texts, labels = [], []
    for _ in range(n):
        y = int(rng.integers(2))
        words = list(rng.choice(FILLER, int(rng.integers(1, 6)))) + [rng.choice(POSITIVE if y else NEGATIVE)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    return texts, labels


@pytest.fixture
def toy(tmp_path):
    """A toy SST-2: a sentence is positive when it holds a positive word.  With 8-d word vectors
    and a tiny random BERT as teacher."""
    rng = np.random.default_rng(0)
    g = tmp_path / "glue" / "SST-2"
    g.mkdir(parents=True)
    for split, n in (("train", 400), ("dev", 100)):
        texts, labels = toy_sentences(n, rng)
        (g / f"{split}.tsv").write_text("sentence\tlabel\n" + "".join(f"{t} \t{y}\n" for t, y in zip(texts, labels)))
    texts, _ = toy_sentences(30, rng)
    (g / "test.tsv").write_text("index\tsentence\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(texts)))
    words = POSITIVE + NEGATIVE + FILLER
    (tmp_path / "vectors").mkdir()
    (tmp_path / "vectors" / "glove.6B.50d.txt").write_text(
        "".join(w + " " + " ".join(f"{x:.3f}" for x in rng.normal(0, 1, 8)) + "\n" for w in words))
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n")
    cfg = {"vocab_size": len(words) + 5, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 32, "max_position_embeddings": 32, "type_vocab_size": 2}
    (teacher / "config.json").write_text(json.dumps(cfg))
    torch.manual_seed(0)
    torch.save(models.Bert(cfg).state_dict(), teacher / "teacher.pt")
    return tmp_path


def toy_teacher_logits(toy, split):
    """A perfect toy teacher: +2 / -2 logits from the gold label."""
    labels = np.array(data.load_split("sst2", split, toy).label)
    return np.stack([-2.0 * (2 * labels - 1), 2.0 * (2 * labels - 1)], 1).astype(np.float32)


# Interruptions and processes, as the end-to-end tests make and find them.

def interrupted(monkeypatch, after):
    """Progress.update raises KeyboardInterrupt at its `after`-th call, as a Ctrl-C would."""
    calls, real = {"n": 0}, files.Progress.update

    def update(self, k=1):
        calls["n"] += 1
        if calls["n"] == after:
            raise KeyboardInterrupt
        real(self, k)
    monkeypatch.setattr(files.Progress, "update", update)
    return lambda: monkeypatch.setattr(files.Progress, "update", real)


def worker(launcher_pid, rank):
    """The pid of torchrun's worker of that rank (read from /proc: its parent and its RANK)."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = int(next(l for l in status.read_text().splitlines() if l.startswith("PPid:")).split()[1])
            environ = (status.parent / "environ").read_bytes().split(b"\0")
        except (OSError, StopIteration):
            continue
        if ppid == launcher_pid and f"RANK={rank}".encode() in environ:
            return int(status.parent.name)


def launch(script, args, processes=1):
    """script (distill.py, augment.py) in a fresh interpreter with one thread, or `processes`
    of it under torchrun."""
    launcher = [sys.executable] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.Popen(launcher + [str(ROOT / script)] + args, cwd=ROOT, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(process):
    """The output of a run that must succeed; if it failed, its first error line leads the message."""
    output = process.communicate(timeout=300)[0]
    if process.returncode != 0:
        errors = [line for line in output.splitlines() if line.split(":")[0].endswith("Error")]
        raise AssertionError(f"{errors[0] if errors else 'failed'}\n{output}")
    return output


def holder_of(lock, job):
    """The pid written in the lock file once a process holds it, while job runs."""
    while True:
        text = lock.read_text() if lock.exists() else ""
        if text.strip():
            return int(text.split()[0])
        assert job.poll() is None, f"no lock at {lock} while the step ran:\n{job.communicate()[0]}"
        time.sleep(0.002)


def logits_args(toy, rows=3000):
    texts, _ = toy_sentences(rows, np.random.default_rng(1))
    (toy / "many.tsv").write_text("sentence\n" + "".join(t + "\n" for t in texts))
    return ["logits", "--task", "sst2", "--data-dir", str(toy), "--teacher-dir", str(toy / "teacher"),
            "--input", str(toy / "many.tsv"), "--batch-size", "4", "--no-bf16"]


# --- the graded tests: outputs made in one place, checked in another ----------------------------
# A graded test (classroom/grader.py's tables) calls the student's code in one function, its
# producer, and checks what came back:
#
#     def test_loss_is_eq1(produce):
#         s, t, y = ...                                        # inputs: our code, never an exercise
#         got = produce(lambda: distill.distill_loss(s, t, y, 0.0))    # the student's code runs here
#         expected = ...                                       # computed after, from the inputs
#         assert got == pytest.approx(expected)
#
# `make test` runs the three lines in one process.  The grader runs each submission's tests twice:
# in its sandbox with CLASSROOM_STEP=produce, where the producer's outputs are written to
# CLASSROOM_OUTPUTS and the test stops there (no expected value is ever computed where the
# student's code runs); then in a fresh handout outside the sandbox with CLASSROOM_STEP=check,
# where the outputs are read back as plain data (arrays and JSON, never a pickle) and the checks
# run.  Patching pytest, numpy or the grader inside the sandbox changes only the student's own
# outputs.  The body of a test outside its producer must not call an exercise: in the check step
# the exercises are blank.  The outputs are what a producer returns: tensors, arrays, numbers,
# strings, booleans, None, in lists, tuples and dicts with string keys; they come back with every
# tensor as a numpy array and every tuple as a list, the same in every step.

NO_OUTPUTS = "no outputs"     # how the check step's failure starts when the producer wrote none
ARRAY_KINDS = "biuf"          # booleans, integers, floats: no object arrays, no pickles
OUTPUT_BYTES = 256 << 20      # bytes of one array file the check step reads


def to_plain(value, arrays):
    """value with each tensor or array replaced by {"array": index into arrays}."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        value = (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    if isinstance(value, np.ndarray):
        arrays.append(np.ascontiguousarray(value))
        return {"array": len(arrays) - 1}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [to_plain(v, arrays) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"a producer's dict keys must be strings: {list(value)[:5]}")
        return {"dict": {k: to_plain(v, arrays) for k, v in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a producer returned a {type(value).__name__}: return tensors, arrays, "
                    f"numbers, strings, lists or dicts")


def from_plain(value, arrays):
    if isinstance(value, list):
        return [from_plain(v, arrays) for v in value]
    if isinstance(value, dict) and "array" in value:
        return arrays[value["array"]]
    if isinstance(value, dict):
        return {k: from_plain(v, arrays) for k, v in value["dict"].items()}
    return value


def write_outputs(value, folder):
    arrays = []
    plain = to_plain(value, arrays)
    if any(a.dtype.kind not in ARRAY_KINDS for a in arrays):
        raise TypeError("a producer returned an array of objects or strings: return a list instead")
    folder.mkdir(parents=True)
    for i, array in enumerate(arrays):
        np.save(folder / f"{i}.npy", array, allow_pickle=False)
    (folder / "outputs.json").write_text(json.dumps(plain))


def read_array(path):
    """An .npy file of numbers or booleans whose size agrees with its header, or ValueError."""
    with open(path, "rb") as f:
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}[np.lib.format.read_magic(f)]
        shape, _, dtype = read_header(f)
        body = path.stat().st_size - f.tell()
    if dtype.kind not in ARRAY_KINDS or body != int(np.prod(shape)) * dtype.itemsize or body > OUTPUT_BYTES:
        raise ValueError(f"{path.name}: not an array of numbers of the size its header says")
    return np.load(path, allow_pickle=False)


def read_outputs(folder):
    plain = json.loads((folder / "outputs.json").read_text())
    arrays, i = [], 0
    while (folder / f"{i}.npy").exists():
        arrays.append(read_array(folder / f"{i}.npy"))
        i += 1
    return from_plain(plain, arrays)


def outputs_folder(nodeid):
    """The folder of one test's outputs: its node id made a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in nodeid)[:200]


@pytest.fixture
def produce(request, tmp_path):
    """produce(producer): the producer's outputs, made here (CLASSROOM_STEP unset or produce)
    or read from CLASSROOM_OUTPUTS (check).  Once per test: one producer returns everything."""
    step = os.environ.get("CLASSROOM_STEP", "")
    calls = []

    def run(producer):
        if calls:
            raise RuntimeError("produce() is called once per test: return everything from one producer")
        calls.append(producer)
        if step == "check":
            folder = Path(os.environ["CLASSROOM_OUTPUTS"]) / outputs_folder(request.node.nodeid)
            if not (folder / "outputs.json").is_file():
                pytest.fail(f"{NO_OUTPUTS}: the test's producer did not finish", pytrace=False)
            return read_outputs(folder)
        out = Path(os.environ["CLASSROOM_OUTPUTS"]) if step == "produce" else tmp_path / "outputs"
        write_outputs(producer(), out / outputs_folder(request.node.nodeid))
        if step == "produce":
            pytest.skip("outputs written: checked outside the sandbox")
        return read_outputs(out / outputs_folder(request.node.nodeid))
    return run


def raised(call):
    """'ExceptionType: message' of what call() raised, or None: a producer's way to return an
    error for the check to match."""
    try:
        call()
    except (Exception, SystemExit) as error:
        return f"{type(error).__name__}: {error}"
    return None
