"""data.py -- chapter 1: from GLUE files on disk to padded batches of ids.

Tang et al. (2019) train two very different readers on the same text:
  * the teacher, BERT, reads WordPiece ids ("[CLS] the movie ... [SEP]");
  * the student, a BiLSTM, reads whole words looked up in word vectors.
This file holds everything both need and nothing else: where the data lives (downloading it
when it is missing), a hand-written GLUE TSV reader, the word tokenizer, the vocabulary and
word-vector loader of the student, BERT's WordPiece tokenizer for the teacher, and
length-sorted batching.  It imports nothing of ours.

    python data.py --task sst2        # split sizes, label balance, lengths, vector coverage
"""
import argparse
import gzip
import io
import os
import re
import sys
import time
import unicodedata
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


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


class MissingDataError(FileNotFoundError):
    pass


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


def download(url, dest):
    """Fetch url into dest with a progress bar; the byte count must match Content-Length."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
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
        except OSError as error:  # URLError, timeouts, refused connections are all OSErrors
            reason = f"the download failed ({error})"
    else:
        reason = "downloading is switched off"
    raise MissingDataError(
        f"missing {what}: {path} does not exist and {reason}.\n"
        f"Put a copy there, or point DATA_DIR at a folder laid out as glue/<TASK>/*.tsv, "
        f"vectors/, nltk_data/ (make DATA_DIR=/path/to/data ..., or --data-dir /path/to/data).")


# ----------------------------------------------------------------------------------------------
# The GLUE tasks.  One row per task: where its files are, which columns hold the text and the
# label, the label names as written in the files (also what the GLUE server expects back), and
# the metric GLUE ranks it by.  Columns are found by their header names, so a file with extra
# columns (augment.py adds `source_row`) reads the same way.

@dataclass(frozen=True)
class Task:
    name: str            # GLUE's folder and submission name
    text_a: str
    text_b: str | None
    label: str
    labels: tuple
    metric: str          # "acc" or "f1" (F1 of label 1, with accuracy beside it)
    splits: tuple        # (split, file) pairs; test splits carry no labels
    pretokenized: bool = False
    submission: tuple = ()   # (test split, GLUE submission file name) pairs
    url: str = ""


GLUE_URL = "https://dl.fbaipublicfiles.com/glue/data/"
TASKS = {
    "sst2": Task("SST-2", "sentence", None, "label", ("0", "1"), "acc",
                 (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                 pretokenized=True, submission=(("test", "SST-2.tsv"),), url=GLUE_URL + "SST-2.zip"),
    "mrpc": Task("MRPC", "#1 String", "#2 String", "Quality", ("0", "1"), "f1",
                 (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                 submission=(("test", "MRPC.tsv"),)),
    "rte": Task("RTE", "sentence1", "sentence2", "label", ("entailment", "not_entailment"), "acc",
                (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                submission=(("test", "RTE.tsv"),), url=GLUE_URL + "RTE.zip"),
    "qqp": Task("QQP", "question1", "question2", "is_duplicate", ("0", "1"), "f1",
                (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                submission=(("test", "QQP.tsv"),), url=GLUE_URL + "QQP-clean.zip"),
    "mnli": Task("MNLI", "sentence1", "sentence2", "gold_label",
                 ("contradiction", "entailment", "neutral"), "acc",
                 (("train", "train.tsv"), ("dev_matched", "dev_matched.tsv"),
                  ("dev_mismatched", "dev_mismatched.tsv"), ("test_matched", "test_matched.tsv"),
                  ("test_mismatched", "test_mismatched.tsv")),
                 submission=(("test_matched", "MNLI-m.tsv"), ("test_mismatched", "MNLI-mm.tsv")),
                 url=GLUE_URL + "MNLI.zip"),
}
DEV_SPLITS = {"mnli": ("dev_matched", "dev_mismatched")}


def dev_splits(task_key):
    return DEV_SPLITS.get(task_key, ("dev",))


# MRPC is not shipped as a GLUE zip: GLUE's own script builds it from Microsoft's two files and
# a list of the pairs that form the dev set.  We do the same.
MRPC_URLS = {"train": "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt",
             "test": "https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt",
             "dev_ids": GLUE_URL + "mrpc_dev_ids.tsv"}


def _fetch_glue(task, data_dir):
    glue = Path(data_dir) / "glue"
    if task.name != "MRPC":
        zip_path = download(task.url, glue / Path(task.url).name)
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(glue)
        extracted = glue / Path(task.url).stem          # QQP-clean.zip unpacks into QQP/
        if not (glue / task.name).exists() and extracted.exists():
            extracted.rename(glue / task.name)
        zip_path.unlink()
        return
    tmp = glue / "MRPC" / "raw"
    raw = {k: download(url, tmp / Path(url).name).read_text(encoding="utf-8-sig").splitlines()
           for k, url in MRPC_URLS.items()}
    dev_ids = {tuple(line.split("\t")[:2]) for line in raw["dev_ids"]}
    header = "\t".join(("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String")) + "\n"
    rows = [line.split("\t") for line in raw["train"][1:] if line.strip()]
    for split, keep in (("train", False), ("dev", True)):
        with open(glue / "MRPC" / f"{split}.tsv", "w", encoding="utf-8") as f:
            f.write(header)
            f.writelines("\t".join(r) + "\n" for r in rows if (tuple(r[1:3]) in dev_ids) == keep)
    with open(glue / "MRPC" / "test.tsv", "w", encoding="utf-8") as f:
        f.write("index" + header[len("Quality"):])
        for i, line in enumerate(l for l in raw["test"][1:] if l.strip()):
            f.write(f"{i}\t" + "\t".join(line.split("\t")[1:]) + "\n")
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


def split_path(task_key, split, data_dir=None, download_missing=True):
    task = TASKS[task_key]
    files = dict(task.splits)
    if split not in files:
        raise ValueError(f"{task.name} has no split {split!r}; it has {', '.join(files)}")
    data_dir = find_data_dir(data_dir)
    path = data_dir / "glue" / task.name / files[split]
    fetch = (lambda: _fetch_glue(task, data_dir)) if download_missing else None
    return fetch_or_explain(path, fetch, f"GLUE {task.name} {split} split")


# ----------------------------------------------------------------------------------------------
# Reading a GLUE TSV by hand.  Fields are split on tabs only: quote characters are text
# (MRPC and MNLI have unbalanced quotes that the csv module would swallow).

class GlueFormatError(ValueError):
    pass


@dataclass
class Split:
    text_a: list
    text_b: list | None        # None for single-sentence tasks
    label: list | None         # label indices into Task.labels; None for unlabeled test splits
    index: list                # the file's index/id column, or the row number
    path: str = ""
    skipped: tuple = ()        # line numbers of malformed rows skipped with skip_malformed

    def __len__(self):
        return len(self.text_a)


def read_tsv(path, task_key, skip_malformed=False, extra_columns=()):
    """Read any file in a task's column layout: text_a, text_b, label (when the header has the
    label column) and index.  A malformed row raises GlueFormatError naming file, line and what
    was expected; with skip_malformed it is skipped and reported, never dropped silently.
    extra_columns are returned as lists in a dict beside the Split."""
    task = TASKS[task_key]
    with open(path, encoding="utf-8-sig", newline="") as f:   # utf-8-sig drops MRPC's BOM
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise GlueFormatError(f"{path}: empty file, expected a header line")
    header = lines[0].rstrip("\r").split("\t")
    wanted = [task.text_a, task.text_b] if task.text_b else [task.text_a]
    missing = [c for c in wanted + list(extra_columns) if c not in header]
    if missing:
        raise GlueFormatError(f"{path}:1: header lacks column(s) {missing} of {task.name}; "
                              f"expected {wanted} (got {header})")
    col = {name: header.index(name) for name in header}
    has_label = task.label in col
    label_of = {name: i for i, name in enumerate(task.labels)}
    index_col = col.get("index", col.get("id"))
    a, b, y, idx, bad = [], [], [], [], []
    extra = {c: [] for c in extra_columns}
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r").split("\t")
        problem = None
        if len(fields) != len(header):
            problem = f"expected {len(header)} tab-separated fields ({', '.join(header)}), got {len(fields)}"
        elif has_label and fields[col[task.label]].strip() not in label_of:
            problem = (f"unknown label {fields[col[task.label]]!r} in column {task.label!r}, "
                       f"expected one of {list(task.labels)}")
        if problem:
            if not skip_malformed:
                raise GlueFormatError(f"{path}:{lineno}: {problem} (pass skip_malformed / "
                                      f"--skip-malformed to skip such rows)")
            bad.append(lineno)
            continue
        a.append(fields[col[task.text_a]].strip())
        if task.text_b:
            b.append(fields[col[task.text_b]].strip())
        if has_label:
            y.append(label_of[fields[col[task.label]].strip()])
        idx.append(fields[index_col] if index_col is not None else str(lineno - 2))
        for c in extra_columns:
            extra[c].append(fields[col[c]])
    if bad:
        shown = ", ".join(map(str, bad[:20])) + (" ..." if len(bad) > 20 else "")
        print(f"{path}: skipped {len(bad)} malformed rows (lines {shown})", file=sys.stderr)
    split = Split(a, b if task.text_b else None, y if has_label else None, idx, str(path), tuple(bad))
    return (split, extra) if extra_columns else split


def load_split(task_key, split, data_dir=None, skip_malformed=False, download_missing=True):
    return read_tsv(split_path(task_key, split, data_dir, download_missing), task_key, skip_malformed)


# ----------------------------------------------------------------------------------------------
# The student's words.  SST-2 comes tokenized and lower-cased ("it 's a charming ..."); the
# other tasks are raw text, so we split off punctuation and English clitics the way the Penn
# Treebank (and so GloVe's and word2vec's vocabularies) does: "don't." -> do n't .

MASK = "[MASK]"
_WORD = re.compile(r"\[MASK\]|n't|'(?:s|re|ve|ll|d|m)\b|\w+(?=n't)|\w+|[^\w\s]")


def tokenize(text, pretokenized=False):
    if pretokenized:
        return [w if w == MASK else w.lower() for w in text.split()]
    return [w if w == MASK else w.lower() for w in _WORD.findall(text)]


def task_tokens(split, task_key):
    """All word lists of a split: one list per text column."""
    pre = TASKS[task_key].pretokenized
    columns = [split.text_a] + ([split.text_b] if split.text_b is not None else [])
    return [[tokenize(t, pre) for t in column] for column in columns]


class Vocab:
    """Words to ids.  [PAD] is 0 so padded rows are zeros; [MASK] is augment.py's mask word."""
    specials = ("[PAD]", "[UNK]", MASK)

    def __init__(self, words, counts=None):
        self.itos = list(self.specials) + [w for w in words if w not in self.specials]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.counts = counts or {}

    @classmethod
    def build(cls, sentences, min_count=1):
        counts = {}
        for words in sentences:
            for w in words:
                counts[w] = counts.get(w, 0) + 1
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(kept, counts)

    def __len__(self):
        return len(self.itos)

    def encode(self, words):
        unk = self.stoi["[UNK]"]
        return [self.stoi.get(w, unk) for w in words]

    def save(self, path):
        Path(path).write_text("".join(w + "\n" for w in self.itos), encoding="utf-8")

    @classmethod
    def load(cls, path):
        return cls(Path(path).read_text(encoding="utf-8").split("\n")[:-1])


