"""Tests of tools/errors.py: each rule on hand-written examples (true on one, false on another),
the tables' counts and rates by hand, QQP and MNLI on small files written here, and the command
on a toy run."""
import json

import numpy as np
import pytest

import data
import distill
from conftest import toy_teacher_logits
from tools import errors

CONTEXT = {"polarity": {"great": 2.0, "fun": 1.5, "dull": -2.0, "mess": -1.2, "film": 0.1},
           "vectors": {"a", "the", "film", "is", "great", "dull", "not", "but", "fun"}, "long": 5,
           "low_overlap": 0.2, "high_overlap": 0.5, "ratio": 2.0}


def single(text, gold=1, teacher=1):
    words = data.tokenize(text, pretokenized=True)
    return {"words_a": words, "words_b": [], "text_a": text, "text_b": "", "gold": gold,
            "positive": gold == 1, "teacher": teacher}


def pair(a, b, positive, teacher_right=True):
    return {"words_a": data.tokenize(a), "words_b": data.tokenize(b), "text_a": a, "text_b": b,
            "gold": int(positive), "positive": positive, "teacher": int(positive) if teacher_right else 1 - positive}


@pytest.mark.parametrize("kind, yes, no", [
    ("negation", "the film is n't great", "the film is great"),
    ("contrast", "great cast but a dull film", "great cast and a fun film"),
    ("both polarities", "a great mess", "a great film"),
    ("long", "the film is a great film", "a great film"),
    ("words without a vector", "a zany film", "a great film"),
])
def test_single_sentence_rules(kind, yes, no):
    rule = errors.SINGLE[kind][1]
    assert rule(single(yes), CONTEXT) and not rule(single(no), CONTEXT)


@pytest.mark.parametrize("kind, yes, no", [
    ("high overlap, negative gold", pair("the cat sat on the mat", "the cat sat on a mat", False),
     pair("the cat sat on the mat", "the cat sat on a mat", True)),
    ("low overlap, positive gold", pair("he bought a car", "she purchased an automobile", True),
     pair("he bought a car", "she purchased an automobile", False)),
    ("numbers differ", pair("Sales rose 5 percent", "Sales rose 7 percent", True),
     pair("Sales rose 5 percent in May", "In May sales rose 5 percent", True)),
    ("a new name in the second", pair("He met Smith today", "He met Jones today", True),
     pair("He met Smith and Jones today", "Today he met Smith", True)),
    ("length ratio", pair("he left", "he left the room early in the morning", True),
     pair("he left the room", "she left the hall", True)),
])
def test_pair_rules(kind, yes, no):
    rule = errors.PAIRS[kind][1]
    assert rule(yes, CONTEXT) and not rule(no, CONTEXT)


def test_pair_thresholds_are_the_train_pairs_quartiles(tmp_path):
    """Overlaps 0, 1/3, 2/3, 1 and length ratios 1, 1, 1.5, 3: numpy's quartiles of each."""
    rows = ["a b\tc d\tentailment", "a b\ta c\tnot_entailment", "a b c\ta b\tentailment",
            "a\ta a a\tnot_entailment"]
    (tmp_path / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n"
                                        + "\n".join(f"{i}\t{r}" for i, r in enumerate(rows)) + "\n")
    train = data.read_tsv(tmp_path / "train.tsv", "rte")
    found = errors.pair_thresholds(train, "rte")
    assert found["low_overlap"] == pytest.approx(np.percentile([0, 1 / 3, 2 / 3, 1], 25))
    assert found["high_overlap"] == pytest.approx(np.percentile([0, 1 / 3, 2 / 3, 1], 75))
    assert found["ratio"] == pytest.approx(np.percentile([1, 1, 1.5, 3], 75))
    assert errors.pair_thresholds(train, "sst2") == {}


def test_teacher_rules():
    wrong, right = single("a film", gold=1, teacher=0), single("a film", gold=1, teacher=1)
    assert errors.TEACHER["teacher wrong too"][1](wrong, CONTEXT)
    assert not errors.TEACHER["teacher wrong too"][1](right, CONTEXT)
    assert errors.TEACHER["teacher right"][1](right, CONTEXT)
    assert not errors.TEACHER["teacher right"][1](wrong, CONTEXT)


