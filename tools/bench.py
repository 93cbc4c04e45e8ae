"""bench.py -- the paper's Table 2 on this machine: parameters and inference speed of the
student, of the teacher in use, and of BERT-base- and BERT-large-shaped models, all measured in
three runs in a row on SST-2 dev (the table shows the worst); then the time and peak memory of
each step of the last `make sst2`.

    python -m tools.bench          # or: make bench; then make readme puts it in docs/speed.md

Speed does not depend on the values of the weights, so the BERT-shaped models are randomly
initialised (no download) and the student is too when no trained one exists.  Inputs are
encoded before the clock starts: we time the models, not the tokenizers.
"""
import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import data
import distill
from machinery import files
import models

BERT_BASE = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072, "max_position_embeddings": 512, "type_vocab_size": 2}
BERT_LARGE = dict(BERT_BASE, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)


def timed(run, batches, repeat_until=2.0):
    """Sentences per second over whole passes of the batches (at least one pass and at least
    repeat_until seconds), after one warm-up batch."""
    run(batches[0])
    n, t0 = 0, time.perf_counter()
    while True:
        for b in batches:
            run(b)
            n += len(b)
        if time.perf_counter() - t0 > repeat_until:
            return n / (time.perf_counter() - t0)


@torch.no_grad()
def bench_bert(model, wordpiece, sentences, batch_size, bf16, latency_n):
    model.eval()
    encoded = [wordpiece.encode(s)[0] for s in sentences]

    def run(rows):
        ids, mask = data.pad([encoded[i] for i in rows])
        ids, mask = torch.from_numpy(ids), torch.from_numpy(mask)
        with distill.autocast(torch.device("cpu"), bf16):
            model(ids, torch.zeros_like(ids), mask)
    batches = data.length_batches([len(e) for e in encoded], batch_size)
    singles = [[i] for i in range(latency_n)]
    return timed(run, batches), 1000 / timed(run, singles, 1.0)


@torch.no_grad()
def bench_student(model, columns, batch_size, latency_n):
    model.eval()
    device = torch.device("cpu")
    run = lambda rows: model(*distill.student_inputs(columns, rows, device))     # noqa: E731
    batches = data.length_batches(columns[0].lengths, batch_size)
    return timed(run, batches), 1000 / timed(run, [[i] for i in range(latency_n)], 1.0)


def bench_models(args, dev, run):
    """The speed table's rows, measured args.repeat times in a row: the student, the teacher in
    use and the BERT shapes.  Each run times every model once, so a machine that slows down for
    a while slows all of them alike, and each run gives its own ratios."""
    # The student: the trained one if there is one (its vocabulary and sizes), else the paper's
    # 150/200 with random vectors.
    if (run / "student" / "student.pt").exists():
        student, vocab, cfg = distill.load_student(run / "student")
        origin = "trained, " + str(run / "student")
    else:
        vocab = data.Vocab.build(data.task_tokens(dev, "sst2")[0])
        student = models.BiLSTMStudent(np.random.default_rng(0).uniform(-.25, .25, (len(vocab), 50)), 2, 150, 200)
        origin = "random weights, 150/200 over 50d vectors"
    columns = data.words_of(dev, "sst2", vocab)
    teacher_dir = run / "teacher"
    teacher, wordpiece = distill.load_teacher(str(teacher_dir) if (teacher_dir / "teacher.pt").exists()
                                              else "minilm", 2)
    # The big shapes on the same 872 dev sentences as the student and the teacher (about 4
    # minutes a run for BERT-large), or on a random sample of them for a quicker look.
    n = args.bert_sentences or len(dev)
    sample = [dev.text_a[i] for i in sorted(np.random.default_rng(0).choice(len(dev), n, replace=False))]
    shapes = [("teacher in use (MiniLM-L6, 384)", teacher, dev.text_a),
              ("BERT-base shape (random)", models.Bert(BERT_BASE, 2), sample),
              ("BERT-large shape (random)", models.Bert(BERT_LARGE, 2), sample)]
    runs = []
    for k in range(args.repeat):
        speed, latency = bench_student(student, columns, args.batch_size, args.latency_sentences)
        rows = [{"model": "BiLSTM student", "note": origin, "precision": "fp32",
                 "parameters": models.count_parameters(student),
                 "parameters_without_embeddings": models.count_parameters(student, embeddings=False),
                 "sentences_per_second": speed, "latency_ms": latency, "sentences": len(dev)}]
        print(f"run {k + 1} of {args.repeat}:", rows[-1], file=sys.stderr)
        for name, model, sentences in shapes:
            for bf16 in (False, True):
                speed, latency = bench_bert(model, wordpiece, sentences, args.batch_size, bf16, args.latency_sentences)
                rows.append({"model": name, "precision": "bf16 autocast" if bf16 else "fp32",
                             "parameters": models.count_parameters(model), "sentences_per_second": speed,
                             "latency_ms": latency, "sentences": len(sentences)})
                print(f"run {k + 1} of {args.repeat}:", rows[-1], file=sys.stderr)
        for r in rows:
            r["student_speedup"] = rows[0]["sentences_per_second"] / r["sentences_per_second"]
        runs.append(rows)
    return runs, teacher, wordpiece