def _open_vectors(path):
    """A text handle on a GloVe/word2vec file: plain, .gz, or 'archive.zip' (its only .txt
    member) or 'archive.zip:member.txt'.  Always streamed, never read whole."""
    path = str(path)
    if ".zip" in path:
        archive, _, member = path.partition(".zip")
        archive, member = archive + ".zip", member.lstrip(":")
        z = zipfile.ZipFile(archive)
        if not member:
            txt = [n for n in z.namelist() if n.endswith(".txt")]
            if len(txt) != 1:
                raise ValueError(f"{archive}: name the member, e.g. {archive}:{txt[0] if txt else 'x.txt'}")
            member = txt[0]
        return io.TextIOWrapper(z.open(member), encoding="utf-8", errors="replace")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def load_vectors(path, vocab, seed=0, verbose=True):
    """Word vectors for the words of vocab, streamed from a text file ("word v1 ... vd", an
    optional word2vec "count dim" first line).  Words without a vector get U(-0.25, 0.25)
    (Kim 2014, the convention the authors' code follows); [PAD] gets zeros.
    Returns (matrix float32 [len(vocab), dim], set of words found)."""
    rng = np.random.default_rng(seed)
    matrix, found, dim = None, set(), None
    with _open_vectors(path) as f:
        for lineno, line in enumerate(f, start=1):
            parts = line.rstrip().split(" ")
            if dim is None:
                if len(parts) == 2 and lineno == 1:      # word2vec header "count dim"
                    continue
                dim = len(parts) - 1
                matrix = rng.uniform(-0.25, 0.25, (len(vocab), dim)).astype(np.float32)
            word = " ".join(parts[:-dim]) if len(parts) != dim + 1 else parts[0]
            i = vocab.stoi.get(word)
            if i is None or word in found:
                continue
            if len(parts) < dim + 1:
                raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers, got {len(parts)} fields")
            matrix[i] = np.asarray(parts[-dim:], dtype=np.float32)
            found.add(word)
    if matrix is None:
        raise ValueError(f"{path}: no vectors found")
    matrix[vocab.stoi["[PAD]"]] = 0
    if verbose:
        print(coverage_report(vocab, found, path), file=sys.stderr)
    return matrix, found


