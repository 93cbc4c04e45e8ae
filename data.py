"""data.py -- chapter 1: from GLUE files on disk to padded batches of ids.

Tang et al. (2019) train two very different readers on the same text:
  * the student, a BiLSTM, reads whole words looked up in word vectors;
  * the teacher, BERT, reads WordPiece ids ("[CLS] the movie ... [SEP]").
This file follows the student's path first, in the order the data flows:

    GLUE files -> words -> vocabulary and word vectors -> batches of word ids

and then, as its own part, the teacher's words: BERT's WordPiece tokenizer.  Where the files
live and how they are downloaded is machinery/files.py's business.

    python data.py --task sst2        # split sizes, label balance, lengths, vector coverage
"""
import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from machinery import files
# Data that is missing and cannot be downloaded (a GLUE file, the vectors, NLTK's tagger) raises
# MissingDataError, named here data.MissingDataError too; the chapters' scripts catch it as
# FileNotFoundError, its base class.
from machinery.files import MissingDataError  # noqa: F401

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
    names: tuple = ()        # the labels as a reader says them, for tables and pages


TASKS = {
    "sst2": Task("SST-2", "sentence", None, "label", ("0", "1"), "acc",
                 (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                 pretokenized=True, submission=(("test", "SST-2.tsv"),),
                 names=("negative", "positive")),
    "mrpc": Task("MRPC", "#1 String", "#2 String", "Quality", ("0", "1"), "f1",
                 (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                 submission=(("test", "MRPC.tsv"),), names=("not paraphrase", "paraphrase")),
    "rte": Task("RTE", "sentence1", "sentence2", "label", ("entailment", "not_entailment"), "acc",
                (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                submission=(("test", "RTE.tsv"),), names=("entailment", "not entailment")),
    "qqp": Task("QQP", "question1", "question2", "is_duplicate", ("0", "1"), "f1",
                (("train", "train.tsv"), ("dev", "dev.tsv"), ("test", "test.tsv")),
                submission=(("test", "QQP.tsv"),), names=("not duplicate", "duplicate")),
    "mnli": Task("MNLI", "sentence1", "sentence2", "gold_label",
                 ("contradiction", "entailment", "neutral"), "acc",
                 (("train", "train.tsv"), ("dev_matched", "dev_matched.tsv"),
                  ("dev_mismatched", "dev_mismatched.tsv"), ("test_matched", "test_matched.tsv"),
                  ("test_mismatched", "test_mismatched.tsv")),
                 submission=(("test_matched", "MNLI-m.tsv"), ("test_mismatched", "MNLI-mm.tsv")),
                 names=("contradiction", "entailment", "neutral")),
}
DEV_SPLITS = {"mnli": ("dev_matched", "dev_mismatched")}


def dev_splits(task_key):
    return DEV_SPLITS.get(task_key, ("dev",))


def split_path(task_key, split, data_dir=None, download_missing=True):
    task = TASKS[task_key]
    names = dict(task.splits)
    if split not in names:
        raise ValueError(f"{task.name} has no split {split!r}; it has {', '.join(names)}")
    return files.glue_path(task.name, names[split], data_dir, download_missing)


# ----------------------------------------------------------------------------------------------
# Reading a GLUE TSV by hand.  Fields are split on tabs only: quote characters are text
# (MRPC and MNLI have unbalanced quotes that the csv module would swallow).  read_tsv is the
# happy path; the checks it calls follow it, each naming file, line and what was expected.

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
    was expected; with skip_malformed it is skipped and reported, never dropped silently.  A file
    without rows is an error too: every caller reads a split to train, evaluate or predict on.
    extra_columns are returned as lists in a dict beside the Split."""
    task = TASKS[task_key]
    lines = tsv_lines(path)
    header = lines[0].rstrip("\r").split("\t")
    check_header(path, task, header, extra_columns)
    column = {name: header.index(name) for name in header}
    has_label = task.label in column                 # test files have no label column
    label_of = {name: i for i, name in enumerate(task.labels)}
    index_column = column.get("index", column.get("id"))
    # The columns, filled row by row.
    text_a = []
    text_b = []
    labels = []
    index = []
    extra = {name: [] for name in extra_columns}
    skipped = []                                     # line numbers of malformed rows
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r").split("\t")
        problem = row_problem(fields, header, task, has_label, column)
        if problem and not skip_malformed:
            raise malformed_row(path, lineno, problem, task_key)
        if problem:
            skipped.append(lineno)
            continue
        text_a.append(fields[column[task.text_a]].strip())
        if task.text_b:
            text_b.append(fields[column[task.text_b]].strip())
        if has_label:
            labels.append(label_of[fields[column[task.label]].strip()])
        if index_column is not None:
            index.append(fields[index_column])
        else:
            index.append(str(lineno - 2))            # 0 for the first row after the header
        for name in extra_columns:
            extra[name].append(fields[column[name]])
    check_rows(path, text_a, skipped)
    if not task.text_b:
        text_b = None                                # a single-sentence task
    if not has_label:
        labels = None                                # a test split
    split = Split(text_a, text_b, labels, index, path=str(path), skipped=tuple(skipped))
    if extra_columns:
        return split, extra
    return split


def tsv_lines(path):
    """The file's lines as text, without the newline that ends the last one.  A byte that is not
    UTF-8 is an error naming its line (not a silent replacement character); so is a file
    without even a header line."""
    raw = Path(path).read_bytes().removeprefix(b"\xef\xbb\xbf")     # MRPC starts with a BOM
    try:
        lines = raw.decode("utf-8").split("\n")
    except UnicodeDecodeError as error:
        lineno = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        raise GlueFormatError(f"{path}:{lineno}: not UTF-8 text (byte {byte:#04x})") from None
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise GlueFormatError(f"{path}: empty file, expected a header line")
    return lines


def check_header(path, task, header, extra_columns):
    """The header must name the task's text columns and the extra columns asked for."""
    wanted = [task.text_a, task.text_b] if task.text_b else [task.text_a]
    missing = [name for name in wanted + list(extra_columns) if name not in header]
    if missing:
        raise GlueFormatError(f"{path}:1: header lacks column(s) {missing} of {task.name}; "
                              f"expected {wanted} (got {header})")


def row_problem(fields, header, task, has_label, column):
    """What is wrong with a row, in words; None when nothing is."""
    if len(fields) != len(header):
        return (f"expected {len(header)} tab-separated fields ({', '.join(header)}), "
                f"got {len(fields)}")
    if has_label and fields[column[task.label]].strip() not in task.labels:
        return (f"unknown label {fields[column[task.label]]!r} in column {task.label!r}, "
                f"expected one of {list(task.labels)}")
    return None


def malformed_row(path, lineno, problem, task_key):
    """The error for a malformed row.  Only `python data.py` has --skip-malformed, so the message
    names it for every caller."""
    return GlueFormatError(f"{path}:{lineno}: {problem} (`python data.py --task {task_key} "
                           f"--skip-malformed` lists every such row of the task's files)")


def check_rows(path, text_a, skipped):
    """Skipped rows are reported, never dropped silently; no row at all is an error."""
    if skipped:
        shown = ", ".join(map(str, skipped[:20]))
        if len(skipped) > 20:
            shown += " ..."
        print(f"{path}: skipped {len(skipped)} malformed rows (lines {shown})", file=sys.stderr)
    if not text_a:
        but = " but malformed ones" if skipped else ""
        raise GlueFormatError(f"{path}: no rows after the header{but}")


def load_split(task_key, split, data_dir=None, skip_malformed=False, download_missing=True):
    path = split_path(task_key, split, data_dir, download_missing)
    return read_tsv(path, task_key, skip_malformed)


def head(split, limit):
    """The first `limit` rows of a split (all of them for 0): every step's --limit, for quick
    runs."""
    if not limit:
        return split

    def first(column):
        # text_b of a single-sentence task and the label of a test split are None
        if column is None:
            return None
        return column[:limit]
    return Split(first(split.text_a), first(split.text_b), first(split.label), first(split.index),
                 split.path)


# ----------------------------------------------------------------------------------------------
# The student's words.  SST-2 comes tokenized and lower-cased ("it 's a charming ..."); the
# other tasks are raw text, so we split off punctuation and English clitics the way the Penn
# Treebank (and so GloVe's and word2vec's vocabularies) does: "don't." -> do n't .
# [MASK] stays one word: section 3.3 masks words with "[MASK], which corresponds to an unknown
# token in our models and the masked word token in BERT".

MASK = "[MASK]"
_WORD = re.compile(r"""
      \[MASK\]                  # augment.py's mask word, whole
    | n't                       # the negation clitic: "don't" -> do n't
    | '(?:s|re|ve|ll|d|m)\b     # the other clitics: 's 're 've 'll 'd 'm ("it's" -> it 's)
    | \w+(?=n't)                # the word before n't: the "do" of "don't"
    | \w+                       # a word: letters, digits, underscores
    | [^\w\s]                   # any other character but a space: a punctuation mark alone
""", re.VERBOSE)


def tokenize(text, pretokenized=False):
    if pretokenized:
        return [w if w == MASK else w.lower() for w in text.split()]
    return [w if w == MASK else w.lower() for w in _WORD.findall(text)]


def task_tokens(split, task_key):
    """All word lists of a split: one list per text column."""
    pre = TASKS[task_key].pretokenized
    columns = [split.text_a]
    if split.text_b is not None:
        columns.append(split.text_b)
    return [[tokenize(t, pre) for t in column] for column in columns]


# ----------------------------------------------------------------------------------------------
# The student's vocabulary and word vectors.  Section 3.1: "After feeding the input word
# embeddings into the BiLSTM ...": each word becomes an id, and each id a pretrained vector.

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
        # The most frequent words first; ties in alphabetical order, so the ids never depend on
        # the order the sentences came in.
        kept = sorted((w for w, c in counts.items() if c >= min_count),
                      key=lambda w: (-counts[w], w))
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


# A field that looks like a number.  Found just before a line's numbers, it means the line has
# too many numbers, not a word with spaces.
_NUMBER = re.compile(r"[-+]?\.?\d[\d.]*([eE][-+]?\d+)?")


def load_vectors(path, vocab, seed=0, verbose=True):
    """Word vectors for the words of vocab, streamed from a text file ("word v1 ... vd", an
    optional word2vec "count dim" first line).  Words without a vector get U(-0.25, 0.25)
    (Kim 2014, the convention the authors' code follows); [PAD] gets zeros.  Every line holds as
    many numbers as the first (or the header); more fields are a word with spaces (GloVe 840B
    has some) unless the field before the numbers is a number too.  Numbers are parsed for
    vocab's words only.  Returns (matrix float32 [len(vocab), dim], set of words found)."""
    rng = np.random.default_rng(seed)
    matrix = None                # made at the first vector, once the width is known
    found = set()
    dim = None                   # numbers per line, and where that width comes from
    origin = None
    for lineno, line in files.text_lines(path):
        parts = line.rstrip().split(" ")
        if lineno == 1 and len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            dim = int(parts[1])
            origin = "as the word2vec header on line 1 says"
            continue
        if parts == [""]:
            continue                                 # a blank line holds no word
        if dim is None:
            dim = len(parts) - 1
            origin = f"as line {lineno}, the first, has"
            if dim < 1:
                raise ValueError(f"{path}:{lineno}: expected a word and its numbers, "
                                 f"got {line[:50]!r}")
        extra = len(parts) > dim + 1 and _NUMBER.fullmatch(parts[-dim - 1])
        if len(parts) < dim + 1 or extra:
            raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers ({origin}), "
                             f"got {len(parts)} fields: {line[:50]!r}")
        if matrix is None:
            matrix = rng.uniform(low=-0.25, high=0.25, size=(len(vocab), dim)).astype(np.float32)
        word = " ".join(parts[:-dim])
        i = vocab.stoi.get(word)
        if i is None or word in found:               # not our word, or a later copy of one
            continue
        try:
            matrix[i] = np.asarray(parts[-dim:], dtype=np.float32)
        except ValueError as error:
            raise ValueError(f"{path}:{lineno}: a number of {word!r} does not parse: "
                             f"{error}") from None
        files.require_finite(matrix[i], f"{path}:{lineno}: the vector of {word!r}")
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


def task_vocab(task_key, data_dir=None):
    """Every word of the task's files (train, dev and test: words only, never labels), so the
    frozen pretrained vectors also serve words the student never trains on."""
    sentences = []
    for split, _ in TASKS[task_key].splits:
        for column in task_tokens(load_split(task_key, split, data_dir), task_key):
            sentences += column
    return Vocab.build(sentences)


# ----------------------------------------------------------------------------------------------
# The student's batches.  Padding to the longest sentence of a batch wastes little when a batch
# holds sentences of similar length, so we sort by length inside large random pools
# ("buckets"), cut the pools into batches and shuffle the batches: each epoch still sees a new
# order.

class Words:
    """The student's input: many sentences as word ids in one flat array, row i being
    flat[offsets[i]:offsets[i+1]] (hundreds of thousands of augmented sentences as Python lists
    would take gigabytes).  An empty text reads as one unknown word, so every row has a length
    of at least 1."""

    def __init__(self, sentences=(), vocab=None):
        ids = [vocab.encode(words) or [vocab.stoi["[UNK]"]] for words in sentences]
        self.lengths = np.array([len(x) for x in ids], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)
        every_id = (i for x in ids for i in x)
        self.flat = np.fromiter(every_id, dtype=np.int32, count=int(self.offsets[-1]))

    def __add__(self, other):
        both = Words()
        both.lengths = np.concatenate([self.lengths, other.lengths])
        both.offsets = np.concatenate([self.offsets[:-1], other.offsets + self.offsets[-1]])
        both.flat = np.concatenate([self.flat, other.flat])
        return both

    def batch(self, rows):
        """Right-padded ids [len(rows), longest] and the lengths of those rows."""
        ids, _ = pad([self.flat[self.offsets[i]:self.offsets[i + 1]] for i in rows])
        return ids, self.lengths[rows]


def words_of(split, task_key, vocab):
    """One Words column per text column of the split (two for pairs)."""
    return [Words(column, vocab) for column in task_tokens(split, task_key)]


def pad(sequences, value=0):
    """Pad lists of ids to the longest in the batch -> (array [n, longest], mask of real
    tokens)."""
    lengths = np.array([len(s) for s in sequences])
    out = np.full((len(sequences), lengths.max()), value, dtype=np.int64)
    for i, s in enumerate(sequences):
        out[i, :len(s)] = s
    # Position j of row i is a real token when j < lengths[i]: the positions as a row [1, longest]
    # against the lengths as a column [n, 1] broadcast to the mask [n, longest].
    mask = np.arange(lengths.max())[None] < lengths[:, None]
    return out, mask


def length_batches(lengths, batch_size, seed=None, pool=100):
    """Index lists of batch_size.  seed=None: sorted by length, in order (for evaluation).
    Otherwise shuffled deterministically from seed; a pool holds `pool` batches."""
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


# ==============================================================================================
# For the teacher.  Everything above is the student's path; what follows is how BERT reads
# the same text.  The teacher reads the student's words joined by spaces, then splits them
# into WordPiece pieces of its own vocabulary.

def teacher_texts(split, task_key):
    """(text_a, text_b or None) per example, as the teacher reads them: the student's words
    joined by spaces.  Augmented rows are written that way, so originals and augmented rows
    reach the teacher in one surface form ("do n't" in both, never "don't" in one)."""
    columns = [[" ".join(words) for words in column] for column in task_tokens(split, task_key)]
    if len(columns) == 1:
        columns.append([None] * len(split))          # a single sentence has no second text
    return list(zip(columns[0], columns[1]))


# ----------------------------------------------------------------------------------------------
# The teacher's words: BERT's WordPiece tokenizer (Devlin et al. 2019; Wu et al. 2016).
# Two stages: a "basic" split on whitespace and punctuation (after clean-up, lower-casing and
# accent stripping for uncased models), then greedy longest-match-first sub-words, where a
# piece that continues a word is written "##piece".  [MASK] stays one token so that
# augment.py's masked words reach the teacher as its own mask ("the masked word token in BERT",
# section 3.3).
#
# The teacher's special tokens, by the model_type of its config.json.  MPNet (Song et al. 2020)
# keeps BERT's uncased vocabulary and WordPiece but names its special tokens as RoBERTa does and
# puts two separators between a pair's texts ("between"): a pair reads "[CLS] a [SEP] b [SEP]"
# in BERT, "<s> a </s></s> b </s>" in MPNet.
SPECIAL_TOKENS = {
    "bert": {"cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]", "unk": "[UNK]", "mask": "[MASK]",
             "between": 1},
    "mpnet": {"cls": "<s>", "sep": "</s>", "pad": "<pad>", "unk": "[UNK]", "mask": "<mask>",
              "between": 2},
}

# The CJK Unicode blocks: BERT puts spaces around each of their characters, so that every
# character is a word of its own.
_CJK_BLOCKS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
               (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_punct(ch):
    """BERT counts every non-letter, non-digit ASCII sign as punctuation ("$", "^", "`"),
    besides Unicode's punctuation classes."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in _CJK_BLOCKS)


def _clean(text):
    """Drop NUL, the replacement character and control and format characters; every kind of
    space becomes a plain space; CJK characters get spaces around them."""
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
    """BERT's tokenizer (and MPNet's, model_type="mpnet"): text to WordPiece pieces and their
    ids in a checkpoint's vocab.txt."""

    def __init__(self, vocab_path, lowercase=True, max_word_chars=100, model_type="bert"):
        if model_type not in SPECIAL_TOKENS:
            raise ValueError(f"model_type {model_type!r}: expected one of {sorted(SPECIAL_TOKENS)}")
        self.path = vocab_path
        lines = Path(vocab_path).read_text(encoding="utf-8").split("\n")
        # One piece per line, its line number its id.  Blank lines (the one after the last
        # newline) hold no piece, unless it is the first line.
        self.vocab = {}
        for i, line in enumerate(lines):
            piece = line.rstrip("\r")
            if piece or i == 0:
                self.vocab[piece] = i
        self.lowercase = lowercase
        self.max_word_chars = max_word_chars
        special = SPECIAL_TOKENS[model_type]
        self.cls = self.vocab[special["cls"]]
        self.sep = self.vocab[special["sep"]]
        self.pad = self.vocab[special["pad"]]
        self.mask = special["mask"]
        self.between = special["between"]          # separators between a pair's texts
        # Special tokens typed in a text stay whole: the teacher's own, and augment.py's mask.
        self.special = {special[k] for k in ("cls", "sep", "pad", "unk", "mask")}
        alternatives = "|".join(re.escape(t) for t in sorted(self.special | {MASK}))
        self.special_split = re.compile(f"({alternatives})")

    def basic_split(self, text):
        """Words and punctuation marks: split at spaces, then each punctuation mark alone."""
        words = []
        for word in _clean(text).split():
            if self.lowercase:
                # Uncased BERT also strips accents: "é" is "e" + a combining mark (Mn), dropped.
                word = "".join(c for c in unicodedata.normalize("NFD", word.lower())
                               if unicodedata.category(c) != "Mn")
            piece = ""
            for ch in word:
                if _is_punct(ch):
                    if piece:
                        words.append(piece)
                    words.append(ch)
                    piece = ""
                else:
                    piece += ch
            if piece:
                words.append(piece)
        return words

    def word_pieces(self, word):
        """Longest-match pieces, "##" on continuations; ["[UNK]"] when a part fits none or the
        word is too long."""
        # BEGIN EXERCISE 1: split a word into WordPiece pieces, longest first, '##' on continuations
        if len(word) > self.max_word_chars:
            return ["[UNK]"]
        pieces = []
        start = 0
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
        """The WordPiece pieces of a text; [MASK] and the teacher's special tokens stay whole."""
        tokens = []
        for chunk in self.special_split.split(text):
            if chunk == MASK and self.mask in self.vocab:
                tokens.append(self.mask)             # augment.py's mask: the teacher's mask token
            elif chunk in self.special and chunk in self.vocab:
                tokens.append(chunk)
            else:
                for word in self.basic_split(chunk):
                    tokens += self.word_pieces(word)
        return tokens

    def ids(self, text):
        """The vocabulary ids of the text's WordPiece pieces."""
        return [self.vocab[t] for t in self.tokenize(text)]

    def encode(self, text_a, text_b=None, max_len=128):
        """[CLS] a [SEP] (b [SEP]) -> (ids, token_type_ids), cut to max_len by removing the last
        piece of the longer side first ("longest first").  MPNet: <s> a </s> (</s> b </s>)."""
        a = self.ids(text_a)
        b = self.ids(text_b) if text_b is not None else []
        specials = 2 + (self.between if text_b is not None else 0)   # [CLS] a [SEP] (b [SEP])
        budget = max_len - specials
        while len(a) + len(b) > budget:
            if len(a) > len(b):
                a.pop()
            else:
                b.pop()
        ids = [self.cls] + a + [self.sep]
        types = [0] * len(ids)                       # segment A
        if text_b is not None:
            second = [self.sep] * (self.between - 1) + b + [self.sep]
            ids += second
            types += [1] * len(second)               # segment B (MPNet has no segments)
        return ids, types


def bert_inputs(wordpiece, pairs, max_len):
    """A teacher's batch: ids, token types and the mask of real tokens, padded."""
    encoded = [wordpiece.encode(a, b, max_len) for a, b in pairs]
    ids, mask = pad([e[0] for e in encoded])
    types, _ = pad([e[1] for e in encoded])
    return ids, types, mask


def rough_lengths(pairs):
    """Words per example: a cheap stand-in for WordPiece lengths when sorting into batches."""
    return [a.count(" ") + (b.count(" ") + 1 if b is not None else 0) for a, b in pairs]


# ----------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--data-dir", default=None, help="folder with glue/, vectors/, nltk_data/")
    p.add_argument("--vectors", default=None, help="word-vector file (default: GloVe 6B 50d)")
    p.add_argument("--skip-malformed", action="store_true", help="skip and report bad rows")
    args = p.parse_args(argv)
    task = TASKS[args.task]
    print(f"{task.name} in {files.find_data_dir(args.data_dir) / 'glue' / task.name}")
    splits = {}
    for name, _ in task.splits:
        splits[name] = load_split(args.task, name, args.data_dir, args.skip_malformed)
    for name, split in splits.items():
        line = f"{name} {len(split)}"
        if split.label is not None:                  # the label balance; test splits have none
            counts = np.bincount(split.label, minlength=len(task.labels))
            for label, count in zip(task.labels, counts):
                line += f", {label} {count} ({100 * count / len(split):.1f}%)"
        print(line)
    train_words = task_tokens(splits["train"], args.task)
    lengths = [len(w) for column in train_words for w in column]
    print("train words per sentence: " + ", ".join(
        f"p{q} {np.percentile(lengths, q):.0f}" for q in (50, 90, 95, 99, 100)))
    vocab = task_vocab(args.task, args.data_dir)          # the student's: train, dev and test
    print(f"vocabulary (train, dev and test): {len(vocab):,} words")
    vectors = args.vectors or files.vectors_path(args.data_dir)
    load_vectors(vectors, vocab)                          # prints its coverage


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, ValueError) as error:     # our messages name the file: no traceback
        sys.exit(f"error: {error}")
