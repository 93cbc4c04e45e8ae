"""Tests of report.py: the numbers in README.md, docs/, results/README.md and experiments/README.md
are the ones in results/ and experiments/, which came from committed commands with their configs
saved beside them; every link on those pages leads to a file of the repository."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

import data
from tools import report

ROOT = Path(__file__).resolve().parent.parent
# The pages a reader meets; results/ and experiments/ are left out of a class handout.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "results" / "README.md",
         ROOT / "experiments" / "README.md"]


def task_results():
    return sorted((ROOT / "results").glob("*.json"))


def test_every_generated_block_is_what_make_readme_writes():
    if not any(p.stem in data.TASKS for p in task_results()):
        pytest.skip("no results/<task>.json (a handout leaves results/ out)")
    blocks = report.generated_blocks(ROOT)
    assert {"README.md", "docs/results.md", "docs/speed.md", "experiments/README.md"} <= set(blocks)
    stale = [f"{page}: {name}" for page, by in blocks.items() for name, text in by.items()
             if report.block_of((ROOT / page).read_text(), name) != text]
    assert not stale, f"blocks that are not what results/ and experiments/ say: {stale}; run: make readme"
    assert (ROOT / "results" / "README.md").read_text() == report.results_page(ROOT / "results"), \
        "results/README.md is not what results/ says; run: make readme"


def relative_links(page):
    """The targets of a Markdown page's links and images that are not web addresses or anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_every_relative_link_on_the_pages_resolves_to_a_file():
    broken = []
    for page in (p for p in PAGES if p.exists()):
        for target in relative_links(page):
            path = (page.parent / target).resolve()
            top = ROOT / path.relative_to(ROOT).parts[0] if path.is_relative_to(ROOT) else None
            if top is not None and top.name in ("results", "experiments") and not top.exists():
                continue                       # a handout: its pages point at what it leaves out
            if top is None or not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: ({target})")
    assert not broken, broken


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().encode()) <= 12_000, "README.md: at most 12,000 characters"


