"""files.py -- machinery a reader may skip: where the data lives, downloads, atomic writes,
resumable arrays, provenance and the progress line.

Nothing here is part of Tang et al.'s method; the chapters (data.py, models.py, augment.py,
distill.py) call it so that they can stay about the method.  It imports nothing of ours.
"""
import ast
import ctypes
import errno
import fcntl
import gzip
import hashlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent     # the project folder
PART = ".part"          # the one suffix of a file being written; renamed into place when whole


# ----------------------------------------------------------------------------------------------
# Where the data lives.  One folder, DATA_DIR, laid out as
#     glue/<TASK>/{train,dev,test}.tsv     vectors/glove.6B.50d.txt     nltk_data/
# Given by --data-dir or the DATA_DIR environment variable; otherwise ../shared/data beside
# the checkout when it exists (the offline copy on our machines and in CI); otherwise ./data.

def find_data_dir(data_dir=None):
    if data_dir:
        return Path(data_dir)
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"])
    shared = HERE.parent / "shared" / "data"
    return shared if shared.is_dir() else HERE / "data"


def given_data_dir(flag, saved):
    """The data folder of a step that reads a run made earlier (eval): the one given now, by
    --data-dir or DATA_DIR, over the one the run saved (data moved since is read where it is)."""
    return flag or os.environ.get("DATA_DIR") or saved


class MissingDataError(FileNotFoundError):
    pass


def download(url, dest):
    """Fetch url into dest with a progress line; the byte count must match Content-Length."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + PART)
    with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as out:
        size = int(response.headers.get("Content-Length") or 0)
        bar = Progress(size, f"downloading {url}", "B")
        while chunk := response.read(1 << 20):
            out.write(chunk)
            bar.update(len(chunk))
        bar.close()
    if size and part.stat().st_size != size:
        raise OSError(f"{url}: got {part.stat().st_size} bytes, expected {size}; run again")
    part.rename(dest)
    return dest


def fetch_or_explain(path, fetch, what):
    """Return path if it exists; else try fetch(); if that fails say what is missing and how
    to point DATA_DIR at a local copy."""
    path = Path(path)
    if path.exists():
        return path
    if fetch is not None:
        try:
            fetch()
            if path.exists():
                return path
            reason = "the download did not contain it"
        except OSError as error:  # URLError, timeouts, refused connections are all OSErrors
            reason = f"the download failed ({error})"
    else:
        reason = "downloading is switched off"
    raise MissingDataError(
        f"missing {what}: {path} does not exist and {reason}.\n"
        f"Put a copy there, or point DATA_DIR at a folder laid out as glue/<TASK>/*.tsv, "
        f"vectors/, nltk_data/ (make DATA_DIR=/path/to/data ..., or --data-dir /path/to/data).")


GLUE_URL = "https://dl.fbaipublicfiles.com/glue/data/"
# MRPC is not shipped as a GLUE zip: GLUE's own script builds it from Microsoft's two files and
# a list of the pairs that form the dev set.  We do the same.
MRPC_URLS = {"train": "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt",
             "test": "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt",
             "dev_ids": GLUE_URL + "mrpc_dev_ids.tsv"}
GLUE_ZIPS = {"SST-2": "SST-2.zip", "RTE": "RTE.zip", "QQP": "QQP-clean.zip", "MNLI": "MNLI.zip"}


def fetch_glue(name, data_dir):
    """Download GLUE's folder `name` (SST-2, MRPC, ...) into data_dir/glue/.  Only the files
    missing there are written: one the user has, edited or not, is kept (see add_missing)."""
    glue = Path(data_dir) / "glue"
    if name != "MRPC":
        url = GLUE_URL + GLUE_ZIPS[name]
        glue.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=glue) as tmp:          # never over a zip the user has
            unpack_missing(download(url, Path(tmp) / GLUE_ZIPS[name]), glue, Path(url).stem, name)
        return
    mrpc = glue / "MRPC"
    mrpc.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=mrpc) as tmp:
        raw = {k: download(url, Path(tmp) / Path(url).name).read_text(encoding="utf-8-sig").splitlines()
               for k, url in MRPC_URLS.items()}
    dev_ids = {tuple(line.split("\t")[:2]) for line in raw["dev_ids"]}
    header = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
    rows = [line.split("\t") for line in raw["train"][1:] if line.strip()]
    tests = [line.split("\t")[1:] for line in raw["test"][1:] if line.strip()]
    tables = {"train.tsv": [header] + [r for r in rows if tuple(r[1:3]) not in dev_ids],
              "dev.tsv": [header] + [r for r in rows if tuple(r[1:3]) in dev_ids],
              "test.tsv": [["index"] + header[1:]] + [[str(i)] + r for i, r in enumerate(tests)]}
    for file_name, table in tables.items():
        text = "".join("\t".join(r) + "\n" for r in table)
        add_missing(mrpc / file_name, io.BytesIO(text.encode("utf-8")))


def unpack_missing(zip_path, glue, stem, name):
    """The zip's files that glue/ does not have yet (its folder `stem`/ goes into `name`/)."""
    with zipfile.ZipFile(zip_path) as z:
        for member in z.infolist():
            inside = member.filename
            if inside.startswith(stem + "/"):
                inside = name + inside[len(stem):]
            if not member.is_dir():
                with z.open(member) as source:
                    add_missing(glue / inside, source)


