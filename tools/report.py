"""report.py -- machinery a reader may skip: results tables, the pages' generated blocks, the
alpha sweep.

    python -m tools.report results --task sst2   # runs/sst2/* -> results/sst2.json, results/README.md
    python -m tools.report sweep --task sst2     # students for alpha in {0, 0.2, ..., 1}; plots
    python -m tools.report readme                # (make readme) the tables in README.md, docs/ and
                                                 # experiments/README.md, from results/ and experiments/

Every number in README.md, docs/, results/ and experiments/README.md is read from the JSON each
step wrote beside its output (nothing is typed by hand).  `make <task>` changes nothing tracked
outside results/; `make readme` refreshes the other pages.  matplotlib is optional: without it
the sweep keeps its numbers.
"""
import argparse
import operator
import shutil
import sys
from pathlib import Path

import numpy as np

import data
import distill
from machinery import checkpoints
from machinery import files
from tools import bench


# ----------------------------------------------------------------------------------------------
# The alpha sweep (the paper found alpha = 0, pure distillation, best) and the learning curves.

def cmd_sweep(args):
    files.start(args)
    out = Path(args.out)
    if args.plot_only:
        return plot_sweep(out, files.read_json(out / "sweep.json")["results"], args.task)
    dev = data.dev_splits(args.task)[0]
    gold = data.load_split(args.task, dev, args.data_dir).label
    for folder in args.reuse:
        if not (Path(folder) / "metrics.json").exists():
            raise ValueError(f"--reuse {folder}: no metrics.json there; give folders of finished `distill.py student` runs")
    trained = {f: files.read_json(Path(f) / "metrics.json") for f in args.reuse}
    settings = {k: v for k, v in vars(args).items() if k not in ("alphas", "plot_only", "reuse")}
    results = []
    for alpha in args.alphas:
        run_args = argparse.Namespace(**{**settings, "alpha": alpha, "out": str(out / f"alpha_{alpha:g}"),
                                         "no_distill": False, "cmd": "student"})
        # A student made from this alpha's very settings and inputs (make's own, say) stands for it,
        # by the check distill.py makes before training one again, if it kept its evaluations'
        # predictions (cross-selection needs them).
        made = distill.student_manifest(run_args)
        reused = next((f for f, m in trained.items() if m["config"]["alpha"] == alpha and all("predictions" in e for e in
                       m["curve"]) and files.finished(Path(f) / "metrics.json", made, f)), None)
        if reused:
            print(f"alpha {alpha:g}: {reused} was trained from these settings and inputs: used as it is")
        else:
            distill.cmd_student(run_args)
        m = files.read_json(Path(reused or run_args.out) / "metrics.json")
        results.append({"alpha": alpha, "run": str(reused or run_args.out),
                        "dev": {d: distill.score(r, args.task) for d, r in m["dev"].items()},
                        "cross_selected": cross_selected(m["curve"], gold, args.task, dev),
                        "n": len(gold), "curve": m["curve"]})
    files.save_json(out / "sweep.json", {"results": results, **files.provenance(args)})
    plot_sweep(out, results, args.task)


def score_name(task_key):
    """What distill.score is for the task, in words."""
    return "accuracy" if data.TASKS[task_key].metric == "acc" else "(accuracy + F1) / 2"


def sweep_table(results, task_key):
    """The sweep's numbers as a markdown table, for readers without matplotlib."""
    dev = data.dev_splits(task_key)[0]
    lines = [f"| alpha | dev-selected {score_name(task_key)} | cross-selected | one standard error |",
             "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['alpha']:g} | {100 * r['dev'][dev]:.2f} | {100 * r['cross_selected']:.2f} | "
                     f"{100 * standard_error(r['dev'][dev], r['n']):.2f} |")
    return "\n".join(lines)


def standard_error(p, n):
    """One standard error of an accuracy p on n dev examples, sqrt(p (1 - p) / n): differences
    inside it are noise (872 SST-2 dev sentences: about 1.1 points; 277 RTE pairs: about 3).  For
    MRPC's and QQP's (accuracy + F1) / 2, a rough guide of the same size."""
    return float(np.sqrt(p * (1 - p) / n))


