"""tools/errors.py -- what kind of sentence the student gets wrong, and what the teacher taught.

Tang et al. close with an error analysis: they read the student's mistakes and sorted them into
kinds (SST-2: words of one polarity twisted by their context into the other; MRPC and QQP: large
word overlap between sentences that are not paraphrases, and synonyms between ones that are; RTE
and MNLI: overlap, and missing world knowledge; every task: doubtful labels).  Here each kind is
a short rule anyone can read and check (RULES below), applied to every dev example:

    python -m tools.errors --task sst2 --runs runs --out results    # make <task> runs it

For each task it writes results/<task>/errors.md (the tables, the rules' definitions, examples)
and errors.json (the numbers).  Each rule's count among the student's errors stands beside its
rate among all dev examples, so that a kind over-represented among the mistakes stands out from
one that is merely common.  Then the baseline's errors that the student fixed and the student's
new ones, by the same rules: what distillation helps with (averaged over the seeds where
`make seeds` ran).  The students' predictions are made here, from the run's saved models;
the teacher's are those its record keeps.
"""
import argparse
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

import data
import distill
from machinery import files
from machinery import flags
from tools import report

# ----------------------------------------------------------------------------------------------
# The rules.  Each takes one dev example (its words, raw texts and gold label) and the task's
# context (the polarity of words measured on its own train split, the words that have a vector,
# the long-sentence threshold, the pair rules' thresholds measured on the train pairs), and says
# whether the example is of its kind.  A definition names the context's thresholds in braces.

NEGATIONS = {"not", "n't", "no", "never", "nothing", "none", "nobody", "neither", "nor", "nowhere",
             "without", "cannot"}
CONTRASTS = {"but", "though", "although", "yet", "however", "despite", "nevertheless", "whereas",
             "while"}
POLAR = 1.0          # |log-odds| of a polar word: e^1, about 2.7 times likelier under one label
POLAR_COUNT = 5      # train sentences a word must appear in for its polarity to count
# The pair rules' thresholds are the task's own: "high" overlap is the top quarter of its train
# pairs, "low" the bottom quarter (an RTE premise is long, so its pairs overlap little; MRPC's
# sentences share most words), and a large length ratio the top quarter.
QUARTER = 25

# The label a pair task calls positive (a paraphrase, a duplicate, an entailment).
POSITIVE = {"mrpc": "1", "qqp": "1", "rte": "entailment", "mnli": "entailment"}


def overlap(example):
    a, b = set(example["words_a"]), set(example["words_b"])
    return len(a & b) / max(1, len(a | b))


def length_ratio(example):
    """The longer sentence's words over the shorter's."""
    a, b = len(example["words_a"]), len(example["words_b"])
    return max(a, b) / max(1, min(a, b))


def numbers(text):
    """The words of a text with a digit in them."""
    return {w for w in re.findall(r"\w+", text) if any(c.isdigit() for c in w)}


def names(text):
    """The capitalised words of a text but its first (which every sentence capitalises)."""
    words = re.findall(r"\w+", text)
    return {w for i, w in enumerate(words) if i > 0 and w[0].isupper()}


def polar_words(example, context):
    """(positive, negative): the example's words whose train log-odds mark a label."""
    polarity = context["polarity"]
    words = example["words_a"] + example["words_b"]
    return ({w for w in words if polarity.get(w, 0) >= POLAR},
            {w for w in words if polarity.get(w, 0) <= -POLAR})