def coverage_report(vocab, found, path=""):
    words = [w for w in vocab.itos if w not in Vocab.specials]
    tokens = sum(vocab.counts.get(w, 0) for w in words)
    covered = sum(vocab.counts.get(w, 0) for w in words if w in found)
    line = f"word vectors {path}: {len(found & set(words)):,}/{len(words):,} vocabulary words"
    if tokens:
        line += f", {100 * covered / tokens:.2f}% of tokens covered"
    return line


# ----------------------------------------------------------------------------------------------
# The teacher's words: BERT's WordPiece tokenizer (Devlin et al. 2019; Wu et al. 2016).
# Two stages: a "basic" split on whitespace and punctuation (after clean-up, lower-casing and
# accent stripping for uncased models), then greedy longest-match-first sub-words, where a
# piece that continues a word is written "##piece".  [MASK] stays one token so that
# augment.py's masked words reach the teacher as BERT's own mask.

_SPECIAL = re.compile(r"(\[(?:MASK|CLS|SEP|PAD|UNK)\])")


def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def _clean(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        elif _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    return "".join(out)


class WordPiece:
    def __init__(self, vocab_path, lowercase=True, max_word_chars=100):
        words = Path(vocab_path).read_text(encoding="utf-8").split("\n")
        self.vocab = {w: i for i, w in enumerate(w.rstrip("\r") for w in words) if w or i == 0}
        self.lowercase, self.max_word_chars = lowercase, max_word_chars
        self.cls, self.sep, self.pad = (self.vocab[t] for t in ("[CLS]", "[SEP]", "[PAD]"))

    def basic_split(self, text):
        words = []
        for word in _clean(text).split():
            if self.lowercase:
                word = "".join(c for c in unicodedata.normalize("NFD", word.lower())
                               if unicodedata.category(c) != "Mn")
            piece = ""
            for ch in word:
                if _is_punct(ch):
                    words += [piece, ch] if piece else [ch]
                    piece = ""
                else:
                    piece += ch
            if piece:
                words.append(piece)
        return words

    def word_pieces(self, word):
        # BEGIN EXERCISE 1: split a word into WordPiece pieces, longest first ('##' continues a word)
        if len(word) > self.max_word_chars:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:                       # the longest piece in the vocabulary
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:                         # no piece fits: the whole word is unknown
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces
        # END EXERCISE 1

    def tokenize(self, text):
        tokens = []
        for chunk in _SPECIAL.split(text):       # "[MASK]" etc. typed in the text stay whole
            if chunk in self.vocab and _SPECIAL.fullmatch(chunk):
                tokens.append(chunk)
            else:
                tokens += [p for word in self.basic_split(chunk) for p in self.word_pieces(word)]
        return tokens

    def ids(self, text):
        return [self.vocab[t] for t in self.tokenize(text)]

    def encode(self, text_a, text_b=None, max_len=128):
        """[CLS] a [SEP] (b [SEP]) -> (ids, token_type_ids), cut to max_len by removing the last
        piece of the longer side first ("longest first")."""
        a = self.ids(text_a)
        b = self.ids(text_b) if text_b is not None else []
        budget = max_len - (3 if text_b is not None else 2)
        while len(a) + len(b) > budget:
            if len(a) > len(b):
                a.pop()
            else:
                b.pop()
        ids = [self.cls] + a + [self.sep]
        types = [0] * len(ids)
        if text_b is not None:
            ids += b + [self.sep]
            types += [1] * (len(b) + 1)
        return ids, types


def pad(sequences, value=0):
    """Pad lists of ids to the longest in the batch -> (array [n, longest], mask of real tokens)."""
    lengths = np.array([len(s) for s in sequences])
    out = np.full((len(sequences), lengths.max()), value, dtype=np.int64)
    for i, s in enumerate(sequences):
        out[i, :len(s)] = s
    return out, np.arange(lengths.max())[None] < lengths[:, None]


# ----------------------------------------------------------------------------------------------
# Batching.  Padding to the longest sentence of a batch wastes little when a batch holds
# sentences of similar length, so we sort by length inside large random pools ("buckets"),
# cut the pools into batches and shuffle the batches: each epoch still sees a new order.

def length_batches(lengths, batch_size, seed=None, pool=100):
    """Index lists of batch_size.  seed=None: sorted by length, in order (for evaluation).
    Otherwise shuffled deterministically from seed."""
    lengths = np.asarray(lengths)
    if seed is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start:start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size].tolist() for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