def plot_sweep(out, results, task_key):
    """alpha.png: the best dev score against alpha, dev-selected and cross-selected, each with
    one standard error as its bar; alpha_curves.png: every alpha's train loss and dev score."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"the numbers are in {out / 'sweep.json'}; `pip install matplotlib` and run again for the plots")
        return
    dev = data.dev_splits(task_key)[0]
    metric = score_name(task_key)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, scores, style in (("dev-selected", [r["dev"][dev] for r in results], "o-"),
                                 ("cross-selected", [r["cross_selected"] for r in results], "s--")):
        ax.errorbar([r["alpha"] for r in results], [100 * p for p in scores], fmt=style, capsize=3, label=label,
                    yerr=[100 * standard_error(p, r["n"]) for p, r in zip(scores, results)])
    ax.set(xlabel="alpha (weight of the label loss, Eq. 1)", ylabel=f"best dev {metric} (%)",
           title=f"{data.TASKS[task_key].name}: distillation vs labels")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "alpha.png", dpi=120)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for r in results:
        epochs = [c["epoch"] for c in r["curve"]]
        left.plot(epochs, [c["train_loss"] for c in r["curve"]], label=f"alpha {r['alpha']:g}")
        right.plot(epochs, [100 * c["dev"][dev] for c in r["curve"]], label=f"alpha {r['alpha']:g}")
    left.set(xlabel="epoch", ylabel="train loss", yscale="log")
    right.set(xlabel="epoch", ylabel=f"dev {metric} (%)")
    right.legend()
    fig.tight_layout()
    fig.savefig(out / "alpha_curves.png", dpi=120)
    plt.close("all")
    print(f"plots -> {out / 'alpha.png'}, {out / 'alpha_curves.png'}")


# ----------------------------------------------------------------------------------------------
# The report: every number of a task's run in one file, results/<task>.json, read from the JSON
# each step wrote beside its output (nothing is typed by hand).

def cmd_report(args):
    run, out = Path(args.runs) / args.task, Path(args.out)
    read = lambda p: files.read_json(run / p)     # noqa: E731
    steps = {"teacher": read("teacher/metrics.json"), "augment": read("augmented.json"),
             "logits_train": read("logits/train.json"), "logits_augmented": read("logits/augmented.json"),
             "student": read("student/metrics.json"), "baseline": read("baseline/metrics.json"),
             "eval": read("student/eval.json")}
    dev = data.dev_splits(args.task)
    keep = lambda m: {k: m[k] for k in ("acc", "f1", "n") if k in m}     # noqa: E731
    result = {
        **files.provenance(args),                  # the report's own command; the steps' are below
        "task": args.task,
        "dev": {d: {"teacher": keep(steps["teacher"]["dev"][d]), "baseline": keep(steps["baseline"]["dev"][d]),
                    "student": keep(steps["student"]["dev"][d])} for d in dev},
        "parameters": {"teacher": steps["teacher"]["parameters"],
                       "student_without_embeddings": steps["student"]["parameters"],
                       "student_with_embeddings": steps["student"]["parameters_with_embeddings"]},
        "augmented": {k: steps["augment"][k] for k in ("originals", "written", "ratio")},
        "seconds": {name: round(s["seconds"], 1) for name, s in steps.items()},
        "peak_rss_mb": {name: s.get("peak_rss_mb") for name, s in steps.items()},
        # What each step got through per second here, so that anyone can scale the times above
        # to their own machine (a student's sentences count every epoch).
        "sentences_per_second": {name: s.get("sentences_per_second") for name, s in steps.items()
                                 if s.get("sentences_per_second")},
        "configs": {name: s["config"] for name, s in steps.items() if name != "eval"},
        "commands": {name: s.get("command") for name, s in steps.items()},
        "git_commits": {name: s.get("git_commit") for name, s in steps.items()},
    }
    result["seconds"]["total"] = round(sum(result["seconds"].values()), 1)
    evaluations = {"teacher": steps["teacher"]["history"], "baseline": steps["baseline"]["curve"],
                   "student": steps["student"]["curve"]}
    kept = {who: e for who, e in evaluations.items() if all("predictions" in x for x in e)}   # older runs: none
    # The student's data folder is this machine's (with KEPT the teacher ran on another).
    data_dir = steps["student"]["config"]["data_dir"]
    gold = {d: data.load_split(args.task, d, data_dir).label for d in dev}
    result["seeds"] = over_seeds(run, steps, args.task, gold[dev[0]])
    crossed = {d: {who: cross_selected_metrics(e, gold[d], args.task, d) for who, e in kept.items()} for d in dev}
    result["cross_selected"] = {d: {who: distill.score(m, args.task) for who, m in by.items()}
                                for d, by in crossed.items()} if kept else None
    if kept and data.TASKS[args.task].metric == "f1":          # accuracy and F1 apart
        result["cross_selected_parts"] = crossed
    if (run / "kept.json").exists():      # make <task> KEPT=...: the teacher's steps ran elsewhere
        record = read("kept.json")
        result["teacher_and_logits_kept"] = {k: record[k] for k in ("run", "command", "git_commit")}
    if (run / "make_wall.json").exists():        # written by results/sst2/run_make_sst2.sh
        result["make_wall"] = {k: v for k, v in read("make_wall.json").items()
                               if k.endswith("seconds") or k == "killed_at_batch"}
    files.save_json(out / f"{args.task}.json", result)
    for name in ("teacher", "student", "baseline"):
        files.save_json(out / args.task / f"{name}.json", steps[name])
    # The eval step's outputs as they are: its report, the errors, the GLUE test files of the
    # teacher, the student and the baseline.
    made = {p: p.name for p in [run / "student" / "eval.json", *(run / "student").glob("errors_*.tsv")] if p.exists()}
    made.update({p: p.relative_to(run) for p in (run / "glue").glob("*/*.tsv")})     # glue/<name>/<file>
    for path, name in made.items():
        (out / args.task / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out / args.task / name)
    sweep = sweep_of(run, steps["student"])
    if sweep:
        shutil.copyfile(run / "sweep" / "sweep.json", out / args.task / "sweep.json")
    task_figures(out / args.task, args.task, steps, sweep)
    for d in dev:
        row = result["dev"][d]
        print(f"{args.task} {d}: " + ", ".join(
            f"{who} {100 * distill.score(row[who], args.task):.2f}" for who in ("teacher", "baseline", "student")))
    print(f"-> {out / args.task}.json")
    if out.resolve() == RESULTS.resolve():       # not for `make quick` and other side runs
        # results/README.md, the page that explains the tables, is results/'s own: make <task>
        # refreshes it.  The other pages are refreshed by `make readme` alone, so that the main
        # command leaves every tracked file outside results/ as it was.
        write_results_page(out)


def same_settings(config, other, but):
    """Whether two saved configs agree on every setting but those named."""
    return {k: v for k, v in config.items() if k not in but} == {k: v for k, v in other.items() if k not in but}


def sweep_of(run, student):
    """runs/<task>/sweep/sweep.json (make sweep) when its students were trained with make's
    student's settings but alpha, else None (and a sweep with other settings is named)."""
    path = run / "sweep" / "sweep.json"
    if not path.exists():
        return None
    sweep = files.read_json(path)
    if not same_settings(sweep["config"], student["config"],
                         but=("cmd", "out", "alpha", "alphas", "reuse", "plot_only", "no_distill")):
        return print(f"{path} was run with other settings than {run / 'student'}: left out", file=sys.stderr)
    return sweep