def worst_run(runs):
    """The run in which the student was fastest by the least against BERT-large in fp32 (the
    paper's comparison): the one the table shows."""
    large = next(i for i, r in enumerate(runs[0]) if r["model"].startswith("BERT-large") and r["precision"] == "fp32")
    return min(runs, key=lambda rows: rows[large]["student_speedup"])


def logits_speed(args, run, teacher, wordpiece):
    """The logits step (distill.py logits) as make runs it: batches of 256 augmented sentences,
    length-sorted, bf16 autocast.  None without runs/sst2/augmented.tsv."""
    augmented = run / "augmented.tsv"
    if not augmented.exists():
        return None, 0
    aug = data.read_tsv(augmented, "sst2")
    pick = np.random.default_rng(0).choice(len(aug), min(args.logits_sentences, len(aug)), replace=False)
    pairs = [(aug.text_a[i], None) for i in pick]
    t0 = time.perf_counter()
    distill.teacher_logits(teacher, wordpiece, pairs, 256, 128, True, torch.device("cpu"), desc="teacher logits")
    speed = len(pairs) / (time.perf_counter() - t0)
    print(f"teacher logits on {len(pairs):,} augmented SST-2 sentences: {speed:,.0f} sentences/s", file=sys.stderr)
    return speed, len(pairs)


def last_make(results):
    """Seconds and peak memory of each step of the last make sst2 ({} before one)."""
    path = Path(results) / "sst2.json"
    if not path.exists():
        return {}
    last = files.read_json(path)
    return {k: {"seconds": v, "peak_rss_mb": last["peak_rss_mb"].get(k)} for k, v in last["seconds"].items()}