def add_missing(path, source):
    """Copy the binary stream source to path, unless path exists: a download adds the files a
    user lacks and never writes over one they have (an edited train.tsv stays as it is)."""
    if path.exists():
        print(f"{path} exists: kept, the download's copy is not written", file=sys.stderr)
        return
    with atomic(path) as part, open(part, "wb") as out:
        shutil.copyfileobj(source, out)


def glue_path(name, file_name, data_dir=None, download_missing=True):
    """data_dir/glue/<name>/<file_name>, downloaded when missing."""
    data_dir = find_data_dir(data_dir)
    fetch = (lambda: fetch_glue(name, data_dir)) if download_missing else None
    return fetch_or_explain(data_dir / "glue" / name / file_name, fetch, f"GLUE {name} {file_name}")


def vectors_path(data_dir=None, name="glove.6B.50d.txt", download_missing=True):
    """The default word vectors: GloVe 6B 50d (the paper used word2vec 300d; users with more
    time can pass --vectors pointing at any GloVe/word2vec text file, .gz or .zip)."""
    data_dir = find_data_dir(data_dir)
    path = data_dir / "vectors" / name

    def fetch():
        zip_path = data_dir / "vectors" / "glove.6B.zip"
        if zip_path.exists():
            print(f"{zip_path} exists: unpacking {name} from it instead of downloading", file=sys.stderr)
        else:
            download("https://nlp.stanford.edu/data/glove.6B.zip", zip_path)
        with zipfile.ZipFile(zip_path) as z, z.open(name) as source:
            add_missing(path, source)
    return fetch_or_explain(path, fetch if name.startswith("glove.6B.") and download_missing else None,
                            "word vectors")


def open_binary(path):
    """A GloVe/word2vec file as bytes: plain, .gz, or 'archive.zip' (its only .txt member) or
    'archive.zip:member.txt'.  Always streamed, never read whole."""
    path = str(path)
    # An archive's name ends in .zip, alone or before ':member': a folder my.zipdir/ is a folder
    if path.endswith(".zip") or ".zip:" in path:
        archive, _, member = path.partition(".zip:") if ".zip:" in path else (path[:-4], "", "")
        archive += ".zip"
        z = zipfile.ZipFile(archive)
        if not member:
            txt = [n for n in z.namelist() if n.endswith(".txt")]
            if len(txt) != 1:
                raise ValueError(f"{archive}: name the member, e.g. {archive}:{txt[0] if txt else 'x.txt'}")
            member = txt[0]
        return z.open(member)
    return gzip.open(path) if path.endswith(".gz") else open(path, "rb")


