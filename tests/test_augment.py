"""Tests of augment.py: the rules of section 3.3 measured over many words, the pair modes,
deduplication, determinism, the tag cache, the missing-tagger error, and small real runs."""
import json
import os
import time

import nltk
import numpy as np
import pytest

import augment
import data

# A synthetic corpus whose replacement pools share no word with the sentences, so "changed
# and not [MASK]" is exactly "replaced" (a real pool may draw the original word back).
POOLS = {"NOUN": ["n1", "n2", "n2", "n2"], "VERB": ["v1", "v2"]}   # n2 is 3x as frequent as n1
LEXICON = augment.build_lexicon([[words for words in POOLS.values()]],
                                [[[tag] * len(words) for tag, words in POOLS.items()]])
TAG_OF = {w: tag for tag, words in POOLS.items() for w in words}


def sentence(n, prefix="w"):
    return [f"{prefix}{i}" for i in range(n)], ["NOUN" if i % 2 else "VERB" for i in range(n)]


# Each graded test calls the student's code only inside produce(...) (tests/conftest.py): the
# statistics and expected values are computed after it, from the words it returned, so that the
# grader can check the outputs outside the sandbox the student's code ran in.

def test_mask_and_replacement_rates_and_tags(produce):
    rng = np.random.default_rng(0)
    words, tags = sentence(50)
    outs = produce(lambda: [augment.augment_sentence(words, tags, rng, LEXICON, p_ng=0)
                            for _ in range(1000)])           # 50,000 words
    assert len(outs) == 1000
    masked = replaced = total = 0
    drawn = []
    for out in outs:
        assert len(out) == len(words)
        for old, new, tag in zip(words, out, tags):
            total += 1
            if new == data.MASK:
                masked += 1
            elif new != old:
                replaced += 1
                assert TAG_OF[new] == tag                   # the POS tag is kept
                drawn.append(new)
    # binomial sd at p = 0.1, n = 50,000 is 0.0013: 0.006 is over 4 sd
    assert abs(masked / total - 0.1) < 0.006
    assert abs(replaced / total - 0.1) < 0.006
    nouns = [w for w in drawn if TAG_OF[w] == "NOUN"]
    assert abs(nouns.count("n2") / len(nouns) - 0.75) < 0.03   # unigram counts, not uniform


def test_replacements_keep_tags_on_real_data(shared_data, produce):
    split = data.load_split("sst2", "train", shared_data, download_missing=False)
    columns = [[data.tokenize(t, True) for t in split.text_a[:500]]]
    tag = augment.load_tagger(shared_data)
    tags = [[tag(words) for words in columns[0]]]
    lexicon = augment.build_lexicon(columns, tags)
    rng = np.random.default_rng(0)
    outs = produce(lambda: [augment.augment_sentence(words, word_tags, rng, lexicon, p_mask=0, p_pos=0.5, p_ng=0)
                            for words, word_tags in zip(columns[0], tags[0])])
    assert len(outs) == len(columns[0])
    tags_of = {}
    for t, (words, _) in lexicon.items():
        for w in words:
            tags_of.setdefault(w, set()).add(t)
    changed = same = 0
    for words, word_tags, out in zip(columns[0], tags[0], outs):
        for old, new, t in zip(words, out, word_tags):
            assert t in tags_of[new]
            changed += new != old
            same += new == old
    assert changed > 0.4 * (changed + same)    # 0.5 minus the draws of the word itself