# ----------------------------------------------------------------------------------------------

def vectors_path(data_dir=None, name="glove.6B.50d.txt", download_missing=True):
    """The default word vectors: GloVe 6B 50d (the paper used word2vec 300d; users with more
    time can pass --vectors pointing at any GloVe/word2vec text file, .gz or .zip)."""
    data_dir = find_data_dir(data_dir)
    path = data_dir / "vectors" / name
    url = "https://nlp.stanford.edu/data/glove.6B.zip"

    def fetch():
        zip_path = download(url, data_dir / "vectors" / "glove.6B.zip")
        with zipfile.ZipFile(zip_path) as z:
            z.extract(name, data_dir / "vectors")
    return fetch_or_explain(path, fetch if name.startswith("glove.6B.") else None, "word vectors")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--data-dir", default=None, help="folder with glue/, vectors/, nltk_data/")
    p.add_argument("--vectors", default=None, help="word-vector file (default: GloVe 6B 50d)")
    p.add_argument("--skip-malformed", action="store_true", help="skip and report bad rows")
    args = p.parse_args(argv)
    task = TASKS[args.task]
    print(f"{task.name} in {find_data_dir(args.data_dir) / 'glue' / task.name}")
    splits = {name: load_split(args.task, name, args.data_dir, args.skip_malformed)
              for name, _ in task.splits}
    for name, s in splits.items():
        print(f"{name} {len(s)}")
    for name, s in splits.items():
        if s.label is not None:
            counts = np.bincount(s.label, minlength=len(task.labels))
            print(f"{name} labels: " + ", ".join(f"{l} {c} ({100 * c / len(s):.1f}%)"
                                                  for l, c in zip(task.labels, counts)))
    train_words = task_tokens(splits["train"], args.task)
    lengths = [len(w) for column in train_words for w in column]
    print("train words per sentence: " + ", ".join(
        f"p{q} {np.percentile(lengths, q):.0f}" for q in (50, 90, 95, 99, 100)))
    dev_words = [task_tokens(splits[d], args.task) for d in dev_splits(args.task)]
    vocab = Vocab.build([w for column in train_words + sum(dev_words, []) for w in column])
    print(f"vocabulary (train + dev): {len(vocab):,} words")
    path = args.vectors or vectors_path(args.data_dir)
    _, found = load_vectors(path, vocab, verbose=False)
    print(coverage_report(vocab, found, path))


if __name__ == "__main__":
    try:
        main()
    except MissingDataError as error:          # a clear message, not a traceback
        sys.exit(f"error: {error}")