def test_update_blocks_rewrites_between_the_markers_only(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n<!-- t:begin -->\nold\nrows\n<!-- t:end -->\n\nprose\n")
    report.update_blocks(page, {"t": "| new |"})
    assert page.read_text() == "# Title\n\n<!-- t:begin -->\n| new |\n<!-- t:end -->\n\nprose\n"
    assert report.block_of(page.read_text(), "t") == "| new |"
    assert report.block_of(page.read_text(), "other") is None
    with pytest.raises(ValueError, match=r"page.md: no line '<!-- other:begin -->'"):
        report.update_blocks(page, {"other": "x"})


def test_goals_are_judged_on_the_figures_they_name(tmp_path):
    """An experiment's goals.json: each goal's figure read from its results file (a difference
    where it subtracts one), in points, met or not by its bound; a missing file is no verdict."""
    report.files.save_json(tmp_path / "results" / "t.json", {
        "cross_selected": {"dev": {"teacher": 0.94}},
        "seeds": {"cross_selected": {"student_mean": 0.88, "gain_ci95": [0.035, 0.047]}}})
    goals = [
        {"goal": "teacher", "made_by": "make t", "results": "results/t.json",
         "figure": "cross_selected.dev.teacher", "at_least": 93.0},
        {"goal": "gap", "made_by": "make seeds", "results": "results/t.json",
         "figure": "cross_selected.dev.teacher", "minus": "seeds.cross_selected.student_mean",
         "at_most": 2.5},
        {"goal": "interval", "made_by": "make seeds", "results": "results/t.json",
         "figure": "seeds.cross_selected.gain_ci95.0", "above": 3.5},
        {"goal": "other task", "made_by": "make u", "results": "results/u.json",
         "figure": "cross_selected.dev.teacher", "at_least": 70.0},
        {"goal": "seeds not run", "made_by": "make seeds", "results": "results/t.json",
         "figure": "seeds.dev_selected.gain_mean", "at_least": 1.0}]
    report.files.save_json(tmp_path / "goals.json", {"goals": goals})
    rows = report.goals_table(tmp_path / "goals.json", tmp_path).splitlines()[2:]
    assert rows == ["| teacher | `make t` | 94.00 | yes |",
                    "| gap | `make seeds` | 6.00 | no |",
                    "| interval | `make seeds` | 3.50 | no |",
                    "| other task | `make u` | not measured: no results/u.json | not yet |",
                    "| seeds not run | `make seeds` | not measured: no "
                    "seeds.dev_selected.gain_mean in results/t.json | not yet |"]
    report.files.save_json(tmp_path / "goals.json", {"goals": [{**goals[0], "at_most": 1.0}]})
    with pytest.raises(ValueError, match="goals.json: the goal 'teacher' needs .* one of"):
        report.goals_table(tmp_path / "goals.json", tmp_path)


def test_readme_table_is_cross_selected_beside_tang_et_al(tmp_path):
    """The README's one table: the cross-selected figures (means over seeds where make seeds ran,
    make's one run where not) and Tang et al.'s, marked as theirs."""
    seeds = {"seeds": [0, 1], "dev_selected": {"student_mean": 0.9, "student_sd": 0.01, "baseline_mean": 0.8,
                                                "baseline_sd": 0.02, "gain_mean": 0.1, "gain_ci95": [0.05, 0.15]},
             "cross_selected": {"student_mean": 0.85, "student_sd": 0.01, "baseline_mean": 0.78, "baseline_sd": 0.03,
                                "gain_mean": 0.07, "gain_ci95": [-0.01, 0.15]}}
    dev = {"dev": {who: {"acc": 0.9} for who in ("teacher", "student", "baseline")}}
    cross = {"dev": {"teacher": 0.88, "student": 0.84, "baseline": 0.77}}
    report.files.save_json(tmp_path / "sst2.json", {"dev": dev, "seeds": seeds, "cross_selected": cross})
    report.files.save_json(tmp_path / "rte.json", {"dev": dev, "seeds": None, "cross_selected": None})
    lines = report.headline_table(tmp_path).splitlines()
    assert lines[2] == ("| SST-2 | accuracy | 88.0 | 78.0 ± 3.0 | 85.0 ± 1.0 | +7.0 (-1.0 to +15.0) | 2 | "
                        "86.7 -> 90.7 (BERT-large 94.9) |")
    assert lines[3] == "| RTE | accuracy | - | - | - | - | 1 | - |"
    assert len(lines) == 4


@pytest.mark.parametrize("path", [p for p in task_results() if p.stem in data.TASKS], ids=lambda p: p.stem)
def test_each_result_says_how_it_was_made(path):
    r = json.loads(path.read_text())
    for step in ("teacher", "augment", "student", "baseline"):
        assert r["commands"][step] and r["configs"][step]
    assert r["git_commit"] and r["seconds"]["total"] > 0
    for name in ("teacher", "student", "baseline"):
        assert (ROOT / "results" / path.stem / f"{name}.json").exists()


def test_seeds_give_mean_spread_and_the_gain_interval(tmp_path, capsys):
    """Seeds trained with make's settings are pooled with make's own run; a seed trained with
    other settings is left out, by name.  The interval is Student's t over paired gains; the
    cross-selected figures come only when every run kept its evaluations' predictions."""
    import statistics
    gold = [0, 1, 0, 1]

    def run(who, seed, acc, lr=1e-3, predictions="0101"):
        return {"config": {"seed": seed, "lr": lr, "out": f"{who}{seed}"}, "dev": {"dev": {"acc": acc, "n": 4}},
                "curve": [{"dev": {"dev": acc}, "predictions": {"dev": predictions}}]}
    student, baseline = {0: 0.88, 1: 0.87, 2: 0.885}, {0: 0.85, 1: 0.845, 2: 0.84}
    for seed in (1, 2):
        for who, acc in (("student", student), ("baseline", baseline)):
            report.files.save_json(tmp_path / "seeds" / str(seed) / who / "metrics.json",
                                   run(who, seed, acc[seed], predictions="0101" if who == "student" else "0111"))
    report.files.save_json(tmp_path / "seeds" / "3" / "student" / "metrics.json", run("student", 3, 0.99, lr=0.1))
    report.files.save_json(tmp_path / "seeds" / "3" / "baseline" / "metrics.json", run("baseline", 3, 0.5))
    steps = {"student": run("student", 0, student[0]), "baseline": run("baseline", 0, baseline[0], predictions="0111")}
    s = report.over_seeds(tmp_path, steps, "sst2", gold)
    assert "seeds/3/student/metrics.json was trained with other settings" in capsys.readouterr().err
    d = s["dev_selected"]
    assert s["seeds"] == [0, 1, 2] and d["student"] == [0.88, 0.87, 0.885]
    assert d["student_mean"] == pytest.approx(statistics.mean(student.values()))
    assert d["baseline_sd"] == pytest.approx(statistics.stdev(baseline.values()))
    gains = [student[k] - baseline[k] for k in (0, 1, 2)]
    half = 4.303 * statistics.stdev(gains) / 3 ** 0.5
    assert d["gain_ci95"] == pytest.approx([statistics.mean(gains) - half, statistics.mean(gains) + half])
    # cross-selected from the kept predictions: the student is always right, the baseline 3 of 4
    assert s["cross_selected"]["student"] == [1.0] * 3 and s["cross_selected"]["baseline_mean"] == pytest.approx(0.75)
    del steps["student"]["curve"][0]["predictions"]                   # a run older than the predictions
    assert report.over_seeds(tmp_path, steps, "sst2", gold)["cross_selected"] is None
    assert report.over_seeds(tmp_path / "none", steps, "sst2", gold) is None


def test_cross_selection_does_not_reward_a_checkpoint_lucky_on_the_half_it_is_scored_on():
    import numpy as np
    labels = np.arange(40) % 2
    order = np.random.default_rng(0).permutation(40)          # the halves cross_selected draws
    a, b = order[:20], order[20:]
    right_on_a, right_on_b = labels.copy(), labels.copy()
    right_on_a[b], right_on_b[a] = 1 - labels[b], 1 - labels[a]       # each right on one half only
    as_eval = lambda p: {"predictions": {"dev": "".join(map(str, p))}}    # noqa: E731
    assert report.cross_selected([as_eval(right_on_a), as_eval(right_on_b)], labels, "sst2", "dev") == 0.0
    steady = labels.copy()
    steady[order[::4]] = 1 - labels[order[::4]]                        # 75% right on both halves
    assert report.cross_selected([as_eval(1 - labels), as_eval(steady)], labels, "sst2", "dev") == 0.75


def test_mrpc_reports_accuracy_and_f1_apart_cross_selected_and_over_seeds(tmp_path):
    """MRPC's score is the mean of accuracy and F1; its goals are stated in each: cross-selection
    chooses by that score and gives both (each the chosen checkpoint's figure on the other half,
    averaged over the halves), and the seeds' summary and the README's sentence carry them."""
    order = np.random.default_rng(0).permutation(12)                 # the halves cross-selection draws
    halves = (order[:6], order[6:])
    labels = np.zeros(12, dtype=int)
    labels[order[[0, 1, 6, 7]]] = 1                                    # 2 positives of 6 in each half

    def measured(guess, rows):
        p, y = guess[rows], labels[rows]
        tp, fp, fn = ((p == 1) & (y == 1)).sum(), ((p == 1) & (y == 0)).sum(), ((p == 0) & (y == 1)).sum()
        return (p == y).mean(), 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    # Two checkpoints: "all positive" has the better score on each half (1/3 + 1/2 against 2/3 +
    # 0), "all negative" the better accuracy; the score, not accuracy, must choose.
    positive, negative = np.ones(12, dtype=int), np.zeros(12, dtype=int)
    acc, f1 = np.mean([measured(positive, h) for h in halves], axis=0)
    evaluations = [{"predictions": {"dev": "".join(map(str, g))}} for g in (negative, positive)]
    assert report.cross_selected_metrics(evaluations, labels, "mrpc", "dev") == pytest.approx({"acc": acc, "f1": f1})
    assert report.cross_selected(evaluations, labels, "mrpc", "dev") == pytest.approx((acc + f1) / 2)
    assert report.cross_selected_metrics(evaluations, labels, "rte", "dev").keys() == {"acc"}

    def run(seed, dev_acc, guess):
        return {"config": {"seed": seed}, "dev": {"dev": {"acc": dev_acc, "f1": 0.8, "n": 12}},
                "curve": [{"dev": {"dev": 0.75}, "predictions": {"dev": "".join(map(str, guess))}}]}
    steps = {"student": run(0, 0.70, positive), "baseline": run(0, 0.60, negative)}
    report.files.save_json(tmp_path / "seeds" / "2" / "student" / "metrics.json", run(2, 0.72, negative))
    report.files.save_json(tmp_path / "seeds" / "2" / "baseline" / "metrics.json", run(2, 0.62, negative))
    seeds = report.over_seeds(tmp_path, steps, "mrpc", labels)
    assert seeds["parts"]["dev_selected"]["student"] == pytest.approx({"acc": 0.71, "f1": 0.8})
    assert seeds["parts"]["dev_selected"]["baseline"] == pytest.approx({"acc": 0.61, "f1": 0.8})
    acc_neg, f1_neg = np.mean([measured(negative, h) for h in halves], axis=0)
    assert seeds["parts"]["cross_selected"]["student"] == pytest.approx({"acc": (acc + acc_neg) / 2,
                                                                         "f1": (f1 + f1_neg) / 2})
    assert seeds["parts"]["cross_selected"]["baseline"] == pytest.approx({"acc": acc_neg, "f1": f1_neg})
    assert "parts" not in report.over_seeds(tmp_path, steps, "rte", labels)
    r = {"dev": {"dev": {"teacher": {"acc": 0.8, "f1": 0.9}}}, "seeds": seeds,
         "cross_selected_parts": {"dev": {"teacher": {"acc": 0.75, "f1": 0.85}}}}
    pct = lambda x: f"{100 * x:.1f}"     # noqa: E731
    assert report.parts_sentence("MRPC", "mrpc", r).endswith(
        f"teacher: accuracy 80.0 / 75.0, F1 90.0 / 85.0; "
        f"BiLSTM, labels only: accuracy 61.0 / {pct(acc_neg)}, F1 80.0 / {pct(f1_neg)}; "
        f"distilled BiLSTM: accuracy 71.0 / {pct((acc + acc_neg) / 2)}, F1 80.0 / {pct((f1 + f1_neg) / 2)}.")
    assert report.parts_sentence("MRPC", "mrpc", {**r, "seeds": None}) is None


def test_figures_hold_each_models_curve_and_confusion_matrix(tmp_path):
    def made(acc, confusion, curve=None):
        step = {"dev": {"dev": {"acc": acc, "confusion": confusion, "n": 10}}}
        return {**step, "curve": curve} if curve is not None else step
    steps = {"teacher": made(0.9, [[4, 1], [0, 5]]),
             "student": made(0.8, [[4, 1], [1, 4]], [{"epoch": 0.5, "dev": {"dev": 0.7}}, {"epoch": 1.0, "dev": {"dev": 0.8}}]),
             "baseline": made(0.6, [[3, 2], [2, 3]], [{"epoch": 1.0, "dev": {"dev": 0.6}}])}
    sweep = {"command": "python report.py sweep", "config": {"seed": 3},
             "results": [{"alpha": a, "dev": {"dev": acc}, "cross_selected": cross, "n": 100,
                          "curve": [{"epoch": 1.0, "train_loss": 1.0, "dev": {"dev": acc}}]}
                         for a, acc, cross in ((0, 0.8, 0.75), (1, 0.5, 0.45))]}
    report.task_figures(tmp_path, "sst2", steps, sweep)
    tables = (tmp_path / "figures.md").read_text()
    assert "the teacher's chosen checkpoint: 90.00" in tables
    assert "| student: epoch | dev |\n|---|---|\n| 0.50 | 70.00 |\n| 1.00 | 80.00 |" in tables
    assert ("| baseline: gold \\ predicted | negative | positive |\n|---|---|---|\n| negative | 3 | 2 |\n"
            "| positive | 2 | 3 |") in tables                                  # the labels named
    assert "(`python report.py sweep`, seed 3)" in tables and "| 1 | 50.00 | 45.00 | 5.00 |" in tables
    pytest.importorskip("matplotlib")
    for png in ("curves.png", "confusion.png", "alpha.png", "alpha_curves.png"):
        assert (tmp_path / png).stat().st_size > 0


def test_figures_link_from_the_page_that_shows_them(tmp_path):
    (tmp_path / "sst2").mkdir()
    (tmp_path / "sst2" / "figures.md").write_text("tables")
    assert report.figures_block(tmp_path, "../results/") == \
        "SST-2: [learning curves and confusion matrices](../results/sst2/figures.md)"
    (tmp_path / "sst2" / "curves.png").write_bytes(b"png")
    assert report.figures_block(tmp_path, "") == \
        "![SST-2 learning curves](sst2/curves.png) ![SST-2 confusion matrices](sst2/confusion.png)"
    assert report.figures_block(tmp_path, "", tasks=("rte",)) == ""


def test_levers_table_names_what_each_side_run_set_otherwise(tmp_path):
    """Each side run below experiments/ sits under make's own run in results/ with the settings
    it changed, paths and seeds aside; make quick's run is not a lever."""
    def result(hidden, out, acc, seed=0, **augment):
        configs = {step: {"seed": seed, "out": f"{out}/{step}", "hidden": hidden, "epochs": 10}
                   for step in ("student", "baseline")}
        configs["augment"] = {"seed": seed, "out": f"{out}/augmented.tsv", "n_iter": 10, **augment}
        return {"configs": configs, "cross_selected": None, "seeds": None,
                "dev": {"dev": {who: {"acc": acc} for who in ("teacher", "student", "baseline")}}}
    results, experiments = tmp_path / "results", tmp_path / "experiments"
    report.files.save_json(results / "rte.json", result(300, "runs/rte", 0.6))
    report.files.save_json(results / "quick" / "rte.json", result(300, "runs/quick/rte", 0.4))   # results/: not levers
    report.files.save_json(experiments / "rte" / "size" / "rte.json", result(150, "runs/size/rte", 0.5, seed=1))
    # a setting make's config does not hold (other code) is no lever; a run alike in all is named so
    report.files.save_json(experiments / "pairs" / "same" / "rte.json", result(300, "runs/same/rte", 0.7, written=9))
    report.files.save_json(experiments / "quick" / "rte.json", result(300, "runs/quick/rte", 0.4))
    report.files.save_json(experiments / "pairs" / "quick" / "rte.json", result(300, "runs/quick/rte", 0.4))
    lines = report.levers_table(results, experiments).splitlines()
    assert lines[2:] == ["| make rte | - | accuracy | 60.0 / - | 60.0 / - | 60.0 / - | - | 1 |",
                         "| `pairs/same/` | nothing | accuracy | 70.0 / - | 70.0 / - | 70.0 / - | - | 1 |",
                         "| `rte/size/` | student, baseline: hidden 150 | accuracy | 50.0 / - | 50.0 / - | 50.0 / - | - | 1 |"]
    assert report.levers_table(tmp_path / "none", experiments) == ""      # no make run to set them against
    report.files.save_json(experiments / "rte" / "old" / "rte.json", {"dev": {}})
    with pytest.raises(ValueError, match="old/rte.json: no 'configs'"):
        report.levers_table(results, experiments)


def test_sweep_trains_one_student_per_alpha_and_scores_each_both_ways(toy, capsys):
    """report.py sweep: one student per alpha, each one's dev-selected and cross-selected score in
    sweep.json and its table; a student given in --reuse stands for an alpha only when it was
    made from that alpha's very settings and inputs (make's own student, say)."""
    from conftest import toy_teacher_logits
    import distill
    np.save(toy / "train.npy", toy_teacher_logits(toy, "train"))
    flags = ["--task", "sst2", "--data-dir", str(toy), "--train-logits", str(toy / "train.npy"), "--augmented", "",
             "--optimizer", "adam", "--hidden", "8", "--fc", "8", "--batch-size", "16", "--evals-per-epoch", "2",
             "--epochs", "2"]
    distill.main(["student", *flags, "--lr", "0.01", "--out", str(toy / "alone")])
    alone = json.loads((toy / "alone" / "metrics.json").read_text())
    report.main(["sweep", *flags, "--lr", "0.02", "--alphas", "0", "--out", str(toy / "lr"), "--reuse", str(toy / "alone")])
    assert (toy / "lr" / "alpha_0" / "metrics.json").exists()             # another lr: trained
    report.main(["sweep", *flags, "--lr", "0.01", "--alphas", "0", "1", "--out", str(toy / "sweep"),
                 "--reuse", str(toy / "alone")])
    assert f"alpha 0: {toy / 'alone'} was trained from these settings and inputs" in capsys.readouterr().out
    assert not (toy / "sweep" / "alpha_0").exists()
    assert json.loads((toy / "sweep" / "alpha_1" / "metrics.json").read_text())["config"]["alpha"] == 1.0
    zero, one = json.loads((toy / "sweep" / "sweep.json").read_text())["results"]
    assert zero["dev"]["dev"] == alone["dev"]["dev"]["acc"] and zero["curve"] == alone["curve"]
    assert zero["run"] == str(toy / "alone") and one["run"] == str(toy / "sweep" / "alpha_1")
    gold = report.data.load_split("sst2", "dev", toy).label
    assert one["n"] == len(gold) == 100
    assert one["cross_selected"] == report.cross_selected(one["curve"], gold, "sst2", "dev")
    table = report.sweep_table([zero, one], "sst2").splitlines()
    assert table[2] == (f"| 0 | {100 * zero['dev']['dev']:.2f} | {100 * zero['cross_selected']:.2f} | "
                        f"{100 * np.sqrt(zero['dev']['dev'] * (1 - zero['dev']['dev']) / 100):.2f} |")
    assert len(table) == 4
    # The teacher's logits made again, different: make's student is out of date and not reused.
    np.save(toy / "train.npy", -toy_teacher_logits(toy, "train"))
    report.main(["sweep", *flags, "--lr", "0.01", "--alphas", "0", "--out", str(toy / "new"), "--reuse", str(toy / "alone")])
    assert (toy / "new" / "alpha_0" / "metrics.json").exists() and "train_logits changed" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--reuse .*nothing: no metrics.json there"):
        report.main(["sweep", *flags, "--alphas", "0", "--out", str(toy / "x"), "--reuse", str(toy / "nothing")])


def test_report_takes_a_sweep_of_makes_settings_only(tmp_path, capsys):
    student = {"config": {"cmd": "student", "task": "sst2", "lr": 0.001, "seed": 0, "alpha": 0.0, "out": "runs/sst2/student",
                          "no_distill": False}}
    sweep = {"config": {"cmd": "sweep", "task": "sst2", "lr": 0.001, "seed": 0, "alpha": 0.0, "alphas": [0, 1],
                        "reuse": [], "plot_only": False, "out": "runs/sst2/sweep"}, "results": []}
    assert report.sweep_of(tmp_path, student) is None
    report.files.save_json(tmp_path / "sweep" / "sweep.json", sweep)
    assert report.sweep_of(tmp_path, student) == sweep
    report.files.save_json(tmp_path / "sweep" / "sweep.json", {**sweep, "config": {**sweep["config"], "lr": 0.01}})
    assert report.sweep_of(tmp_path, student) is None and "other settings" in capsys.readouterr().err


def test_another_teachers_results_are_rows_of_their_own(tmp_path):
    """make <task> TEACHER=mpnet reports into results/mpnet/: the tables show its rows below the
    default teacher's, named by their teacher, with its own figures."""
    if not (ROOT / "results" / "sst2.json").exists():
        pytest.skip("no results/sst2.json (a handout leaves results/ out)")
    made = json.loads((ROOT / "results" / "sst2.json").read_text())
    (tmp_path / "mpnet").mkdir()
    (tmp_path / "sst2.json").write_text(json.dumps(made))
    other = json.loads(json.dumps(made))
    other["cross_selected"]["dev"]["teacher"] = 0.9321
    other["dev"]["dev"]["teacher"]["acc"] = 0.9456
    (tmp_path / "mpnet" / "sst2.json").write_text(json.dumps(other))
    rows = report.headline_table(tmp_path).splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| SST-2", "| SST-2, mpnet teacher"]
    assert rows[1].split(" | ")[2] == "93.2" and rows[0].split(" | ")[2] != "93.2"
    full = report.results_table(tmp_path)
    assert "| SST-2, mpnet teacher | 94.6 (" in full
    assert "| SST-2, mpnet teacher | accuracy | 94.6 / 93.2 |" in full
    # The default teacher's results are results/<task>.json: a results/minilm/ is no second row.
    (tmp_path / "minilm").mkdir()
    (tmp_path / "minilm" / "sst2.json").write_text(json.dumps(made))
    assert len(report.headline_table(tmp_path).splitlines()) == 2 + 2