def open_text(path):
    """open_binary's file as strict UTF-8 text (text_lines names the line of a bad byte)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8")


def text_lines(path):
    """(line number, text) for each line of open_binary's file, each decoded as strict UTF-8, so
    that a bad byte stops the reading with its line named instead of becoming a replacement
    character, and a broken .gz or .zip names the file."""
    lineno = 0
    with open_binary(path) as handle:
        try:
            for lineno, raw in enumerate(handle, start=1):
                try:
                    yield lineno, raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    gz = " (it starts with 1f 8b, gzip's mark: a compressed file? name it .gz)" \
                        if raw.startswith(b"\x1f\x8b") else ""
                    raise ValueError(f"{path}:{lineno}: not UTF-8 text: byte {raw[error.start]:#04x} "
                                     f"at column {error.start + 1}{gz}") from None
        except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as error:
            raise ValueError(f"{path}: cannot read past line {lineno}: {error} "
                             f"(a download cut short? fetch it again)") from None


# ----------------------------------------------------------------------------------------------
# Writing files so that a kill never leaves half of one under the real name.

@contextmanager
def atomic(path):
    """Yields `<path>.part` to write; renamed to path only when the block finished.  A disk that
    fills up on the way stops the step naming path, the part removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + PART)
    try:
        yield part
    except (OSError, RuntimeError) as error:
        if not disk_full(error, part):
            raise
        part.unlink(missing_ok=True)
        raise SystemExit(f"{path}: not written: the disk is full (no space left on device in "
                         f"{path.parent}); free some space and run again") from None
    part.replace(path)


def disk_full(error, part):
    """Whether writing part failed for want of space: an OSError says so (ENOSPC), torch.save
    does not (a RuntimeError, 'basic_ios::clear'): then whether the part can grow at all."""
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC
    try:
        with open(part, "ab") as f:
            f.write(bytes(1 << 16))
    except OSError as probe:
        return probe.errno == errno.ENOSPC
    return False


def save_json(path, obj):
    with atomic(path) as part:
        part.write_text(json.dumps(obj, indent=2) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=HERE).stdout.strip()
    except OSError:
        return ""


def provenance(args):
    """What produced an output: the command, its arguments, the code's git commit and the peak
    memory of the process so far."""
    config = {k: v for k, v in vars(args).items() if k != "func"}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # Linux reports KiB
    return {"command": "python " + " ".join(sys.argv), "config": config, "git_commit": git_commit(),
            "peak_rss_mb": round(peak_mb, 1)}


def start(args, seed=None):
    """Print a step's settings (every output saves them too); seed(args.seed) when given (torch's
    generator, for the steps that train).  Returns the start time."""
    name = getattr(args, "cmd", None) or Path(sys.argv[0]).name
    print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in vars(args).items() if k not in ("cmd", "func")),
          file=sys.stderr)
    if seed is not None:
        seed(args.seed)
    return time.time()


class Resumable:
    """An array filled batch by batch in a memory-mapped `<out>.part.npy`, with a progress file
    beside it (batches done, seconds spent) and the manifest of what it is made from, so that an
    interrupted run continues after the last finished batch; `finish` renames it to out.  A
    part of another shape or manifest starts afresh."""

    def __init__(self, out, shape, made=None):
        self.out, self.part = Path(out), Path(str(out) + PART + ".npy")
        self.progress, self.recipe = Path(str(out) + ".done_batches"), Path(str(out) + ".manifest.json")
        self.done, self.spent = 0, 0.0
        if self.part.exists() and self.progress.exists() and matches(self.recipe, made, self.part):
            self.array = np.load(self.part, mmap_mode="r+")
            if self.array.shape == tuple(shape):
                done, spent = (self.progress.read_text().split() + ["0", "0"])[:2]  # empty if killed mid-write
                self.done, self.spent = int(done), float(spent)
                print(f"resuming {self.part} after {self.done} batches", file=sys.stderr)
                return
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self.array = np.lib.format.open_memmap(self.part, mode="w+", dtype=np.float32, shape=tuple(shape))
        self.progress.write_text("0 0")
        save_json(self.recipe, {"manifest": made})

    def save(self, batches_done, seconds):
        self.array.flush()                                  # rows on disk before we say so
        self.progress.write_text(f"{batches_done} {self.spent + seconds:.1f}")

    def finish(self):
        self.part.replace(self.out)
        self.progress.unlink()
        self.recipe.unlink()