# Each task's figures, as a replication would draw them: the learning curves of the student and
# the baseline with the teacher as a line, the confusion matrices of all three on dev and, where make sweep
# has run, the alpha sweep.  The numbers always go to <task>/figures.md as tables; the plots to
# curves.png, confusion.png and alpha.png when matplotlib is there (it is optional).

WHO = ("teacher", "baseline", "student")


def task_figures(out, task, steps, sweep=None):
    dev, labels = data.dev_splits(task)[0], data.TASKS[task].names
    metric = score_name(task)
    teacher = distill.score(steps["teacher"]["dev"][dev], task)
    curves = {who: [(c["epoch"], c["dev"][dev]) for c in steps[who]["curve"]] for who in ("student", "baseline")}
    confusion = {who: steps[who]["dev"][dev]["confusion"] for who in WHO}
    lines = [f"# {data.TASKS[task].name}: learning curves and confusion matrices (dev)", "",
             f"Dev {metric} (%) at each evaluation; the teacher's chosen checkpoint: {100 * teacher:.2f}.", ""]
    for who, points in curves.items():
        lines += [f"| {who}: epoch | dev |", "|---|---|", *(f"| {e:.2f} | {100 * v:.2f} |" for e, v in points), ""]
    for who in WHO:
        lines += [f"| {who}: gold \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        lines += [f"| {g} | " + " | ".join(str(n) for n in row) + " |" for g, row in zip(labels, confusion[who])] + [""]
    if sweep:
        lines += [f"The alpha sweep of Eq. 1 (`{sweep['command']}`, seed {sweep['config']['seed']}):", "",
                  sweep_table(sweep["results"], task), ""]
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures.md").write_text("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return print(f"the figures' numbers are in {out / 'figures.md'}; `pip install matplotlib` for the plots")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for who, points in curves.items():
        ax.plot([e for e, _ in points], [100 * v for _, v in points], "o-", markersize=3, label=who)
    ax.axhline(100 * teacher, color="gray", linestyle="--", label="teacher")
    ax.set(xlabel="epoch (over each one's own training set)", ylabel=f"dev {metric} (%)",
           title=f"{data.TASKS[task].name}: learning curves")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=120)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, who in zip(axes, WHO):
        m = np.array(confusion[who])
        ax.imshow(m, cmap="Blues")
        for (i, j), n in np.ndenumerate(m):
            ax.text(j, i, str(n), ha="center", va="center", color="white" if n > m.max() / 2 else "black")
        ax.set(title=who, xlabel="predicted", ylabel="gold", xticks=range(len(labels)), yticks=range(len(labels)),
               xticklabels=labels, yticklabels=labels)
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=120)
    plt.close("all")
    if sweep:
        plot_sweep(out, sweep["results"], task)


def figures_block(results_dir, link="results/", tasks=tuple(data.TASKS)):
    """A page's figures: each task's plots where they exist, else its tables.  link is the path
    from the page to results/ ("results/" from the top level, "" inside it)."""
    lines = []
    for task_key in tasks:
        folder = Path(results_dir) / task_key
        if not (folder / "figures.md").exists():
            continue
        name, at = data.TASKS[task_key].name, f"{link}{task_key}"
        if (folder / "curves.png").exists():
            lines.append(f"![{name} learning curves]({at}/curves.png) "
                         f"![{name} confusion matrices]({at}/confusion.png)"
                         + (f" ![{name} alpha sweep]({at}/alpha.png)"
                            if (folder / "alpha.png").exists() else ""))
        else:
            lines.append(f"{name}: [learning curves and confusion matrices]({at}/figures.md)")
    return "\n\n".join(lines)


