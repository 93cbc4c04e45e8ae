"""estimate.py -- machinery a reader may skip: how long each step of `make <task>` will take on
this machine, told before the first one starts.

    python -m tools.estimate --task sst2       # distill.py's defaults; make passes its own settings

`make <task>` runs it once, before the teacher step, and keeps the table in runs/<task>/estimate.json.

A calibration of a few seconds: a few real batches of each kind of work in the chain are timed
here (a fine-tuning step of the teacher, the teacher's logits, a training step of the student),
then each rate is multiplied by the sentences its step will see, from the task's size and
make's settings.  The batches are the steps' own: the same batch sizes, the same batching, drawn
from short to long.  It is an estimate, not a promise: the student and the baseline stop early
when the dev score stops rising, and a machine busy with something else is slower than when it
was timed.  It never stops the chain: when something is missing it says why and exits 0.
"""
import argparse
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import data
import distill
from machinery import files
import models

# Augmented rows per original per try of augment.py, when no earlier run says: SST-2's run wrote
# 813,933 rows from 67,349 sentences with 20 tries (results/sst2.json), 0.6 a try; the other
# tries repeat an original or an earlier sample and are dropped.
ROWS_PER_TRY = 0.6

# Each step of the chain, the kind of work it does, and the file that says it is finished (the
# Makefile's targets).
STEPS = {"teacher": ("teacher training", "teacher/metrics.json"),
         "logits_train": ("teacher logits", "logits/train.npy"),
         "logits_augmented": ("teacher logits", "logits/augmented.npy"),
         "student": ("student training", "student/metrics.json"),
         "baseline": ("baseline training", "baseline/metrics.json")}


# ----------------------------------------------------------------------------------------------
# The arithmetic: sentences per step, times the rates.

def augmented_rows(train_rows, n_iter, recorded=None, written=None):
    """Augmented rows the augment step will write: its own count when it already ran (written),
    else the rows per try of an earlier run (recorded: a results/<task>.json), else ROWS_PER_TRY."""
    if written is not None:
        return int(written), "augment's own count"
    if recorded and "augmented" in recorded:
        aug = recorded["augmented"]
        tries = recorded.get("configs", {}).get("augment", {}).get("n_iter") or n_iter
        per_try = aug["written"] / aug["originals"] / tries
        return round(train_rows * n_iter * per_try), f"{per_try:.3f} rows per sentence per try, as in the recorded run"
    return round(train_rows * n_iter * ROWS_PER_TRY), f"{ROWS_PER_TRY} rows per sentence per try (no recorded run)"


def step_sizes(train_rows, teacher_epochs, augmented, student_epochs, baseline_epochs):
    """Sentences each step processes: the teacher reads the train split once an epoch, its logits
    are computed once for the train rows and once for the augmented ones, the student reads both
    every epoch, the baseline the train rows every epoch."""
    return {"teacher": train_rows * teacher_epochs,
            "logits_train": train_rows,
            "logits_augmented": augmented,
            "student": (train_rows + augmented) * student_epochs,
            "baseline": train_rows * baseline_epochs}


def plan(sizes, rates, done=()):
    """One row per step: its sentences, the measured rate of its kind of work and the minutes
    that makes; a finished step counts zero, a step whose rate could not be measured None."""
    rows = []
    for step, sentences in sizes.items():
        rate = rates.get(STEPS[step][0])
        minutes = 0.0 if step in done else (sentences / rate / 60 if rate else None)
        rows.append({"step": step, "sentences": sentences, "sentences_per_second": rate,
                     "minutes": minutes, "done": step in done})
    known = [r["minutes"] for r in rows if r["minutes"] is not None]
    return {"steps": rows, "total_minutes": sum(known), "complete": len(known) == len(rows)}


