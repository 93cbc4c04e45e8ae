"""augment.py -- chapter 3: new sentences for the teacher to label.

Tang et al. (2019), section 3.3 "Data Augmentation for Distillation": a small training set
shows the student only a few of the teacher's judgements.  Distillation needs no gold labels,
because BERT labels whatever we show it, so we make many new, plausible-looking inputs from the
training sentences with three rules -- masking, POS-guided word replacement, n-gram sampling --
and let the teacher label them later.  This file writes only the new samples; the original
train split is added back by the distillation step.

    python augment.py --task sst2      # -> runs/sst2/augmented.tsv, tags cached beside it

The POS tagger's files are read from $NLTK_DATA, else from <DATA_DIR>/nltk_data.

The output is a TSV in the task's own column layout plus `source_row`, the 0-based row of the
train example a sample came from, so data.read_tsv(path, task, extra_columns=("source_row",))
reads it.  Its label column is the *source's* gold label, kept for reference only: a masked
or cut sentence need not keep it, which is why the teacher labels these samples.
"""
import argparse
import sys
import time
from pathlib import Path

import nltk
import numpy as np

import data
from machinery import augment_files
from machinery import files
from machinery import flags

NG_MAX = 5   # 3.3, n-gram sampling: n is drawn uniformly from {1, ..., 5}
TAGGER_FILES = ("taggers/averaged_perceptron_tagger_eng/", "taggers/universal_tagset/en-ptb.map")


# ----------------------------------------------------------------------------------------------
# POS tags.  POS-guided replacement (3.3) swaps a word for one of the same part of speech, so
# every training word needs a tag.  We use nltk's averaged perceptron tagger, mapped from its
# Penn Treebank tags to the 12 universal tags (NOUN, VERB, ADJ, ...): coarse classes give
# each tag a large pool of words to draw from.

def load_tagger(data_dir=None):
    """A function words -> universal tags.  The tagger's files are found by files.nltk_data,
    never downloaded (nltk.download would hang on a machine without internet)."""
    files.nltk_data(data_dir, TAGGER_FILES)
    tagger = nltk.tag.PerceptronTagger()
    to_universal = nltk.tag.mapping.map_tag
    return lambda words: [to_universal("en-ptb", "universal", t) for _, t in tagger.tag(words)]


def tag_split(columns, tag, source, cache):
    """Tags of every sentence of every text column, each sentence tagged whole (the tagger
    reads a word's neighbours).  Tagging costs more than augmenting, so the tags are kept in
    the file `cache` while `source` and its words stay the same."""
    def tag_all():
        bar = files.Progress(len(columns[0]) * len(columns), "tagging", "sentences")
        tagged = []
        for column in columns:
            tagged.append([])
            for words in column:
                tagged[-1].append(tag(words))
                bar.update()
        bar.close()
        return tagged
    return augment_files.cached_tags(cache, source, columns, tag_all)


def build_lexicon(columns, tags):
    """tag -> (words, cumulative counts): the training set's unigram distribution of each tag.
    3.3 samples the new word from the unigram distribution renormalized within its POS tag,
    which keeps frequent words frequent in the augmented set."""
    counts = {}
    for column_words, column_tags in zip(columns, tags):
        for words, word_tags in zip(column_words, column_tags):
            for word, t in zip(words, word_tags):
                counts.setdefault(t, {})
                counts[t][word] = counts[t].get(word, 0) + 1
    # Cumulative counts, so that one uniform draw picks a word in proportion to its count
    # (np.searchsorted in augment_sentence).
    return {t: (list(c), np.cumsum(list(c.values()))) for t, c in counts.items()}


# ----------------------------------------------------------------------------------------------
# The rules (3.3): "given a training example {w_1, ... w_n}, we iterate over the words, drawing
# from the uniform distribution X_i ~ UNIFORM[0, 1] for each w_i.  If X_i < p_mask, we apply
# masking to w_i.  If p_mask <= X_i < p_mask + p_pos, we apply POS-guided word replacement.  We
# treat masking and POS-guided swapping as mutually exclusive ... After iterating through the
# words, with probability p_ng, we apply n-gram sampling to this entire synthetic example."