def tables(measured, last=None):
    """docs/speed.md's speed block (make readme writes it): from results/bench.json (measured),
    the worst run's table with every run's ratios beside it and the teacher's logits step; from
    the last make sst2's results/sst2.json (last), each step's time and peak memory and the
    wall time."""
    runs = measured["runs"]
    rows = worst_run(runs)
    dev, n = rows[0]["sentences"], measured["bert_sentences"]
    table = ["| model | precision | parameters | sentences/s | batch-1 latency (ms) | student is faster by "
             f"| in each of the {len(runs)} runs |", "|---|---|---|---|---|---|---|"]
    table += [f"| {r['model']} | {r['precision']} | {r['parameters']:,} | {r['sentences_per_second']:,.1f} | "
              f"{r['latency_ms']:.2f} | {r['student_speedup']:,.0f}x | "
              + " / ".join(f"{run[i]['student_speedup']:,.0f}x" for run in runs) + " |" for i, r in enumerate(rows)]
    table.append(f"\n{len(runs)} runs in a row, each timing every model once; the table is the run in which the "
                 "student was fastest by the least against BERT-large in fp32.  "
                 f"Batches of {measured['batch_size']} sentences, "
                 + (f"every model on all {dev} dev sentences; " if n == dev else
                    f"the BERT shapes on {n} dev sentences drawn at random, the others on all {dev}; ")
                 + f"{measured['machine']}.  The "
                 f"student has {rows[0]['parameters_without_embeddings']:,} parameters besides its word vectors.")
    speed = measured.get("teacher_logits_augmented_sentences_per_second")
    if speed:
        table.append(f"\nThe teacher's logits step on {measured['config']['logits_sentences']:,} augmented SST-2 "
                     f"sentences (batches of 256, length-sorted, bf16 autocast): {speed:,.0f} sentences/s.")
    if last:
        table.append("\n| step of `make sst2` (results/sst2.json) | minutes | peak memory (MiB) |\n|---|---|---|")
        table += [f"| {k} | {v / 60:.1f} | {last['peak_rss_mb'].get(k) or '-'} |" for k, v in last["seconds"].items()]
    wall = (last or {}).get("make_wall")
    if wall:
        table.append(f"\nWall time of the recorded `make sst2` from a clean clone, installs included: "
                     f"{wall['wall_seconds'] / 60:.1f} min: killed at batch {wall.get('killed_at_batch', '?')} of the "
                     f"augmented logits after {wall['first_run_seconds'] / 60:.1f} min, then `make sst2` again, "
                     f"{wall['second_run_seconds'] / 60:.1f} min (`experiments/sst2/run_make_sst2.sh`).")
    return "\n".join(table)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--runs", default="runs")
    p.add_argument("--out", default="results/bench.json")
    p.add_argument("--batch-size", type=int, default=64, help="the same for every model")
    p.add_argument("--bert-sentences", type=int, default=0,
                   help="dev sentences timed for the BERT-base/large shapes (0: all 872, about 5 minutes a run)")
    p.add_argument("--latency-sentences", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3, help="runs in a row; the table shows the worst")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--logits-sentences", type=int, default=8192,
                   help="augmented sentences for the teacher-logits throughput")
    args = p.parse_args(argv)
    files.start(args, torch.manual_seed)
    dev = data.load_split("sst2", "dev", args.data_dir)
    run = Path(args.runs) / "sst2"
    runs, teacher, wordpiece = bench_models(args, dev, run)
    logits = logits_speed(args, run, teacher, wordpiece)
    rows = worst_run(runs)
    print(f"\n{'model':34} {'precision':14} {'parameters':>12} {'sentences/s':>12} {'batch-1 ms':>11} {'student is':>11}")
    for r in rows:
        print(f"{r['model']:34} {r['precision']:14} {r['parameters']:>12,} {r['sentences_per_second']:>12,.1f} "
              f"{r['latency_ms']:>11.2f} {r['student_speedup']:>10.1f}x")
    print(f"(the worst of {len(runs)} runs; student vs each model in every run: "
          + "; ".join(f"{r['model']} {r['precision']} " + "/".join(f"{run[i]['student_speedup']:.0f}x" for run in runs)
                      for i, r in enumerate(rows)) + ")")
    steps = last_make(Path(args.out).parent)
    n = args.bert_sentences or len(dev)
    files.save_json(args.out, {"rows": rows, "runs": runs, "batch_size": args.batch_size, "bert_sentences": n, "steps": steps,
                               "teacher_logits_augmented_sentences_per_second": logits[0],
                               "machine": f"{platform.processor() or platform.machine()}, "
                                          f"{torch.get_num_threads()} threads, torch {torch.__version__}",
                               **files.provenance(args)})


if __name__ == "__main__":
    main()