class Progress:
    """A progress line on stderr: done/total, items per second, time left.  On a terminal it
    redraws one line; in a log file it writes a new line every 30 seconds.  show=False keeps it
    silent (the ranks other than 0 under torchrun)."""

    def __init__(self, total, desc="", unit="it", start=0, show=True):
        self.total, self.desc, self.unit, self.show = total, desc, unit, show
        self.n = self.start = start
        self.t0 = self.last = time.time()
        self.tty = sys.stderr.isatty()

    def update(self, k=1):
        self.n += k
        now = time.time()
        if self.show and (now - self.last > (0.5 if self.tty else 30) or self.n >= self.total):
            self.last = now
            rate = (self.n - self.start) / max(now - self.t0, 1e-9)
            left = (self.total - self.n) / rate if rate > 0 else 0
            pct = 100 * self.n / max(self.total, 1)
            line = f"{self.desc} {self.n:,}/{self.total:,} ({pct:3.0f}%) {rate:,.0f} {self.unit}/s, {left:,.0f}s left"
            print("\r" + line + "   " if self.tty else line, end="" if self.tty else "\n",
                  file=sys.stderr, flush=True)

    def close(self):
        if self.tty and self.show:
            print(file=sys.stderr)
        return time.time() - self.t0


# ----------------------------------------------------------------------------------------------
# Manifests: what an output was made from.  Each step writes, beside its output, the settings
# that shape it and a fingerprint of every input file.  A finished output counts as done, and a
# half-done one is resumed, only when both match the present command; otherwise the step says
# what changed and makes the output afresh, so nothing stale or mixed passes downstream.

def fingerprint(path):
    """Size and SHA-256 of a file (a folder: of the files in it, by name)."""
    path = Path(path)
    if path.is_dir():
        return {p.name: fingerprint(p) for p in sorted(path.iterdir()) if p.is_file()}
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def manifest(args, inputs, ignore=(), code=None):
    """The settings of args (every flag but paths, which the inputs' fingerprints cover, and the
    names in ignore), the fingerprints of the input files (name -> path; a name, URL or None
    that is no local file stands for itself) and, given the step's chapter file, of its code."""
    paths = {"out", "device", "data_dir", "cmd", "func"} | set(ignore) | set(inputs)
    made = {"settings": {k: v for k, v in vars(args).items() if k not in paths},
            "inputs": {name: fingerprint(p) if p and Path(p).exists() else p for name, p in inputs.items()}}
    if code:
        made["code"] = code_of(code)
    return made


def code_of(entry):
    """{file: hash of its syntax} of the chapter file entry and of every project module it
    imports, directly or not: the code that makes a step's output is one of its inputs, so that
    an edited rule redoes the steps that run it.  Comments and docstrings are left out of the
    hash (a reader's notes redo nothing); a module outside the project is not ours to track."""
    todo, found = [Path(entry).resolve()], {}
    while todo:
        path = todo.pop()
        rel = path.relative_to(HERE).as_posix()
        if rel in found:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and is_docstring(body[0]):
                node.body = body[1:] or [ast.Pass()]
        found[rel] = hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]
        todo += [module for module in imported(tree) if module.is_file()]
    return dict(sorted(found.items()))


def is_docstring(statement):
    return isinstance(statement, ast.Expr) and isinstance(getattr(statement.value, "value", None), str)