def augment_sentence(words, tags, rng, lexicon, p_mask=0.1, p_pos=0.1, p_ng=0.25, ng_max=NG_MAX):
    """A new word list: each word masked (p_mask) or replaced within its tag (p_pos); then
    maybe an n-gram (p_ng)."""
    # BEGIN EXERCISE 5: mask or replace words, then maybe keep only an n-gram
    x = rng.random(len(words))
    out = list(words)
    for i in np.flatnonzero(x < p_mask + p_pos):
        if x[i] < p_mask:
            # Masking: "With probability p_mask, we randomly replace a word with [MASK], which
            # corresponds to an unknown token in our models and the masked word token in BERT."
            # The teacher's output with a word hidden tells the student how much it mattered.
            out[i] = data.MASK
        else:
            # POS-guided word replacement: "With probability p_pos, we replace a word with
            # another of the same POS tag.  To preserve the original training distribution, the
            # new word is sampled from the unigram word distribution re-normalized by the
            # part-of-speech (POS) tag."  Drawn from the whole distribution of the tag, so it may
            # draw the word itself (as the authors' code does); such a sample may then equal its
            # original and is dropped with the duplicates.
            pool, cumulative = lexicon[tags[i]]
            out[i] = pool[np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")]
    if rng.random() < p_ng:
        # n-gram sampling: "With probability p_ng, we randomly sample an n-gram from the
        # example, where n is randomly selected from {1, 2, ..., 5}."  A sentence of at most n
        # words stays whole.
        n = min(int(rng.integers(1, ng_max + 1)), len(out))
        start = int(rng.integers(0, len(out) - n + 1))
        out = out[start:start + n]
    return out
    # END EXERCISE 5


def swap_two(words, rng, p_swap):
    """Not in the paper: with probability p_swap two random words trade places (the seed
    replication's rule, which did not help there; off by default; docs/differences.md)."""
    if len(words) > 1 and rng.random() < p_swap:
        i, j = rng.choice(len(words), size=2, replace=False)
        words[i], words[j] = words[j], words[i]
    return words


def sides_to_change(rng, n_sides, pair_mode="mixed"):
    """Which texts of an example to augment.  3.3: "For sentence-pair datasets, we cycle through
    augmenting the first sentence only (holding the second fixed), the second sentence only
    (holding the first fixed), and both sentences."  Our default, "mixed", follows the authors'
    released code instead and draws the choice for every try: one side with probability 2/3
    (either equally), both otherwise.  "first", "second" and "both" fix one of the three."""
    if n_sides == 1:
        return (True,)
    if pair_mode == "mixed":
        if rng.random() < 2 / 3:
            first = bool(rng.random() < 0.5)
            return (first, not first)
        return (True, True)
    return {"first": (True, False), "second": (False, True), "both": (True, True)}[pair_mode]


def augment_split(columns, tags, lexicon, rng, n_iter, p_mask=0.1, p_pos=0.1, p_ng=0.25,
                  pair_mode="mixed", p_swap=0.0, progress=None):
    """Yield (source_row, texts) for each new sample.  3.3: "We apply this procedure n_iter
    times per example to generate up to n_iter samples from a single example, with any
    duplicates discarded": a try is kept only when it differs from every original and every
    earlier sample of the whole set."""
    originals = [tuple(" ".join(words) for words in example) for example in zip(*columns)]
    seen = set(originals)
    for row, example in enumerate(zip(*columns)):
        example_tags = [column[row] for column in tags]
        for _ in range(n_iter):
            change = sides_to_change(rng, len(columns), pair_mode)
            sample = []
            # One text per side: a changed side is augmented, a side held fixed stays the original.
            sides = zip(example, example_tags, change, originals[row])
            for words, word_tags, changed, text in sides:
                if changed:
                    new = augment_sentence(words, word_tags, rng, lexicon, p_mask, p_pos, p_ng)
                    if p_swap:                   # not in the paper; off by default
                        new = swap_two(new, rng, p_swap)
                    text = " ".join(new)
                sample.append(text)
            sample = tuple(sample)
            if sample not in seen:
                seen.add(sample)
                yield row, sample
        if progress:
            progress.update()


# ----------------------------------------------------------------------------------------------
# The command: the train split in, the new samples out, in the task's own layout.

def write_augmented(args, made):
    """The task's train split -> args.out: the new samples in the task's layout, plus a JSON
    summary (settings, counts, seconds, provenance) beside it."""
    task = data.TASKS[args.task]
    out = Path(args.out)
    started = time.time()
    source = data.split_path(args.task, "train", args.data_dir)
    train = data.head(data.read_tsv(source, args.task), args.limit)
    columns = data.task_tokens(train, args.task)
    tagger = load_tagger(args.data_dir)
    tags = tag_split(columns, tagger, source, cache=out.with_name("pos_tags.json"))
    lexicon = build_lexicon(columns, tags)
    tagged = time.time()
    rng = np.random.default_rng(args.seed)
    header = [task.text_a]
    if task.text_b:
        header.append(task.text_b)
    header += [task.label, "source_row"]
    bar = files.Progress(len(train), "augmenting", "examples")
    samples = augment_split(columns, tags, lexicon, rng, args.n_iter, p_mask=args.p_mask,
                            p_pos=args.p_pos, p_ng=args.p_ng, pair_mode=args.pair_mode,
                            p_swap=args.p_swap, progress=bar)
    written = 0
    with files.atomic(out) as part, open(part, "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        for row, texts in samples:
            # The source's gold label, for reference only: the teacher labels the sample.
            label = task.labels[train.label[row]]
            f.write("\t".join(texts + (label, str(row))) + "\n")
            written += 1
    bar.close()
    augment_files.write_summary(out, args, made, source, originals=len(train), written=written,
                                started=started, tagged=tagged)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=sorted(data.TASKS))
    p.add_argument("--data-dir", default=None, help="folder with glue/ and nltk_data/")
    p.add_argument("--out", default=None, help="default: runs/<task>/augmented.tsv")
    p.add_argument("--n-iter", type=flags.positive_int, default=None,
                   help="tries per example (paper: 20 for SST-2, 10 for the pair tasks)")
    p.add_argument("--p-mask", type=flags.probability, default=0.1)
    p.add_argument("--p-pos", type=flags.probability, default=0.1)
    p.add_argument("--p-ng", type=flags.probability, default=0.25)
    p.add_argument("--pair-mode", default="mixed", choices=("first", "second", "both", "mixed"),
                   help="which side of a pair to change (paper: cycle first, second, both; "
                        "mixed: drawn per try, as the authors' code)")
    p.add_argument("--p-swap", type=flags.probability, default=0.0,
                   help="not in the paper; off by default")
    p.add_argument("--seed", type=flags.natural, default=0)
    p.add_argument("--limit", type=flags.natural, default=0,
                   help="only the first N train rows (tags and word pools too), for quick demos "
                        "(0: all)")
    p.add_argument("--force", action="store_true",
                   help="make it again even when it is up to date")
    args = p.parse_args(argv)
    if args.n_iter is None:
        # The paper's n_iter: 20 for SST-2, 10 for the sentence-pair tasks.
        args.n_iter = 20 if data.TASKS[args.task].text_b is None else 10
    if not args.out:
        args.out = str(Path("runs") / args.task / "augmented.tsv")
    files.start(args)
    files.lock(args.out)    # one writer per output: a second run on it stops here, naming the first
    try:
        train = data.split_path(args.task, "train", args.data_dir)
        made = files.manifest(args, {"train": train}, ignore=["force"], code=__file__)
        out = Path(args.out)
        summary = out.with_name(out.stem + ".json")
        if out.exists() and files.finished(summary, made, out) and not args.force:
            print(f"{out} is made from these settings and inputs: nothing to do")
            return
        files.retire(summary)
        write_augmented(args, made)
    except (FileNotFoundError, ValueError) as error:     # our messages name the file: no traceback
        sys.exit(f"augment.py: {error}")


if __name__ == "__main__":
    main()