def test_ngram_lengths_uniform_and_contiguous(produce):
    rng = np.random.default_rng(1)
    words, tags = sentence(30)
    short, short_tags = sentence(3)

    def outputs():
        ngrams = [augment.augment_sentence(words, tags, rng, LEXICON, p_mask=0, p_pos=0, p_ng=1)
                  for _ in range(5000)]
        shorts = [augment.augment_sentence(short, short_tags, rng, LEXICON, p_mask=0, p_pos=0, p_ng=1)
                  for _ in range(200)]
        defaults = [augment.augment_sentence(words, tags, rng, LEXICON, p_mask=0, p_pos=0)
                    for _ in range(4000)]
        return {"ngrams": ngrams, "short": shorts, "default": defaults}
    got = produce(outputs)
    assert [len(got[k]) for k in ("ngrams", "short", "default")] == [5000, 200, 4000]
    lengths = []
    for out in got["ngrams"]:
        start = words.index(out[0])
        assert out == words[start:start + len(out)]
        lengths.append(len(out))
    counts = np.bincount(lengths, minlength=6)
    assert counts[0] == 0 and counts.sum() == counts[1:6].sum()
    assert np.all(np.abs(counts[1:6] / 5000 - 0.2) < 0.03)   # sd 0.006
    for out in got["short"]:                                  # n > 3 keeps the whole sentence
        assert 1 <= len(out) <= 3 and " ".join(out) in " ".join(short)
    cut = sum(len(out) < 30 for out in got["default"])
    assert abs(cut / 4000 - 0.25) < 0.03


def test_swap_is_off_by_default_and_swaps_when_asked():
    rng = np.random.default_rng(2)
    words, tags = sentence(10)
    plain = [augment.augment_sentence(words, tags, rng, LEXICON, p_mask=0, p_pos=0, p_ng=0)
             for _ in range(100)]
    assert all(out == words for out in plain)
    out = augment.swap_two(list(words), rng, p_swap=1)
    assert sorted(out) == sorted(words)
    assert sum(a != b for a, b in zip(out, words)) == 2


def corpus(n, length, prefix="w"):
    columns = [[sentence(length, f"{prefix}{r}_")[0] for r in range(n)]]
    tags = [[sentence(length)[1] for _ in range(n)]]
    return columns, tags


def test_no_duplicates_and_none_equal_to_an_original(produce):
    # short sentences from a tiny vocabulary, with repeated originals: many tries collide
    rng = np.random.default_rng(3)
    columns = [[["w1", "w2", "w3"], ["w2", "w1", "w3"], ["w1", "w2", "w3"], ["w3"], ["n1", "v1"]] * 10]
    tags = [[["NOUN", "VERB", "NOUN"], ["VERB", "NOUN", "NOUN"], ["NOUN", "VERB", "NOUN"],
             ["NOUN"], ["NOUN", "VERB"]] * 10]
    samples = produce(lambda: list(augment.augment_split(columns, tags, LEXICON, rng, n_iter=20)))
    texts = [tuple(texts) for _, texts in samples]          # a tuple comes back as a list
    originals = {(" ".join(w),) for w in columns[0]}
    assert len(set(texts)) == len(texts)
    assert not originals & set(texts)
    assert 0 < len(texts) < 50 * 20


@pytest.mark.parametrize("mode", ["first", "second", "both", "mixed"])
def test_pair_modes_change_the_right_sides(mode, produce):
    a, tags = corpus(3000, 30, "a")
    b, _ = corpus(3000, 30, "b")
    rng = np.random.default_rng(4)
    # p_mask = 0.5 leaves a 30-word side it touches unchanged with probability 1e-9, so a side is
    # unchanged iff it was held fixed (p_mask = 1 would make all "both" samples one duplicate)
    samples = produce(lambda: list(augment.augment_split(a + b, tags + tags, LEXICON, rng, n_iter=1, p_mask=0.5,
                                                         p_pos=0, p_ng=0, pair_mode=mode)))
    assert len(samples) == 3000
    kinds = {"first": 0, "second": 0, "both": 0}
    for row, (text_a, text_b) in samples:
        changed = (text_a != " ".join(a[0][row]), text_b != " ".join(b[0][row]))
        kinds[{(True, False): "first", (False, True): "second", (True, True): "both"}[changed]] += 1
    if mode == "mixed":                    # sd of each fraction is 0.009
        assert all(abs(k / 3000 - 1 / 3) < 0.04 for k in kinds.values()), kinds
    else:
        assert kinds[mode] == 3000


def run(shared_data, *args):
    augment.main(["--data-dir", str(shared_data), *args])


def text_of(path):
    """A file's exact contents, as a producer returns them."""
    return path.read_bytes().decode("utf-8")