def imported(tree):
    """The project files that would hold the modules a syntax tree imports."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [HERE / (name.replace(".", "/") + ".py") for name in names]


def changes(old, new):
    """What differs between two manifests, in words (empty when they match)."""
    if old is None:
        return ["no manifest"]
    said = [f"{k}: {old['settings'].get(k)!r} -> {v!r}" for k, v in new["settings"].items()
            if old["settings"].get(k) != v]
    said += [f"{k} changed" for k, v in new["inputs"].items() if old["inputs"].get(k) != v]
    said += [f"the code of {k} changed" for k, v in new.get("code", {}).items() if old.get("code", {}).get(k) != v]
    return said


def matches(path, made, what):
    """True when the manifest stored at path (a JSON file, under "manifest") is `made`; else
    False, saying on stderr what changed (nothing when path does not exist)."""
    if not Path(path).exists():
        return False
    diff = changes(read_json(path).get("manifest"), made)
    if diff:
        print(f"{what} was made from other settings or inputs ({'; '.join(diff)}): starting it afresh",
              file=sys.stderr)
    return not diff


# A step's record (its summary JSON with the manifest) vouches for its outputs: it is written
# only once they are whole, names each with its fingerprint, and is set aside before a step
# starts them afresh.  So a kill at any point leaves either a record that matches the files on
# disk or no record (the step is not finished), and a file edited after it was made is made again.

def record(path, summary, outputs):
    """Write the record at path: summary with the fingerprint of each output file (named
    relative to the record's folder).  Call it when the outputs are whole."""
    folder = Path(path).parent
    made = {Path(o).relative_to(folder).as_posix(): fingerprint(o) for o in outputs}
    save_json(path, {**summary, "outputs": made})


def finished(path, made, what):
    """True when the record at path has the manifest `made` and its outputs are on disk as it
    names them; else False, saying on stderr why (nothing when there is no record)."""
    if not Path(path).exists():
        return False
    saved = read_json(path)
    folder = Path(path).parent
    diff = changes(saved.get("manifest"), made)
    outputs = saved.get("outputs") or {}
    if not outputs:
        diff.append("its record names no output")
    for name, kept in outputs.items():
        if not (folder / name).exists() or fingerprint(folder / name) != kept:
            diff.append(f"{name} was changed or removed after it was made")
    if diff:
        print(f"{what} was made from other settings or inputs, or has changed ({'; '.join(diff)}): "
              f"starting it afresh", file=sys.stderr)
    return not diff


def retire(path=None, companions=()):
    """Before a step starts its outputs afresh.  A finished run's record (path) and its
    companions (its weights, config) move to <name>.previous<suffix>, each said on stderr: the
    record still shows the run's curve and results but vouches for nothing, and the weights are
    kept, since they may be hours of a teacher that an edit to the code alone (a new manifest)
    must not cost; an older .previous file of the same name is replaced.  Without a record to
    vouch for them (path None: an unfinished run's), the companions are removed."""
    # Under torchrun every rank comes here: the first to move a file says so, the others find
    # it gone.
    if path is None:
        for companion in map(Path, companions):
            try:
                companion.unlink()
            except FileNotFoundError:
                continue
            print(f"{companion}: an unfinished run's, removed", file=sys.stderr)
        return
    if set_aside(Path(path)):
        for companion in map(Path, companions):
            set_aside(companion)


def set_aside(old):
    """Move old to <name>.previous<suffix>, saying so; False when there is no old."""
    aside = old.with_name(old.stem + ".previous" + old.suffix)
    try:
        old.replace(aside)
    except FileNotFoundError:
        return False
    print(f"{old} -> {aside.name}: the old run's, set aside", file=sys.stderr)
    return True


def writable(folder):
    """Fail now, not after an hour of training, when an output folder cannot be written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}{PART}"     # one per process: torchrun's ranks
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise SystemExit(f"cannot write into {folder}: {error}") from None


# ----------------------------------------------------------------------------------------------
# One writer per output.  A step holds an fcntl lock on `<out>.lock`, beside its output file or
# folder, from its start to the end of its process: a second run on the same output stops at
# once, naming the first, instead of writing into the same `.part` files (rows of two teachers
# in one array, a checkpoint renamed away under the other).  Stopping is simpler and clearer
# than waiting: the user decides whether the first run is wanted.

LOCKS = {}          # lock file -> its open file, for each lock this process holds


def lock(*outputs):
    """Hold `<out>.lock` for each output until this process ends, with its pid and command line
    written in it; stop, naming the holder, when another live process holds one.  A lock file
    left by a dead process holds no lock any more and is simply taken.  Under torchrun every
    worker dies with its launcher, and rank 0 holds the locks for all the ranks."""
    if "TORCHELASTIC_RUN_ID" in os.environ:
        die_with_launcher()
    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and int(os.environ.get("RANK", 0)) != 0:
        return
    for out in outputs:
        take(Path(str(out) + ".lock"), out)


def take(path, out):
    """The lock at path, or SystemExit naming the live process that holds it."""
    if path.resolve() in LOCKS:               # taken already by an earlier step of this process
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")         # never truncated before it is ours
    except OSError as error:
        raise SystemExit(f"cannot write into {path.parent}: {error}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid, _, command = handle.read().strip().partition("\n")
        handle.close()
        holder = f"pid {pid} ({command})" if pid else "another process"
        raise SystemExit(f"{out} is being written by {holder}; wait for it or stop it, then run "
                         f"this again (this run stops rather than waits: two writers of one "
                         f"output would mix their work; lock file {path})") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\npython {' '.join(sys.argv)}\n")
    handle.flush()
    LOCKS[path.resolve()] = handle


def die_with_launcher():
    """Be killed when torchrun's launcher dies: its workers run in sessions of their own, and
    would go on writing their shards beside a rerun.  Linux kills us at once (prctl's
    PR_SET_PDEATHSIG); elsewhere a thread watches for the parent to change."""
    launcher = os.getppid()
    try:
        refused = ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)    # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):                                       # no prctl: not Linux
        refused = True
    if refused:
        threading.Thread(target=watch_parent, args=(launcher,), daemon=True).start()
    if os.getppid() != launcher:            # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)


def watch_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)


def write_tsv(path, header, rows):
    """A TSV file written whole or not at all."""
    with atomic(path) as part, open(part, "w", encoding="utf-8") as f:
        f.writelines("\t".join(map(str, row)) + "\n" for row in [header, *rows])


def write_errors(path, split, predictions, teacher, task, limit):
    """The misclassified examples beside the teacher's answers: where the student fails it, where both fail."""
    wrong = [i for i in range(len(split)) if predictions[i] != split.label[i]][:limit]
    name = lambda y: task.labels[y] if y is not None else ""       # noqa: E731
    write_tsv(path, ["gold", "teacher", "student", "text_a"] + ["text_b"] * bool(split.text_b),
              [[name(split.label[i]), name(None if teacher is None else teacher[i]), name(predictions[i]),
                split.text_a[i]] + ([split.text_b[i]] if split.text_b else []) for i in wrong])
    print(f"{len(wrong)} misclassified examples -> {path}")


def require_finite(numbers, what):
    """ValueError naming `what` (a file and line) when an array read from a file holds a NaN or
    an infinity ("nan", "1e999", or a number past float32's range): it would reach the model and
    make every prediction NaN."""
    if not np.isfinite(numbers).all():
        bad = [float(x) for x in np.asarray(numbers).ravel() if not np.isfinite(x)]
        raise ValueError(f"{what} holds {bad[0]} ({len(bad)} such): expected finite numbers "
                         f"(within float32's range, about ±3.4e38)")


def read_logits(path, split, classes):
    """The teacher's logits in the .npy at `path`, checked where they enter: floats, of shape
    (one row per example of `split`, `classes`), every one finite.  Anything else stops with a
    message naming the file and what was expected: a NaN row, an integer array or an (N, 1)
    array broadcast over the classes would otherwise train a student on nonsense."""
    expected = f"expected a float array of shape ({len(split)}, {classes}), finite"
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise SystemExit(f"{path}: not a .npy file (it does not start with numpy's mark "
                             f"\\x93NUMPY: a text file?); {expected}")
    try:
        array = np.load(path, allow_pickle=False)          # object arrays would be pickles
    except (ValueError, EOFError) as error:
        said = ("it holds Python objects, pickles, which are never loaded"
                if "Object arrays" in str(error) else str(error))
        raise SystemExit(f"{path}: not a readable .npy array of numbers: {said}; {expected}: "
                         f"make it again with distill.py logits") from None
    if array.dtype.kind != "f":
        raise SystemExit(f"{path} holds numbers of type {array.dtype}; {expected}")
    if array.ndim == 2 and len(array) != len(split) and array.shape[1] == classes:
        raise SystemExit(f"{path} holds {len(array):,} rows but {split.path} has {len(split):,} examples: "
                         f"make {Path(path).name} again from that file")
    if array.shape != (len(split), classes):
        raise SystemExit(f"{path} holds an array of shape {array.shape}; {expected} "
                         f"(a row per example of {split.path}, a column per class)")
    bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
    if len(bad):
        raise SystemExit(f"{path}: row {bad[0]} holds {array[bad[0]].tolist()}, not finite "
                         f"({len(bad):,} of {len(array):,} rows are not); {expected}: make it "
                         f"again with distill.py logits")
    return array


def made_from(pairs):
    """Stop before training when an array of rows (the teacher's logits) was made from another
    version of the file whose rows it holds: its record (<name>.json beside it, as distill.py
    logits writes it) names that file's fingerprint.  pairs: (array, file) of the step, a pair
    without an array record or file skipped.  The row counts alone miss a file shuffled or
    edited in place, which would pair each sentence with another sentence's logits."""
    for array, source in pairs:
        if not array or not source:
            continue
        record = Path(array).with_suffix(".json")
        if not record.exists() or not Path(source).exists():
            continue
        made = (read_json(record).get("manifest") or {}).get("inputs", {}).get("input")
        now = fingerprint(source)
        if isinstance(made, dict) and made != now:
            raise SystemExit(f"{array} was made from another version of {source}: its record "
                             f"{record} names sha256 {made.get('sha256', '?')[:12]}..., the file "
                             f"has {now['sha256'][:12]}... (changed since, the same rows or not). "
                             f"Make {Path(array).name} again from {source} (`make` does)")


def nltk_data(data_dir, names):
    """Put $NLTK_DATA and <DATA_DIR>/nltk_data on nltk's search path; stop at once, saying where
    we looked and how to get them, when one of the named resources is missing."""
    import nltk
    folders = [f for f in os.environ.get("NLTK_DATA", "").split(os.pathsep) if f]
    folders.append(str(find_data_dir(data_dir) / "nltk_data"))
    nltk.data.path[:0] = [f for f in folders if f not in nltk.data.path]
    missing = []
    for name in names:
        try:
            nltk.data.find(name)
        except LookupError:
            missing.append(name)
    if missing:
        raise MissingDataError(
            f"missing nltk tagger data {missing}: searched {nltk.data.path}.\n"
            f"Point NLTK_DATA at a folder holding taggers/averaged_perceptron_tagger_eng/ and "
            f"taggers/universal_tagset/ (our offline copy: <DATA_DIR>/nltk_data), or fetch them "
            f"once with: python -m nltk.downloader averaged_perceptron_tagger_eng universal_tagset")


def cached_json(path, key, make):
    """make()'s result (JSON-able), kept in path with key: made again when the key differs."""
    if Path(path).exists():
        saved = read_json(path)
        if saved.get("key") == key:
            return saved["value"]
    value = make()
    save_json(path, {"key": key, "value": value})
    return value