SINGLE = {
    "negation": (f"a negation word ({', '.join(sorted(NEGATIONS))})",
                 lambda e, c: bool(NEGATIONS & set(e["words_a"]))),
    "contrast": (f"a contrast word ({', '.join(sorted(CONTRASTS))})",
                 lambda e, c: bool(CONTRASTS & set(e["words_a"]))),
    "both polarities": (f"words of both polarities: log-odds between the labels >= {POLAR:g} and "
                        f"<= -{POLAR:g}, measured on the train split (words in >= {POLAR_COUNT} "
                        f"sentences)",
                        lambda e, c: all(polar_words(e, c))),
    "long": ("more than {long:g} words: longer than 3 in 4 dev sentences",
             lambda e, c: len(e["words_a"]) > c["long"]),
    "words without a vector": ("a word with no pretrained vector (the student's embedding of it "
                               "starts random)",
                               lambda e, c: any(w not in c["vectors"] for w in e["words_a"])),
}
PAIRS = {
    "high overlap, negative gold": ("word overlap (Jaccard) >= {high_overlap:.2f}, the top quarter "
                                    "of the train pairs; gold label not the positive one",
                                    lambda e, c: overlap(e) >= c["high_overlap"]
                                    and not e["positive"]),
    "low overlap, positive gold": ("word overlap (Jaccard) <= {low_overlap:.2f}, the bottom "
                                   "quarter of the train pairs; gold label the positive one",
                                   lambda e, c: overlap(e) <= c["low_overlap"] and e["positive"]),
    "numbers differ": ("a number in one sentence, not in the other",
                       lambda e, c: numbers(e["text_a"]) != numbers(e["text_b"])),
    "a new name in the second": ("a capitalised name in the second sentence that the first "
                                 "lacks",
                                 lambda e, c: bool(names(e["text_b"]) - names(e["text_a"]))),
    "length ratio": ("one sentence has >= {ratio:.2f} times the other's words, the top quarter "
                     "of the train pairs",
                     lambda e, c: length_ratio(e) >= c["ratio"]),
}
TEACHER = {
    "teacher wrong too": ("the teacher misses it as well: a hard example, or a doubtful label",
                          lambda e, c: e["teacher"] != e["gold"]),
    "teacher right": ("the teacher gets it right: what the student did not learn from it",
                      lambda e, c: e["teacher"] == e["gold"]),
}


def rules_for(task_key):
    """{name: (definition, rule)} of a task: the pair rules or the single-sentence ones."""
    shape = SINGLE if data.TASKS[task_key].text_b is None else PAIRS
    return {**shape, **TEACHER}


# ----------------------------------------------------------------------------------------------
# The context of a task: measured on its own files, so that no lexicon needs installing.

def polarity(train, task_key):
    """{word: log-odds of the positive label} over the train sentences that contain it (add-one
    smoothed, less the labels' own log-odds), for words in >= POLAR_COUNT sentences; {} unless
    the task has two labels and single sentences."""
    task = data.TASKS[task_key]
    if task.text_b is not None or len(task.labels) != 2:
        return {}
    counts = [Counter(), Counter()]
    for words, label in zip(data.task_tokens(train, task_key)[0], train.label):
        counts[label].update(set(words))
    prior = math.log((train.label.count(1) + 1) / (train.label.count(0) + 1))
    words = counts[0].keys() | counts[1].keys()
    seen = [w for w in words if counts[0][w] + counts[1][w] >= POLAR_COUNT]
    return {w: math.log((counts[1][w] + 1) / (counts[0][w] + 1)) - prior for w in seen}


def pair_thresholds(train, task_key):
    """The pair rules' thresholds, from the task's train pairs: the lower and upper quartiles
    of the overlap, the upper quartile of the length ratio; {} for single sentences."""
    if data.TASKS[task_key].text_b is None:
        return {}
    columns = data.task_tokens(train, task_key)
    pairs = [{"words_a": a, "words_b": b} for a, b in zip(columns[0], columns[1])]
    overlaps = [overlap(e) for e in pairs]
    return {"low_overlap": float(np.percentile(overlaps, QUARTER)),
            "high_overlap": float(np.percentile(overlaps, 100 - QUARTER)),
            "ratio": float(np.percentile([length_ratio(e) for e in pairs], 100 - QUARTER))}


def vector_words(path):
    """The words of a vectors file (its first column)."""
    return {line.split(" ", 1)[0] for _, line in files.text_lines(path)}


def examples_of(split, task_key, predicted):
    """One dict per dev example: its words and texts, gold label and each model's prediction."""
    columns = data.task_tokens(split, task_key)
    positive = POSITIVE.get(task_key)
    labels = data.TASKS[task_key].labels
    found = []
    for i, gold in enumerate(split.label):
        found.append({"words_a": columns[0][i],
                      "words_b": columns[1][i] if len(columns) > 1 else [],
                      "text_a": split.text_a[i],
                      "text_b": split.text_b[i] if split.text_b else "",
                      "gold": gold, "positive": labels[gold] == positive,
                      **{name: int(p[i]) for name, p in predicted.items()}})
    return found


# ----------------------------------------------------------------------------------------------
# The tables.

def kinds_of(examples, rules, context):
    """{kind: indices of the examples of that kind}."""
    return {name: [i for i, e in enumerate(examples) if rule(e, context)]
            for name, (_, rule) in rules.items()}