def table(estimate):
    lines = [f"{'step':18} {'sentences':>11} {'sentences/s':>12} {'minutes':>8}"]
    for r in estimate["steps"]:
        rate = f"{r['sentences_per_second']:,.1f}" if r["sentences_per_second"] else "-"
        minutes = "done" if r["done"] else (f"{r['minutes']:.1f}" if r["minutes"] is not None else "?")
        lines.append(f"{r['step']:18} {r['sentences']:>11,} {rate:>12} {minutes:>8}")
    total = f"{estimate['total_minutes']:.1f}" + ("" if estimate["complete"] else " + ?")
    lines.append(f"{'total':18} {'':>11} {'':>12} {total:>8}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# The calibration: a few batches of each kind of work, timed.

def spread(batches, lengths, k, seed=0):
    """k of the batches, evenly spaced in the order of their longest row, then shuffled: short
    and long batches alike, so that a few stand for all of them even if the time runs out."""
    by_length = sorted(batches, key=lambda b: max(lengths[i] for i in b))
    k = min(k, len(by_length))
    picked = [by_length[int((j + 0.5) * len(by_length) / k)] for j in range(k)]
    return [picked[i] for i in np.random.default_rng(seed).permutation(len(picked))]


def rate(step, batches, device, budget):
    """Sentences per second of step(batch) over the batches, after one warm-up batch; stops
    after `budget` seconds once two batches are timed."""
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()
    step(batches[0])
    sync()
    n, t0 = 0, time.perf_counter()
    for k, batch in enumerate(batches, start=1):
        step(batch)
        sync()
        n += len(batch)
        if k >= 2 and time.perf_counter() - t0 > budget:
            break
    return n / (time.perf_counter() - t0)


def teacher_rates(train, task, teacher, logits, device, budget):
    """The teacher step's fine-tuning and the logits step's inference, on the teacher make will
    fine-tune (its pretrained weights: speed does not depend on the values)."""
    model, wordpiece = distill.load_teacher(teacher.teacher, len(data.TASKS[task].labels))
    model.to(device)
    pairs = data.teacher_texts(train, task)
    labels, lengths = np.asarray(train.label), data.rough_lengths(pairs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=teacher.lr, fused=True)   # as cmd_teacher's

    def train_step(rows):
        model.train()
        with distill.autocast(device, teacher.bf16):
            z = model(*distill.bert_batch(wordpiece, [pairs[i] for i in rows], teacher.max_len, device))
        loss = F.cross_entropy(z.float(), torch.from_numpy(labels[rows]).to(device))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    @torch.no_grad()
    def logits_step(rows):
        model.eval()
        with distill.autocast(device, logits.bf16):
            model(*distill.bert_batch(wordpiece, [pairs[i] for i in rows], logits.max_len, device))
    epoch = data.length_batches(lengths, teacher.batch_size, seed=teacher.seed, pool=teacher.sort_pool)
    sorted_batches = data.length_batches(lengths, logits.batch_size)
    return {"teacher training": rate(train_step, spread(epoch, lengths, 8), device, budget),
            "teacher logits": rate(logits_step, spread(sorted_batches, lengths, 6), device, budget)}


def vector_size(path):
    """The width of the student's word vectors: GloVe 6B 50d unless --vectors names a file."""
    if not path:
        return 50
    with files.open_text(path) as f:
        first = f.readline().rstrip().split(" ")
    return int(first[1]) if len(first) == 2 else len(first) - 1


def student_rate(train, task, s, vocab, device, budget):
    """Training steps of the student as train_student takes them: its batches of the train
    rows, Eq. 1 (or the labels alone for the baseline), its optimizer.  Random word vectors of
    the real vocabulary's size: the values do not change the speed."""
    columns = data.words_of(train, task, vocab)
    vectors = np.random.default_rng(0).uniform(-0.25, 0.25, (len(vocab), vector_size(s.vectors))).astype(np.float32)
    labels = data.TASKS[task].labels
    model = models.BiLSTMStudent(vectors, len(labels), s.hidden, s.fc, s.dropout, not s.no_multichannel,
                                 s.pooling, pair=data.TASKS[task].text_b is not None).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = (torch.optim.Adadelta(params, lr=s.lr, rho=0.95) if s.optimizer == "adadelta"
                 else torch.optim.Adam(params, lr=s.lr, fused=True))
    gold = torch.from_numpy(np.asarray(train.label))
    teacher_z = torch.randn(len(train), len(labels))

    def step(rows):
        model.train()
        z = model(*distill.student_inputs(columns, rows, device))
        loss = distill.distill_loss(z, teacher_z[rows].to(device), gold[rows].to(device),
                                    1.0 if s.no_distill else s.alpha, s.loss, s.temperature)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    lengths = sum(c.lengths for c in columns)
    epoch = data.length_batches(lengths, s.batch_size, seed=s.seed * 1000)
    return rate(step, spread(epoch, lengths, 24), device, budget)


# ----------------------------------------------------------------------------------------------

def settings(args):
    """Each step's settings, read by distill.py's own parser from the flags make gives it."""
    common = ["--task", args.task, "--seed", str(args.seed)] + (["--data-dir", args.data_dir] if args.data_dir else [])
    limit = ["--limit", str(args.limit)]
    return {"teacher": distill.parse(["teacher", *common, *limit, *shlex.split(args.teacher_flags)]),
            "logits": distill.parse(["logits", *common, *shlex.split(args.logits_flags)]),
            "student": distill.parse(["student", *common, *limit, *shlex.split(args.student_flags)]),
            "baseline": distill.parse(["student", *common, *limit, "--no-distill", *shlex.split(args.baseline_flags)])}


def calibrate(args, s, train, need):
    """The rates of the kinds of work in `need`; a kind that cannot be timed (a teacher that is
    not there, say) is left out with the reason."""
    device, rates, why = torch.device(s["teacher"].device), {}, {}
    if need & {"teacher training", "teacher logits"}:
        try:
            rates.update(teacher_rates(train, args.task, s["teacher"], s["logits"], device, args.budget))
        except Exception as error:                  # left out, with the reason
            why["teacher"] = f"{type(error).__name__}: {error}"
    vocab, timed = None, {}
    for kind, name in (("student training", "student"), ("baseline training", "baseline")):
        if kind not in need:
            continue
        st = s[name]
        key = (st.batch_size, st.hidden, st.fc, st.pooling, st.optimizer, st.no_multichannel, st.vectors)
        try:
            vocab = vocab or data.task_vocab(args.task, args.data_dir)
            timed[key] = timed.get(key) or student_rate(train, args.task, st, vocab, device, args.budget)
            rates[kind] = timed[key]
        except Exception as error:                  # left out, with the reason
            why[name] = f"{type(error).__name__}: {error}"
    return rates, why


def run(args):
    t0 = time.time()
    s = settings(args)
    run_dir = Path(args.runs) / args.task
    recorded_path = Path(args.recorded or Path(__file__).resolve().parent.parent / "results" / f"{args.task}.json")
    recorded = files.read_json(recorded_path) if recorded_path.exists() else None
    own = run_dir / "augmented.json"
    train = data.head(data.load_split(args.task, "train", args.data_dir), args.limit)
    n_iter = args.n_iter or (20 if data.TASKS[args.task].text_b is None else 10)    # augment.py's default
    augmented, source = augmented_rows(len(train), n_iter, recorded,
                                       files.read_json(own)["written"] if own.exists() else None)
    sizes = step_sizes(len(train), s["teacher"].epochs, augmented, s["student"].epochs, s["baseline"].epochs)
    done = {step for step, (_, output) in STEPS.items() if (run_dir / output).exists()}
    teacher, student = s["teacher"], s["student"]
    print(f"estimate: {args.task}, {len(train):,} train rows x {n_iter} augmentation tries -> {augmented:,} "
          f"augmented rows ({source}); teacher {teacher.teacher}, epochs {teacher.epochs}, batch {teacher.batch_size}; "
          f"logits batch {s['logits'].batch_size}; student {student.hidden}/{student.fc}, batch {student.batch_size}, "
          f"epochs {student.epochs}; baseline epochs {s['baseline'].epochs}; {teacher.device}, "
          f"{torch.get_num_threads()} threads", file=sys.stderr)
    rates, why = calibrate(args, s, train, {STEPS[step][0] for step in sizes if step not in done})
    estimate = plan(sizes, rates, done)
    print(f"\nTime of each step of make {args.task} on this machine, from {time.time() - t0:.0f}s of calibration "
          f"(the student and the baseline may stop early):\n{table(estimate)}")
    for name, reason in why.items():
        print(f"  {name}: not timed ({reason})")
    others = {k: v for k, v in (recorded or {}).get("seconds", {}).items() if k not in STEPS and k != "total"}
    if others:
        print("  not estimated: " + ", ".join(f"{k} ({v / 60:.1f} min in the recorded run)" for k, v in others.items()))
    files.save_json(args.out or run_dir / "estimate.json", {
        **estimate, "task": args.task, "train_rows": len(train), "augmented_rows": augmented,
        "augmented_from": source, "not_timed": why, "calibration_seconds": round(time.time() - t0, 1),
        "machine": f"{platform.processor() or platform.machine()}, {s['teacher'].device}, "
                   f"{torch.get_num_threads()} threads, torch {torch.__version__}",
        "settings": {k: {n: v for n, v in vars(a).items() if n != "func"} for k, a in s.items()}})
    return estimate


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="sst2", choices=sorted(data.TASKS))
    p.add_argument("--data-dir", default=None)
    p.add_argument("--limit", type=int, default=0, help="the first N train rows only, as make's LIMIT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-iter", type=int, default=None, help="augment.py's tries per sentence (default: its own)")
    # The steps' flags as make gives them; left out, distill.py's own defaults (the paper's).
    p.add_argument("--teacher-flags", default="", help="the flags of `distill.py teacher`")
    p.add_argument("--logits-flags", default="", help="the flags of `distill.py logits`")
    p.add_argument("--student-flags", default="", help="the flags of `distill.py student`")
    p.add_argument("--baseline-flags", default="", help="the flags of `distill.py student --no-distill`")
    p.add_argument("--runs", default="runs", help="make's RUNS: finished steps are counted as done")
    p.add_argument("--recorded", default=None, help="an earlier run's results JSON (default results/<task>.json)")
    p.add_argument("--budget", type=float, default=3.0, help="about the seconds spent timing each kind of work")
    p.add_argument("--out", default=None, help="default runs/<task>/estimate.json")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (Exception, SystemExit) as error:        # an estimate never stops the chain (nor a bad flag)
        print(f"estimate: none this time ({type(error).__name__}: {error}); each step still prints "
              f"its own time left", file=sys.stderr)
        return None


if __name__ == "__main__":
    main()