def test_polarity_is_the_train_splits_log_odds(tmp_path):
    rows = ["great film\t1"] * 6 + ["dull film\t0"] * 6 + ["great\t0", "rare\t1"]
    (tmp_path / "train.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    train = data.read_tsv(tmp_path / "train.tsv", "sst2")
    found = errors.polarity(train, "sst2")
    prior = np.log((7 + 1) / (7 + 1))
    assert found["great"] == pytest.approx(np.log((6 + 1) / (1 + 1)) - prior)     # in 6 positive, 1 negative
    assert found["dull"] == pytest.approx(np.log(1 / 7) - prior)
    assert found["film"] == pytest.approx(0.0)
    assert "rare" not in found                                                    # in fewer than 5 sentences


def test_error_table_and_taught_by_hand():
    examples = [dict(single(t), gold=g, student=s, baseline=b)
                for t, g, s, b in [("not great", 1, 0, 0), ("not dull", 1, 1, 0), ("great", 1, 1, 1),
                                   ("dull", 0, 1, 0)]]
    kinds = {"negation": [0, 1], "all": [0, 1, 2, 3]}
    table = errors.error_table(examples, kinds)
    assert table["errors"] == 2 and table["examples"] == 4
    assert table["kinds"]["negation"] == {"errors": 1, "share_of_errors": 0.5, "examples": 2, "share_of_dev": 0.5,
                                          "error_rate": 0.5, "over_represented": 1.0}
    taught = errors.taught(examples, kinds, [("student", "baseline")])
    assert taught["kinds"]["negation"] == {"fixed": 1.0, "new": 0.0, "net": 1.0}
    assert taught["kinds"]["all"] == {"fixed": 1.0, "new": 1.0, "net": 0.0}


QQP = ("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
       "0\t1\t2\tHow do I learn Python fast?\tHow can I learn Python quickly?\t1\n"
       "1\t3\t4\tWhat is the capital of France?\tWhat is the capital of Spain?\t0\n"
       "2\t5\t6\tWhy is the sky blue?\tWhat makes the sky look blue?\t1\n")
MNLI = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
        "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
        "0\t1\t1\tx\t-\t-\t-\t-\tA man plays a guitar in 2009.\tA man plays music.\tentailment\tentailment\n"
        "1\t2\t2\tx\t-\t-\t-\t-\tA dog runs in the park.\tA cat sleeps at home.\tcontradiction\tcontradiction\n"
        "2\t3\t3\tx\t-\t-\t-\t-\tThe woman reads.\tThe woman reads a long book by Tolstoy.\tneutral\tneutral\n")


@pytest.mark.parametrize("task, text, names", [("qqp", QQP, ("not duplicate", "duplicate")),
                                                ("mnli", MNLI, ("contradiction", "entailment", "neutral"))])
def test_pair_tasks_on_small_files(tmp_path, task, text, names):
    (tmp_path / "dev.tsv").write_text(text)
    split = data.read_tsv(tmp_path / "dev.tsv", task)
    gold = np.array(split.label)
    predicted = {"student": (gold + 1) % len(names), "baseline": gold, "teacher": gold}    # every one wrong
    report = errors.analyse(task, split, predicted, CONTEXT, [("student", "baseline")])
    assert report["labels"] == list(names) and set(report["definitions"]) == set(errors.rules_for(task))
    assert report["student"]["errors"] == 3 and report["baseline"]["errors"] == 0
    assert report["taught"]["kinds"]["teacher right"] == {"fixed": 0.0, "new": 3.0, "net": -3.0}
    assert np.trace(report["confusion"]["student"]) == 0 and np.sum(report["confusion"]["student"]) == 3
    text = errors.page([report], "runs/x", "python -m tools.errors")
    assert f"| student: gold \\ predicted | {' | '.join(names)} |" in text
    assert f"gold: {names[gold[0]]}" in text


def test_the_command_on_a_toy_run(toy):
    run = toy / "runs" / "sst2"
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    common = ["student", "--task", "sst2", "--data-dir", str(toy), "--hidden", "8", "--fc", "8", "--epochs", "1"]
    distill.main(common + ["--train-logits", str(toy / "train.npy"), "--augmented", "", "--out", str(run / "student")])
    distill.main(common + ["--no-distill", "--out", str(run / "baseline")])
    distill.main(["teacher", "--task", "sst2", "--data-dir", str(toy), "--teacher", str(toy / "teacher"),
                  "--epochs", "1", "--evals-per-epoch", "2", "--no-bf16", "--out", str(run / "teacher")])
    (run / "teacher" / "teacher.pt").unlink()       # the teacher's predictions are its record's
    errors.main(["--task", "sst2", "--runs", str(toy / "runs"), "--out", str(toy / "results"), "--data-dir", str(toy)])
    made = json.loads((toy / "results" / "sst2" / "errors.json").read_text())["splits"]["dev"]
    dev = data.load_split("sst2", "dev", toy)
    assert made["student"]["examples"] == len(dev.label) == 100
    assert np.sum(made["confusion"]["student"]) == 100
    assert made["student"]["errors"] == 100 - np.trace(made["confusion"]["student"])
    assert made["baseline"]["errors"] == 100 - np.trace(made["confusion"]["baseline"])
    teacher = json.loads((run / "teacher" / "metrics.json").read_text())["dev"]["dev"]
    assert made["confusion"]["teacher"] == teacher["confusion"]       # its chosen evaluation's
    page = (toy / "results" / "sst2" / "errors.md").read_text()
    assert "| kind | errors | % of errors |" in page and "negative | positive" in page