def error_table(examples, kinds, who="student"):
    """Per kind: its count among who's errors and share of them, its count among all examples
    and share of them, who's error rate within it, and how over-represented it is among the
    errors (share of errors / share of all; 1 is as common among errors as overall)."""
    wrong = {i for i, e in enumerate(examples) if e[who] != e["gold"]}
    rows = {}
    for name, members in kinds.items():
        errors = len(wrong & set(members))
        share_errors = errors / max(1, len(wrong))
        share_all = len(members) / max(1, len(examples))
        rows[name] = {"errors": errors, "share_of_errors": share_errors,
                      "examples": len(members), "share_of_dev": share_all,
                      "error_rate": errors / max(1, len(members)),
                      "over_represented": share_errors / share_all if share_all else None}
    return {"errors": len(wrong), "examples": len(examples), "kinds": rows}


def taught(examples, kinds, pairs):
    """Per kind, the baseline's errors that the student fixed and the student's new errors,
    averaged over (student, baseline) prediction pairs (one per seed)."""
    rows = {}
    for name, members in kinds.items():
        chosen = [examples[i] for i in members]
        fixed = [sum(e[b] != e["gold"] and e[s] == e["gold"] for e in chosen) for s, b in pairs]
        new = [sum(e[b] == e["gold"] and e[s] != e["gold"] for e in chosen) for s, b in pairs]
        rows[name] = {"fixed": float(np.mean(fixed)), "new": float(np.mean(new)),
                      "net": float(np.mean(fixed) - np.mean(new))}
    return {"seeds": len(pairs), "kinds": rows}


def confusion(examples, who, classes):
    m = np.zeros((classes, classes), dtype=int)
    for e in examples:
        m[e["gold"], e[who]] += 1
    return m.tolist()


def analyse(task_key, split, predicted, context, pairs, shown=3):
    """The numbers of one dev split: predicted = {model: labels} (student, baseline, teacher and
    each seed's); pairs: the (student, baseline) names to compare."""
    examples = examples_of(split, task_key, predicted)
    rules = rules_for(task_key)
    kinds = kinds_of(examples, rules, context)
    names = data.TASKS[task_key].names
    wrong = [i for i, e in enumerate(examples) if e["student"] != e["gold"]]
    samples = {name: [example_line(examples[i], names) for i in members if i in set(wrong)][:shown]
               for name, members in kinds.items()}
    return {"task": task_key, "labels": list(names),
            "definitions": {name: definition.format(**context)
                            for name, (definition, _) in rules.items()},
            "student": error_table(examples, kinds),
            "baseline": error_table(examples, kinds, "baseline"),
            "taught": taught(examples, kinds, pairs),
            "confusion": {who: confusion(examples, who, len(names))
                          for who in ("teacher", "baseline", "student")},
            "examples": samples}


def example_line(e, names):
    text = e["text_a"] if not e["text_b"] else f"{e['text_a']} ||| {e['text_b']}"
    return (f"{text.strip()} (gold: {names[e['gold']]}; teacher: {names[e['teacher']]}; "
            f"baseline: {names[e['baseline']]}; student: {names[e['student']]})")


# ----------------------------------------------------------------------------------------------
# The page.

def pct(x):
    return "-" if x is None else f"{100 * x:.1f}"


def page(reports, run, command):
    """results/<task>/errors.md from analyse()'s reports, one per dev split."""
    task = data.TASKS[reports[0]["task"]]
    lines = [f"# {task.name}: the student's errors on dev, by kind", "",
             f"Made by `{command}` from the models in `{run}` (their own dev predictions).  "
             f"Each kind is one rule, defined below; an example can be of several kinds.", ""]
    for report, d in zip(reports, data.dev_splits(reports[0]["task"])):
        lines += split_section(report, d)
    return "\n".join(lines) + "\n"


def split_section(report, d):
    student, labels = report["student"], report["labels"]
    lines = [f"## {d}: {student['errors']} errors among {student['examples']} examples", "",
             "| kind | definition |", "|---|---|"]
    lines += [f"| {name} | {definition} |" for name, definition in report["definitions"].items()]
    lines += ["", "The student's errors by kind: how many, their share of all errors, the kind's "
              "share of all dev examples, the student's error rate within the kind, and the ratio "
              "of the two shares (above 1: over-represented among the mistakes).", "",
              "| kind | errors | % of errors | examples | % of dev | error rate % "
              "| over-represented |",
              "|---|---|---|---|---|---|---|"]
    for name, row in student["kinds"].items():
        ratio = "-" if row["over_represented"] is None else f"{row['over_represented']:.2f}"
        lines.append(f"| {name} | {row['errors']} | {pct(row['share_of_errors'])} | "
                     f"{row['examples']} | {pct(row['share_of_dev'])} | {pct(row['error_rate'])} "
                     f"| {ratio} |")
    taught = report["taught"]
    over = "make's seed" if taught["seeds"] == 1 else f"the mean over {taught['seeds']} seeds"
    lines += ["", f"What the teacher taught ({over}): the baseline's errors the distilled student "
              "fixed, its new errors, and the net gain, by kind.", "",
              "| kind | fixed | new | net |", "|---|---|---|---|"]
    lines += [f"| {name} | {row['fixed']:.1f} | {row['new']:.1f} | {row['net']:+.1f} |"
              for name, row in taught["kinds"].items()]
    for who, matrix in report["confusion"].items():
        lines += ["", f"| {who}: gold \\ predicted | " + " | ".join(labels) + " |",
                  "|---" * (len(labels) + 1) + "|"]
        lines += [f"| {g} | " + " | ".join(map(str, row)) + " |" for g, row in zip(labels, matrix)]
    lines += ["", "Examples of the student's errors, a few per kind:", ""]
    for name, shown in report["examples"].items():
        lines += [f"- **{name}**"] + [f"  - {line}" for line in shown]
    return lines + [""]