def recorded_labels(evaluation, split):
    """The labels an evaluation of a learning curve or a teacher's history predicted on a dev
    split, kept in its record as a string of digits."""
    return np.array([int(c) for c in evaluation["predictions"][split]])


def cross_selected_metrics(evaluations, labels, task, split, seed=0):
    """Dev metrics no example of which helped choose the checkpoint they score: dev is split at
    random into two halves; the evaluation (of those made during training) with the best score
    on one half is measured on the other, both ways round, and each metric (accuracy, and F1 for
    MRPC and QQP) averaged over the two.  Ties go to the earliest evaluation.  The dev-selected
    figure (the best evaluation on all of dev) is the luckiest of them and flatters small dev sets."""
    labels = np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(labels))
    halves = (order[:len(order) // 2], order[len(order) // 2:])
    predictions = [recorded_labels(e, split) for e in evaluations]
    on = lambda rows, p: distill.metrics(task, p[rows], labels[rows])     # noqa: E731
    judged = []
    for pick, judge in (halves, halves[::-1]):
        best = max(range(len(predictions)), key=lambda k: (distill.score(on(pick, predictions[k]), task), -k))
        judged.append(on(judge, predictions[best]))
    return {k: float(np.mean([m[k] for m in judged])) for k in ("acc", "f1") if k in judged[0]}


def cross_selected(evaluations, labels, task, split, seed=0):
    """The cross-selected dev score: the score of cross_selected_metrics (it is linear in them)."""
    return distill.score(cross_selected_metrics(evaluations, labels, task, split, seed), task)


# Student's t for a 95% interval, by degrees of freedom (seeds - 1).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def over_seeds(run, steps, task, gold):
    """The student and the baseline over seeds: make's own run and each runs/<task>/seeds/<s>/
    (make seeds) trained with the same settings but the seed.  Mean and standard deviation of
    the main dev score, and the gain of distillation (student minus baseline of the same seed)
    with its 95% interval: for the dev-selected figures and, where every run kept its
    evaluations' predictions, the cross-selected ones; for MRPC and QQP also the means of
    accuracy and F1 apart ("parts").  None with fewer than two seeds."""
    main = data.dev_splits(task)[0]
    trained = {}
    for who in ("student", "baseline"):
        trained[who] = {steps[who]["config"]["seed"]: steps[who]}
        for path in sorted((run / "seeds").glob(f"*/{who}/metrics.json")):
            m = files.read_json(path)
            if not same_settings(m["config"], steps[who]["config"], but=("seed", "out")):
                print(f"{path} was trained with other settings than {run / who}: left out", file=sys.stderr)
            else:
                trained[who][m["config"]["seed"]] = m
    seeds = sorted(set(trained["student"]) & set(trained["baseline"]))
    if len(seeds) < 2:
        return None
    runs = [m for who in trained for k, m in trained[who].items() if k in seeds]
    kept = all("predictions" in e for m in runs for e in m["curve"])
    measured = {"dev_selected": {who: {k: m["dev"][main] for k, m in trained[who].items()} for who in trained},
                "cross_selected": {who: {k: cross_selected_metrics(trained[who][k]["curve"], gold, task, main)
                                         for k in seeds} for who in trained} if kept else None}
    result = {"seeds": seeds, **{kind: spread(seeds, {who: {k: distill.score(m, task) for k, m in by.items()}
                                                      for who, by in runs_by.items()}) if runs_by else None
                                 for kind, runs_by in measured.items()}}
    if data.TASKS[task].metric == "f1":          # the score's parts, for goals stated in accuracy and F1
        mean = lambda by: {p: float(np.mean([by[k][p] for k in seeds])) for p in ("acc", "f1")}   # noqa: E731
        result["parts"] = {kind: {who: mean(by) for who, by in runs_by.items()} if runs_by else None
                           for kind, runs_by in measured.items()}
    return result


def spread(seeds, scores):
    """Mean and standard deviation of each model's scores over the seeds; the gain of
    distillation, seed by seed, with its 95% interval (Student's t)."""
    gains = np.array([scores["student"][k] - scores["baseline"][k] for k in seeds])
    half = T95.get(len(seeds) - 1, 1.96) * gains.std(ddof=1) / np.sqrt(len(seeds))
    summary = {"gain_mean": gains.mean(), "gain_ci95": [gains.mean() - half, gains.mean() + half]}
    for who in ("student", "baseline"):
        values = np.array([scores[who][k] for k in seeds])
        summary.update({who: values.tolist(), f"{who}_mean": values.mean(), f"{who}_sd": values.std(ddof=1)})
    return {k: [float(x) for x in v] if isinstance(v, list) else float(v) for k, v in summary.items()}


# What Tang et al. (2019, Table 1; test sets, BERT-large teacher: their BiLSTM on the labels ->
# their distilled BiLSTM) and a TensorFlow replication of the paper's student report: quoted for
# comparison, marked as theirs wherever shown.  MNLI's by dev split, the others' by task.
TANG = {"sst2": "86.7 -> 90.7 (BERT-large 94.9)", "mrpc": "-", "rte": "-",
        "qqp": "acc 86.2 -> 88.1, F1 63.7 -> 68.2", "dev_matched": "68.7 -> 73.0",
        "dev_mismatched": "68.3 -> 72.6"}
REPLICATION = {"sst2": "83.6", "mrpc": "70.5", "rte": "51.6", "qqp": "-", "dev_matched": "-",
               "dev_mismatched": "-"}


def found_results(results_dir):
    """Every results/<task>.json there is, by task."""
    return {k: files.read_json(Path(results_dir) / f"{k}.json") for k in data.TASKS
            if (Path(results_dir) / f"{k}.json").exists()}


# `make <task> TEACHER=<name>` reports into results/<name>/ (the Makefile's RESULTS): its rows
# follow the default teacher's in the tables, named by their teacher.
def teacher_rows(results_dir):
    """[(teacher, task, results)]: every results/<task>.json (teacher None: the default), then
    every other named teacher's results/<name>/<task>.json (checkpoints.TEACHERS)."""
    rows = [(None, k, r) for k, r in found_results(results_dir).items()]
    for teacher in checkpoints.TEACHERS:
        if teacher == "minilm":         # the default: its results are results/<task>.json
            continue
        rows += [(teacher, k, r) for k, r in found_results(Path(results_dir) / teacher).items()]
    return rows


def row_name(teacher, task_key, d="dev"):
    """A table row's name: the task, its dev split where it has two (MNLI's matched and
    mismatched), and the teacher where it is not the default one."""
    name = data.TASKS[task_key].name + ("" if d == "dev" else f" {d.replace('dev_', '')}")
    return name + (f", {teacher} teacher" if teacher else "")


def results_table(results_dir):
    """The results of docs/results.md and results/README.md: every results/<task>.json there is,
    in two tables.  The first is make's own run (seed 0), each model's checkpoint the best on all
    of dev, as papers report; the second is what a reader can trust: means over seeds,
    dev-selected beside cross-selected."""
    found = teacher_rows(results_dir)
    fmt = lambda m: f"{100 * m['acc']:.1f}" + (f" (F1 {100 * m['f1']:.1f})" if "f1" in m else "")  # noqa: E731
    lines = ["| task (dev) | teacher (ours) | BiLSTM, labels only (ours) | distilled BiLSTM (ours) "
             "| Tang et al.: BiLSTM -> distilled (test) | TF replication |",
             "|---|---|---|---|---|---|"]
    for named, task_key, r in found:
        teacher = r["configs"]["teacher"]["teacher"]
        for d, row in r["dev"].items():
            name = row_name(named, task_key, d)
            theirs = d if task_key == "mnli" else task_key
            lines.append(f"| {name} | {fmt(row['teacher'])} ({teacher}) | {fmt(row['baseline'])} | "
                         f"{fmt(row['student'])} | {TANG[theirs]} | {REPLICATION[theirs]} |")
    lines += ["", "| task (dev) | score | teacher | BiLSTM, labels only | distilled BiLSTM | gain of distillation "
              "(95% interval) | seeds |", "|---|---|---|---|---|---|---|"]
    for teacher, task_key, r in found:
        lines.append(table_row([row_name(teacher, task_key), *trust_cells(task_key, r)]))
    flattery = []
    for teacher, task_key, r in found:
        seeds = r.get("seeds")
        if seeds and seeds["cross_selected"]:
            by = {who: 100 * (seeds["dev_selected"][f"{who}_mean"] - seeds["cross_selected"][f"{who}_mean"])
                  for who in ("student", "baseline")}
            flattery.append(f"{row_name(teacher, task_key)} student {by['student']:+.1f}, "
                            f"baseline {by['baseline']:+.1f}")
    if flattery:
        lines += ["", "Choosing each checkpoint on all of dev flatters the mean over seeds by (points): "
                  + "; ".join(flattery) + "."]
    sentences = (parts_sentence(row_name(teacher, k), k, r) for teacher, k, r in found)
    lines += ["\n" + sentence for sentence in sentences if sentence]
    return "\n".join(lines)


def parts_sentence(label, task_key, r):
    """For MRPC and QQP, whose score is the mean of accuracy and F1: the two apart, as in the
    second table (dev-selected / cross-selected, the BiLSTMs' figures means over seeds); None for
    the other tasks and where make seeds has not run."""
    parts = (r.get("seeds") or {}).get("parts")
    if not parts:
        return None
    main = data.dev_splits(task_key)[0]
    kinds = {"teacher": [r["dev"][main]["teacher"], (r.get("cross_selected_parts") or {}).get(main, {}).get("teacher")],
             **{who: [(parts[k] or {}).get(who) for k in ("dev_selected", "cross_selected")]
                for who in ("baseline", "student")}}
    pair = lambda who, p: " / ".join(f"{100 * m[p]:.1f}" if m else "-" for m in kinds[who])    # noqa: E731
    cells = [f"{name}: accuracy {pair(who, 'acc')}, F1 {pair(who, 'f1')}" for who, name in
             (("teacher", "teacher"), ("baseline", "BiLSTM, labels only"), ("student", "distilled BiLSTM"))]
    return (f"{label}'s accuracy and F1 apart (dev-selected / cross-selected; the "
            "BiLSTMs' figures are means over seeds): " + "; ".join(cells) + ".")


def table_row(cells):
    """A markdown table's row."""
    return "| " + " | ".join(cells) + " |"


def trust_cells(task_key, r, kinds=("dev_selected", "cross_selected")):
    """One task's row of the second table but its name: each cell its kinds' figures,
    'dev-selected / cross-selected' by default ("-" where a run predates cross-selection); mean ±
    standard deviation over the seeds where make seeds ran, make's one run where not."""
    main = data.dev_splits(task_key)[0]
    seeds = r.get("seeds")
    single = {"dev_selected": {who: distill.score(r["dev"][main][who], task_key) for who in WHO},
              "cross_selected": (r.get("cross_selected") or {}).get(main, {})}
    pct = lambda x: f"{100 * x:.1f}"     # noqa: E731
    cell = lambda figures: " / ".join("-" if f is None else f for f in figures)     # noqa: E731
    of_one_run = lambda who: cell([pct(single[k][who]) if who in single[k] else None for k in kinds])   # noqa: E731
    if not seeds:
        return [score_name(task_key), *map(of_one_run, WHO), "-", "1"]
    spread_of = lambda who: cell([f"{pct(seeds[k][who + '_mean'])} ± {pct(seeds[k][who + '_sd'])}"   # noqa: E731
                                  if seeds[k] else None for k in kinds])
    gain = cell([f"{100 * seeds[k]['gain_mean']:+.1f} ({100 * seeds[k]['gain_ci95'][0]:+.1f} to "
                 f"{100 * seeds[k]['gain_ci95'][1]:+.1f})" if seeds[k] else None for k in kinds])
    return [score_name(task_key), of_one_run("teacher"), spread_of("baseline"),
            spread_of("student"), gain, str(len(seeds["seeds"]))]


def headline_table(results_dir):
    """The README's one table: per task, the cross-selected figures (no dev example helped choose
    the checkpoint it scores), means ± standard deviations over seeds where make seeds ran, and
    beside them what Tang et al. report, marked as theirs."""
    lines = ["| task (dev) | score | teacher | BiLSTM, labels only | distilled BiLSTM | gain of distillation "
             "(95% interval) | seeds | Tang et al. (test, BERT-large teacher): BiLSTM -> distilled |",
             "|---|---|---|---|---|---|---|---|"]
    for teacher, task_key, r in teacher_rows(results_dir):
        theirs = data.dev_splits(task_key)[0] if task_key == "mnli" else task_key
        cells = trust_cells(task_key, r, kinds=("cross_selected",))
        lines.append(table_row([row_name(teacher, task_key), *cells, TANG[theirs]]))
    return "\n".join(lines)


# Settings that name a file or folder: two runs differ in them without differing in what they do.
PATHS = ("out", "teacher_dir", "input", "train_logits", "augmented", "augmented_logits")


def differences(configs, made):
    """What a side run's saved configs set otherwise than make's, step by step: 'augment: n_iter
    20; student: epochs 6' (steps that differ alike are named together).  Only settings both
    configs hold are compared: a setting one of them lacks comes from other code, not a lever."""
    by = {}
    for step, config in configs.items():
        other = made.get(step, {})
        diff = ", ".join(f"{k} {v}" for k, v in sorted(config.items())
                         if k in other and k not in PATHS + ("seed",) and other[k] != v)
        if diff:
            by.setdefault(diff, []).append(step)
    return "; ".join(f"{', '.join(steps)}: {diff}" for diff, steps in by.items()) or "nothing"


def levers_table(results_dir, experiments_dir):
    """The levers tried: every side run kept below experiments/ (a <task>.json in a folder, made
    by a script there) in a row under make's own (results/<task>.json), with what it set
    otherwise and the cells of the second results table.  make quick's runs are a demo, not
    levers: left out."""
    results_dir, experiments_dir = Path(results_dir), Path(experiments_dir)
    lines = []
    for task_key in data.TASKS:
        side = sorted(p for p in experiments_dir.glob(f"*/**/{task_key}.json")
                      if "quick" not in p.relative_to(experiments_dir).parts)
        if not side or not (results_dir / f"{task_key}.json").exists():
            continue
        made = files.read_json(results_dir / f"{task_key}.json")
        lines.append(table_row([f"make {task_key}", "-", *trust_cells(task_key, made)]))
        for path in side:
            r = files.read_json(path)
            if "configs" not in r:
                raise ValueError(f"{path}: no 'configs'; expected what `python -m tools.report results` writes")
            changed = differences(r["configs"], made["configs"])
            folder = f"`{path.parent.relative_to(experiments_dir)}/`"
            lines.append(table_row([folder, changed, *trust_cells(task_key, r)]))
    head = ["| run | what it sets otherwise than make | score | teacher | BiLSTM, labels only | distilled BiLSTM "
            "| gain of distillation (95% interval) | seeds |", "|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + lines) if lines else ""


def speed_levers_table(path):
    """experiments/sst2/levers/levers.json as a table: each setting's sentences/s in each round."""
    levers = files.read_json(path)
    lines = [f"| setting ({levers['threads']} CPU threads) | sentences/s, round by round |",
             "|---|---|"]
    lines += [table_row([name, " / ".join(f"{v:,.0f}" for v in rounds)])
              for name, rounds in levers["sentences_per_second"].items()]
    return "\n".join(lines)


def time_sentence(results_dir):
    """How long the recorded make sst2 took, from results/sst2.json, for the README."""
    r = files.read_json(Path(results_dir) / "sst2.json")
    return (f"The steps of the recorded `make sst2` took {r['seconds']['total'] / 60:.1f} minutes in all "
            "(`seconds` in [results/sst2.json](results/sst2.json); step by step in [docs/speed.md](docs/speed.md)).")


BOUNDS = {"at_least": operator.ge, "above": operator.gt, "at_most": operator.le}


def goals_table(goals_file, root):
    """The goals an experiment's page sets (its goals.json), each beside the figure measured in
    results/ and whether it is met: the page's verdicts come from the numbers, never typed.  A
    goal names its results file, the figure (a dotted path into that JSON, in fractions), an
    optional figure to subtract from it, and one bound (at_least, above or at_most, in points)."""
    rows = ["| goal | made by | measured | met |", "|---|---|---|---|"]
    for goal in files.read_json(goals_file)["goals"]:
        bounds = [b for b in BOUNDS if b in goal]
        missing = [k for k in ("goal", "made_by", "results", "figure") if k not in goal]
        if missing or len(bounds) != 1:
            raise ValueError(f"{goals_file}: the goal {goal.get('goal')!r} needs goal, made_by, "
                             f"results, figure and one of {', '.join(BOUNDS)}")
        measured, met = f"not measured: no {goal['results']}", "not yet"
        path = Path(root) / goal["results"]
        if path.exists():
            value = figure_of(files.read_json(path), goal)
            if value is None:           # make <task> ran, make seeds not yet
                measured = f"not measured: no {goal['figure']} in {goal['results']}"
            else:
                measured = f"{value:.2f}"
                met = "yes" if BOUNDS[bounds[0]](value, goal[bounds[0]]) else "no"
        rows.append(f"| {goal['goal']} | `{goal['made_by']}` | {measured} | {met} |")
    return "\n".join(rows)


def figure_of(record, goal):
    """A goal's figure in points (less its `minus` figure), None where the record lacks it."""
    try:
        value = 100 * dotted(record, goal["figure"])
        if "minus" in goal:
            value -= 100 * dotted(record, goal["minus"])
    except (KeyError, IndexError, TypeError):
        return None
    return round(value, 9)          # 100 * 0.035 is 3.5000000000000004 in floats


def dotted(record, figure):
    """record["a"]["b"][0] for figure "a.b.0"."""
    for key in figure.split("."):
        record = record[int(key)] if isinstance(record, list) else record[key]
    return record


# ----------------------------------------------------------------------------------------------
# The pages' generated blocks.  A page holds each between <!-- name:begin --> and <!-- name:end -->;
# `make readme` (python -m tools.report readme) writes them all from results/ and experiments/,
# results/README.md is written whole, and a test checks that every one is what would be written.

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"


def generated_blocks(root=ROOT):
    """{page: {block: text}} for every block whose sources exist under root (a handout has no
    results/ nor experiments/: then none)."""
    results, experiments = Path(root) / "results", Path(root) / "experiments"
    pages = {"README.md": {}, "docs/results.md": {}, "docs/speed.md": {}, "experiments/README.md": {}}
    if found_results(results):
        pages["README.md"]["results"] = headline_table(results)
        pages["docs/results.md"]["results"] = results_table(results)
        pages["experiments/README.md"]["levers"] = levers_table(results, experiments)
    if any(results.glob("*/figures.md")):
        pages["README.md"]["figures"] = figures_block(results, "results/", tasks=("sst2",))
        pages["docs/results.md"]["figures"] = figures_block(results, "../results/")
    if (results / "sst2.json").exists():
        pages["README.md"]["time"] = time_sentence(results)
    if (results / "bench.json").exists():
        last = results / "sst2.json"
        pages["docs/speed.md"]["bench"] = bench.tables(files.read_json(results / "bench.json"),
                                                       files.read_json(last) if last.exists() else None)
    for goals in sorted(experiments.glob("*/goals.json")):
        page = goals.parent / "README.md"
        pages.setdefault(str(page.relative_to(root)), {})["goals"] = goals_table(goals, root)
    if (experiments / "sst2" / "levers" / "levers.json").exists():
        pages["docs/speed.md"]["levers"] = speed_levers_table(experiments / "sst2" / "levers" / "levers.json")
    return {page: blocks for page, blocks in pages.items() if blocks}


def results_page(results_dir):
    """results/README.md, whole: what the folder holds, the two tables and the figures."""
    return "\n".join([
        "# results/: what `make` wrote",
        "",
        "Written by `python -m tools.report results` at the end of each `make <task>` (and by `make "
        "readme`); nothing here is typed by hand.  Per task: `<task>.json` (every number of the run, the "
        "commands and settings of each step), `<task>/teacher.json`, `student.json` (with its learning "
        "curve) and `baseline.json`, `<task>/eval.json`, `<task>/errors_dev.tsv` (misclassified dev "
        "examples, with the teacher's and the student's predictions), `<task>/errors.md` and "
        "`errors.json` (the dev errors by kind, and what distillation fixed: `python -m tools.errors`), "
        "`<task>/glue/<model>/` (GLUE test "
        "files for the server), the figures with their numbers in `<task>/figures.md`, and `sweep.json` "
        "where `make sweep` ran.  `bench.json` is `make bench`'s speed table; `quick/` is `make quick`'s run.  "
        "A saved command names the files of the commit it ran at (`git_commit` beside it): an older "
        "one says `python report.py` for today's `python -m tools.report`.",
        "",
        "Dev-set scores.  The first table is one `make <task>` each (seed 0), each model's checkpoint "
        "the best of its evaluations on all of dev (*dev-selected*), beside what Tang et al. and a "
        "TensorFlow replication of the student report (their numbers, not ours).  In the second each "
        "cell is *dev-selected / cross-selected*: the checkpoint chosen on one half of dev and scored on the other, both ways "
        "round, so that no example helped choose the checkpoint it scores; with several seeds, mean ± "
        "standard deviation and the gain of distillation with its 95% interval.  How they are chosen, "
        "and why to trust the second: [docs/results.md](../docs/results.md).",
        "",
        "<!-- results:begin -->", results_table(results_dir), "<!-- results:end -->",
        "",
        "<!-- figures:begin -->", figures_block(results_dir, ""), "<!-- figures:end -->",
        ""])


def block_of(text, name):
    """The text between a page's lines <!-- name:begin --> and <!-- name:end -->; None without."""
    begin, end = f"<!-- {name}:begin -->\n", f"\n<!-- {name}:end -->"
    if begin not in text or end not in text.split(begin, 1)[1]:
        return None
    return text.split(begin, 1)[1].split(end, 1)[0]


def update_blocks(page, blocks):
    """Write each block's text between its markers in the page, so that the page's numbers are
    always the ones in results/ and experiments/."""
    old = text = Path(page).read_text()
    for name, new in blocks.items():
        if block_of(text, name) is None:
            raise ValueError(f"{page}: no line '<!-- {name}:begin -->' followed by a line '<!-- {name}:end -->'; "
                             "expected them around the generated block")
        begin, end = f"<!-- {name}:begin -->\n", f"\n<!-- {name}:end -->"
        head, rest = text.split(begin, 1)
        text = head + begin + new + end + rest.split(end, 1)[1]
    if text != old:
        Path(page).write_text(text)
        print(f"-> {page}")


def cmd_readme(args):
    """make readme: every generated block of README.md, docs/ and experiments/README.md, and
    results/README.md, from results/ and experiments/."""
    for page, blocks in generated_blocks(ROOT).items():
        update_blocks(ROOT / page, blocks)
    if found_results(RESULTS):
        write_results_page(RESULTS)


def write_results_page(results_dir):
    """results/README.md, written where it is not what results/ says."""
    page = Path(results_dir) / "README.md"
    text = results_page(results_dir)
    if not page.exists() or page.read_text() != text:
        page.write_text(text)
        print(f"-> {page}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("results", help="gather a task's step outputs into results/<task>.json")
    c.add_argument("--task", default="sst2", choices=sorted(data.TASKS))
    c.add_argument("--runs", default="runs")
    c.add_argument("--out", default="results")
    c.set_defaults(func=cmd_report)
    sub.add_parser("readme", help="the tables of README.md, docs/ and experiments/README.md, from results/ "
                   "and experiments/ (make readme)").set_defaults(func=cmd_readme)
    c = distill.common_flags(sub.add_parser("sweep", help="students for several alphas; plots of dev score "
                                            "against alpha and the curves"))
    distill.student_flags(c)
    c.add_argument("--alphas", type=float, nargs="+", default=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    c.add_argument("--plot-only", action="store_true", help="redraw the plots from <out>/sweep.json")
    c.add_argument("--reuse", nargs="*", default=[], help="students already trained (make's): one trained with "
                   "an alpha's very settings stands for it instead of training it again")
    c.add_argument("--out", default=None, help="default runs/<task>/sweep")
    c.set_defaults(func=cmd_sweep)
    args = p.parse_args(argv)
    if args.cmd == "sweep":
        args.out = args.out or str(Path("runs") / args.task / "sweep")
        args = distill.with_defaults(args)
    args.func(args)


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"error: {error}")