def read_back(text, path, task):
    """data.read_tsv of a file's contents, written again at path for the check."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return data.read_tsv(path, task, extra_columns=("source_row",))


def test_real_sst2_reads_back_and_is_deterministic(shared_data, tmp_path, capsys, produce):
    out = tmp_path / "a.tsv"

    def outputs():
        run(shared_data, "--task", "sst2", "--limit", "300", "--out", str(out))
        got = {"a": text_of(out), "report": (tmp_path / "a.json").read_text(),
               "parts": [p.name for p in tmp_path.glob("*.part")],
               "tags_cached": (tmp_path / "pos_tags.json").exists()}
        run(shared_data, "--task", "sst2", "--limit", "300", "--out", str(tmp_path / "b.tsv"))
        run(shared_data, "--task", "sst2", "--limit", "300", "--seed", "1",
            "--out", str(tmp_path / "c.tsv"))
        got["b"] = text_of(tmp_path / "b.tsv")
        got["c"] = text_of(tmp_path / "c.tsv")
        capsys.readouterr()
        before = out.stat().st_mtime_ns
        run(shared_data, "--task", "sst2", "--limit", "300", "--out", str(out))  # up to date: untouched
        got["untouched"] = [capsys.readouterr().out, before, out.stat().st_mtime_ns]
        run(shared_data, "--task", "sst2", "--limit", "300", "--seed", "1", "--out", str(out))
        got["remade"] = [capsys.readouterr().err, text_of(out)]
        return got
    got = produce(outputs)
    split, extra = read_back(got["a"], tmp_path / "read_back" / "a.tsv", "sst2")
    train = data.load_split("sst2", "train", shared_data, download_missing=False)
    rows = [int(r) for r in extra["source_row"]]
    assert got["a"].startswith("sentence\tlabel\tsource_row\n")
    assert 300 * 8 < len(split) < 300 * 20 and set(rows) <= set(range(300))
    assert split.label == [train.label[r] for r in rows]
    originals = {" ".join(data.tokenize(t, True)) for t in train.text_a[:300]}
    assert len(set(split.text_a)) == len(split) and not originals & set(split.text_a)
    report = json.loads(got["report"])
    assert report["written"] == len(split) and report["originals"] == 300
    assert report["written"] + report["dropped"] == 300 * 20
    assert not got["parts"] and got["tags_cached"]

    assert got["b"] == got["a"]                                               # same seed, same file
    assert got["c"] != got["a"]
    stdout, before, after = got["untouched"]
    assert "nothing to do" in stdout and after == before
    err, remade = got["remade"]
    assert "seed: 0 -> 1" in err                                               # said, then made again
    assert remade == got["c"]


def test_real_mrpc_pairs_read_back(shared_data, tmp_path, produce):
    out = tmp_path / "mrpc.tsv"

    def outputs():
        run(shared_data, "--task", "mrpc", "--limit", "100", "--out", str(out))
        return text_of(out)
    split, extra = read_back(produce(outputs), tmp_path / "read_back" / "mrpc.tsv", "mrpc")
    assert 100 * 8 <= len(split) <= 100 * 10
    # texts are written as words joined by spaces: the student's tokenizer gives them back
    for text in split.text_a + split.text_b:
        assert " ".join(data.tokenize(text)) == text


def test_tag_cache_is_used_and_invalidated(tmp_path):
    source = tmp_path / "train.tsv"
    source.write_text("sentence\tlabel\nthe cat sat\t1\n")
    columns = [[["the", "cat", "sat"], ["a", "dog"]]]
    calls = []

    def tag(words):
        calls.append(words)
        return ["X"] * len(words)
    cache = tmp_path / "pos_tags.json"
    first = augment.tag_split(columns, tag, source, cache)
    assert augment.tag_split(columns, tag, source, cache) == first and len(calls) == 2
    source.write_text("sentence\tlabel\nthe cat sat\t0\n")     # the file changed: tag again
    augment.tag_split(columns, tag, source, cache)
    assert len(calls) == 4


def test_missing_tagger_names_nltk_data(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    t0 = time.time()
    with pytest.raises(data.MissingDataError, match="NLTK_DATA") as error:
        augment.load_tagger(tmp_path)
    assert "averaged_perceptron_tagger_eng" in str(error.value)
    assert "universal_tagset" in str(error.value)
    assert time.time() - t0 < 5                               # no download attempted