# ----------------------------------------------------------------------------------------------
# The predictions, from a run folder of `make <task>`: student/, baseline/, teacher/ and, where
# `make seeds` ran, seeds/<seed>/{student,baseline}/.

def predictions(run, task_key, split, d, device):
    """({model: predicted labels}, [(student, baseline) names, one pair per seed])."""
    run = Path(run)
    students = {run / "student": "student", run / "baseline": "baseline"}
    pairs = [("student", "baseline")]
    for seed in sorted((run / "seeds").glob("*")):
        student, baseline = seed / "student", seed / "baseline"
        if (student / "metrics.json").exists() and (baseline / "metrics.json").exists():
            students.update({student: f"student_{seed.name}", baseline: f"baseline_{seed.name}"})
            pairs.append((f"student_{seed.name}", f"baseline_{seed.name}"))
    predicted = {}
    for folder, name in students.items():
        loaded = {folder: distill.load_student(folder, device)}
        predicted[name] = distill.predict_all(loaded, None, split, task_key, device, d)[folder.name]
    predicted["teacher"] = teacher_predictions(run / "teacher", d)
    return predicted, pairs


def teacher_predictions(folder, d):
    """The teacher's labels on dev split d as its record keeps them, from the evaluation whose
    checkpoint it kept: no checkpoint is loaded, so a run whose teacher was put back by
    tools/kept.py (its logits and record, without teacher.pt) is read like any other."""
    path = Path(folder) / "metrics.json"
    record = files.read_json(path)
    chosen = [e for e in record["history"] if e["step"] == record["step"] and "predictions" in e]
    if not chosen:
        raise SystemExit(f"{path}: no evaluation at its chosen step {record['step']} with the "
                         f"teacher's predictions; expected the record of distill.py teacher")
    return report.recorded_labels(chosen[0], d)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True, choices=sorted(data.TASKS))
    p.add_argument("--runs", default="runs", help="the runs folder: <runs>/<task>/ is make's run")
    p.add_argument("--out", default="results", help="writes <out>/<task>/errors.md and errors.json")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--examples", type=flags.natural, default=3, help="examples shown per kind")
    args = p.parse_args(argv)
    run, device = Path(args.runs) / args.task, torch.device("cpu")
    train = data.load_split(args.task, "train", args.data_dir)
    config = distill.load_student(run / "student")[2]
    vectors = config.get("vectors") or files.vectors_path(args.data_dir)
    dev = [data.load_split(args.task, d, args.data_dir) for d in data.dev_splits(args.task)]
    long = float(np.percentile([len(w) for w in data.task_tokens(dev[0], args.task)[0]], 75))
    context = {"polarity": polarity(train, args.task),
               "vectors": vector_words(vectors),
               "long": long,
               **pair_thresholds(train, args.task)}
    reports = []
    for d, split in zip(data.dev_splits(args.task), dev):
        predicted, pairs = predictions(run, args.task, split, d, device)
        reports.append(analyse(args.task, split, predicted, context, pairs, args.examples))
    out = Path(args.out) / args.task
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m tools.errors " + " ".join(argv if argv is not None else sys.argv[1:])
    (out / "errors.md").write_text(page(reports, run, command))
    thresholds = {k: v for k, v in context.items() if k not in ("polarity", "vectors")}
    files.save_json(out / "errors.json", {"command": command, "run": str(run), **thresholds,
                                          "splits": dict(zip(data.dev_splits(args.task), reports))})
    print(f"the student's errors by kind -> {out / 'errors.md'}")


if __name__ == "__main__":
    main()
