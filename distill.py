"""distill.py -- chapter 4: the teacher, its logits, Eq. 1 and the student (Tang et al. 2019).

One script, one sub-command per step of the method, each runnable on its own:

    python distill.py teacher --task sst2     # fine-tune BERT on the task (the teacher)
    python distill.py logits  --task sst2 --input runs/sst2/augmented.tsv   # cache its logits
    python distill.py student --task sst2     # train the BiLSTM on them (Eq. 1); --no-distill: labels only
    python distill.py eval    --run runs/sst2/student runs/sst2/baseline   # metrics, errors, GLUE files

Every step prints its settings and saves them with its metrics, command and input manifest beside its
output; run again, it resumes.  Under `torchrun`, parallel.py splits the logits and student steps over processes.
"""
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from machinery import checkpoints
import data
from machinery import files
from machinery import flags
import models
from machinery import parallel


# ----------------------------------------------------------------------------------------------
# Section 4: GLUE's metrics, and the teacher's input.

def metrics(task_key, predictions, labels):
    """GLUE's metrics: accuracy; for MRPC and QQP also F1 of the positive class (label 1).
    The confusion matrix has gold labels as rows and predictions as columns."""
    # BEGIN EXERCISE 7: accuracy, the confusion matrix and, for the F1 tasks, F1 of label 1
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    k = len(data.TASKS[task_key].labels)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (labels, predictions), 1)
    out = {"acc": float((predictions == labels).mean()) if len(labels) else 0.0,
           "confusion": confusion.tolist(), "n": int(len(labels))}
    if data.TASKS[task_key].metric == "f1":
        tp, fp, fn = confusion[1, 1], confusion[0, 1], confusion[1, 0]
        out["f1"] = float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0
    return out
    # END EXERCISE 7


def score(m, task_key):
    """The one number we select checkpoints by: accuracy; for MRPC and QQP, GLUE's combined score,
    the mean of accuracy and F1 (F1 alone rewards calling every pair a paraphrase)."""
    return (m["acc"] + m["f1"]) / 2 if data.TASKS[task_key].metric == "f1" else m["acc"]


def bert_batch(wordpiece, pairs, max_len, device):
    return [torch.from_numpy(x).to(device) for x in data.bert_inputs(wordpiece, pairs, max_len)]


def autocast(device, bf16):
    """bf16 autocast: on CPUs with bf16 matrix units BERT runs faster (`make bench` times both)."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


# ----------------------------------------------------------------------------------------------
# Step 1: the teacher.  BERT fine-tuned on the task's train split (Devlin et al. 2019):
# AdamW, linear warm-up then linear decay, the best dev checkpoint kept.

def cmd_teacher(args):
    files.start(args, torch.manual_seed)
    device, out = torch.device(args.device), Path(args.out)
    inputs = {"train": data.split_path(args.task, "train", args.data_dir), "teacher": checkpoints.weights_file(args.teacher),
              **{d: data.split_path(args.task, d, args.data_dir) for d in data.dev_splits(args.task)}}
    made = files.manifest(args, inputs)
    if files.matches(out / "metrics.json", made, out):
        return print(f"{out} is trained from these settings and inputs: nothing to do")
    files.writable(out, stale=out / "metrics.json")
    train = data.head(data.load_split(args.task, "train", args.data_dir), args.limit)
    model, vocab_path = checkpoints.load_teacher(args.teacher, len(data.TASKS[args.task].labels))
    # No weight decay on biases and LayerNorms; fused: one kernel updates every tensor, a fraction of the CPU's time.
    groups = [{"params": [p for p in model.parameters() if p.ndim > 1], "weight_decay": args.weight_decay},
              {"params": [p for p in model.parameters() if p.ndim <= 1], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=args.lr, fused=True)
    steps_per_epoch = -(-len(train) // args.batch_size)
    total, warmup = steps_per_epoch * args.epochs, int(args.warmup * steps_per_epoch * args.epochs)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    state = checkpoints.load_training(out / "last.pt", made, model=model, optimizer=optimizer, schedule=schedule) \
        or {"epoch": 0, "batch": 0, "step": 0, "best": None, "history": [], "seconds": 0.0}
    fine_tune(model.to(device), data.WordPiece(vocab_path), train, optimizer, schedule, state, args, made)
    report = {**files.read_json(out / "best.json"), "history": state["history"], "seconds": state["seconds"],
              "sentences_per_second": len(train) * args.epochs / state["seconds"],
              "parameters": models.count_parameters(model), "manifest": made, **files.provenance(args)}
    files.save_json(out / "metrics.json", report)             # written last: the step is finished
    (out / "last.pt").unlink()
    print(f"best dev score {100 * state['best']:.2f}; teacher saved in {out}")


def fine_tune(model, wordpiece, train, optimizer, schedule, state, args, made):
    """Cross-entropy on random batches, dev evaluated args.evals_per_epoch times an epoch, the
    best teacher kept.  `last.pt` holds everything needed to continue after the last evaluation
    (the batches of an epoch follow from the seed), so a rerun resumes there."""
    pairs, labels, device, out, t0 = data.teacher_texts(train, args.task), np.asarray(train.label), \
        torch.device(args.device), Path(args.out), time.time() - state["seconds"]
    dev = {d: data.load_split(args.task, d, args.data_dir) for d in data.dev_splits(args.task)}
    per_epoch = -(-len(pairs) // args.batch_size)
    eval_at = {round(per_epoch * (i + 1) / args.evals_per_epoch) for i in range(args.evals_per_epoch)}
    while state["epoch"] < args.epochs:
        batches = data.length_batches(data.rough_lengths(pairs), args.batch_size, seed=args.seed + state["epoch"],
                                      pool=args.sort_pool)
        bar = files.Progress(len(pairs), f"teacher epoch {state['epoch'] + 1}", "sentences",
                             start=sum(len(b) for b in batches[:state["batch"]]))
        for k, batch in enumerate(batches[state["batch"]:], start=state["batch"] + 1):    # k: batches done
            model.train()
            with autocast(device, args.bf16):
                logits = model(*bert_batch(wordpiece, [pairs[i] for i in batch], args.max_len, device))
            loss = F.cross_entropy(logits.float(), torch.from_numpy(labels[batch]).to(device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            state["step"] += 1
            bar.update(len(batch))
            if k in eval_at:
                predicted = {d: teacher_logits(model, wordpiece, data.teacher_texts(s, args.task), args.batch_size,
                                               args.max_len, args.bf16, device, desc=f" eval {d}")[0].argmax(1)
                             for d, s in dev.items()}
                result = {d: metrics(args.task, predicted[d], s.label) for d, s in dev.items()}
                main = score(result[data.dev_splits(args.task)[0]], args.task)
                state["history"].append({"epoch": state["epoch"] + k / per_epoch, "step": state["step"], "loss": loss.item(),
                                         "dev": result, "predictions": {d: "".join(map(str, p)) for d, p in predicted.items()}})
                print(f"\nstep {state['step']}: dev score {100 * main:.2f}", file=sys.stderr)
                if state["best"] is None or main > state["best"]:
                    state["best"] = main
                    checkpoints.save_teacher(model, wordpiece.path, out)
                    files.save_json(out / "best.json", {"dev": result, "step": state["step"]})
                state["batch"], state["seconds"] = k, time.time() - t0
                checkpoints.save_training(out / "last.pt", made, state, model=model, optimizer=optimizer,
                                          schedule=schedule)
        bar.close()
        state["epoch"], state["batch"] = state["epoch"] + 1, 0
    state["seconds"] = time.time() - t0


# ----------------------------------------------------------------------------------------------
# Step 3: the teacher's logits on every training example, original and augmented, computed
# once and kept on disk: the student learns from the logits, which keep what softmax squashes.

@torch.no_grad()
def teacher_logits(model, wordpiece, pairs, batch_size, max_len, bf16, device, out=None, desc="logits", made=None):
    """Logits of the teacher for every (text_a, text_b) pair, in length-sorted batches.
    out: the .npy to write, resumably (files.Resumable), made: the manifest it is made from.
    Returns the logits and the seconds spent on them over every run."""
    model.eval()
    batches = data.length_batches(data.rough_lengths(pairs), batch_size)
    shape = (len(pairs), model.classifier.out_features)
    array = files.Resumable(out, shape, made) if out is not None else None
    result, done = (array.array, array.done) if array else (np.zeros(shape, np.float32), 0)
    t0, spent = time.time(), array.spent if array else 0.0
    bar = files.Progress(len(pairs), desc, "sentences", start=sum(len(b) for b in batches[:done]))
    for k in range(done, len(batches)):
        with autocast(device, bf16):
            logits = model(*bert_batch(wordpiece, [pairs[i] for i in batches[k]], max_len, device))
        result[batches[k]] = logits.float().cpu().numpy()
        if array and (k % 20 == 19 or k == len(batches) - 1):
            array.save(k + 1, time.time() - t0)
        bar.update(len(batches[k]))
    bar.close()
    if array:
        array.finish()
    return result, spent + time.time() - t0


def cmd_logits(args):
    files.start(args)
    out = Path(args.out)
    source = args.input or data.split_path(args.task, args.split, args.data_dir)
    made = files.manifest(args, {"input": source, "teacher_dir": checkpoints.weights_file(args.teacher_dir)},
                          ignore=["split"] if args.input else [])
    summary_path = out.with_suffix(".json")
    if out.exists() and files.matches(summary_path, made, out):
        return print(f"{out} holds the logits of these settings and inputs: nothing to do")
    split, ranks = data.read_tsv(source, args.task), parallel.Ranks(args.device)
    model, vocab_path = checkpoints.load_teacher(args.teacher_dir, len(data.TASKS[args.task].labels))
    model.to(ranks.device)
    wordpiece, pairs = data.WordPiece(vocab_path), data.teacher_texts(split, args.task)

    def compute(rows, path, desc):
        return teacher_logits(model, wordpiece, [pairs[i] for i in rows], args.batch_size, args.max_len,
                              args.bf16, ranks.device, path, desc, made)
    lengths = data.rough_lengths(pairs)
    result, seconds = parallel.logits_by_rank(ranks, compute, data.length_batches(lengths, args.batch_size),
                                              lengths, out, model.classifier.out_features, made)
    if ranks.main:
        summary = {"rows": len(pairs), "seconds": seconds, "sentences_per_second": len(pairs) / seconds,
                   "processes": ranks.world, "input": str(source), "manifest": made, **files.provenance(args)}
        if split.label is not None:
            summary["metrics"] = metrics(args.task, result.argmax(1), split.label)
        files.save_json(summary_path, summary)
        print(f"{len(pairs):,} logits in {seconds:.0f}s -> {out}")
    ranks.close()


# ----------------------------------------------------------------------------------------------
# Step 4: the student.  Section 3.2, Eq. 1:
#     L = alpha * L_CE + (1 - alpha) * L_distill,   L_distill = || z^(B) - z^(S) ||_2^2
# "we penalize the mean-squared-error (MSE) loss between the student network's logits against
# the teacher's logits"; alpha = 0, pure distillation, was best.

def distill_loss(student_logits, teacher_logits, labels, alpha=0.0, kind="mse", temperature=1.0):
    """Eq. 1 as written: the squared distance between the two logit vectors, summed over the
    classes and averaged over the batch, plus alpha times the cross-entropy on `labels` (gold
    for original rows; "we use the predicted label of the teacher" for augmented ones).
    alpha = 1 is the labels-only baseline (no teacher needed).  kind="kl" is Hinton et al.'s
    (2015) soft-target loss instead: T^2 * KL(softmax(z_teacher / T) || softmax(z_student / T))."""
    # BEGIN EXERCISE 6: Eq. 1 as the paper writes it (or, with kind='kl', Hinton's soft-target loss)
    if alpha == 1:
        return F.cross_entropy(student_logits, labels)
    if kind == "mse":
        soft = ((teacher_logits - student_logits) ** 2).sum(-1).mean()
    else:
        t = temperature
        soft = t * t * F.kl_div(F.log_softmax(student_logits / t, -1), F.log_softmax(teacher_logits / t, -1),
                                reduction="batchmean", log_target=True)
    if alpha == 0:
        return soft
    return alpha * F.cross_entropy(student_logits, labels) + (1 - alpha) * soft
    # END EXERCISE 6


def transfer_set(columns, labels, logits, aug_columns=None, aug_logits=None):
    """Section 3.3 feeding Eq. 1: the original rows (one data.Words per text column) with their
    gold labels and the teacher's logits, then, when given, the augmented rows appended with the
    teacher's argmax as label.  Returns (columns, labels, logits); logits None for the baseline.
    A ValueError naming both counts when aug_logits has not one row per augmented row."""
    # BEGIN EXERCISE 8: originals with gold labels, then augmented rows labelled by the teacher's argmax
    if aug_columns is None:
        return columns, np.asarray(labels), logits
    if len(aug_logits) != len(aug_columns[0].lengths):
        raise ValueError(f"{len(aug_columns[0].lengths)} augmented rows but {len(aug_logits)} teacher logits")
    return ([a + b for a, b in zip(columns, aug_columns)], np.concatenate([labels, aug_logits.argmax(1)]),
            np.concatenate([logits, aug_logits]))
    # END EXERCISE 8


def student_inputs(columns, rows, device):
    """The model's inputs for some rows: ids and lengths of each text column."""
    return [torch.from_numpy(t).to(device) for column in columns for t in column.batch(rows)]


@torch.no_grad()
def predict_student(model, columns, device, batch_size=512):
    model.eval()
    out = np.zeros((len(columns[0].lengths), model.out.out_features), dtype=np.float32)
    for rows in data.length_batches(sum(c.lengths for c in columns), batch_size):
        out[rows] = model(*student_inputs(columns, rows, device)).cpu().numpy()
    return out


def student_manifest(args):
    """A student's settings and the fingerprints of its input files: what tells whether a finished
    student is up to date (report.py's sweep asks it too, of make's own student)."""
    distilled = {} if args.no_distill else {"train_logits": args.train_logits, "augmented": args.augmented or None,
                                             "augmented_logits": args.augmented and args.augmented_logits}
    return files.manifest(args, {**{s: data.split_path(args.task, s, args.data_dir) for s, _ in data.TASKS[args.task].splits},
                                 **distilled, "vectors": args.vectors or files.vectors_path(args.data_dir)})


def cmd_student(args):
    files.start(args, torch.manual_seed)
    out, made = Path(args.out), student_manifest(args)
    if files.matches(out / "metrics.json", made, out):
        return print(f"{out} is trained from these settings and inputs: nothing to do")
    files.writable(out, stale=out / "metrics.json")
    ranks, vocab = parallel.Ranks(args.device), data.task_vocab(args.task, args.data_dir)
    if ranks.main:
        vocab.save(out / "vocab.txt")
    vectors, _ = data.load_vectors(args.vectors or files.vectors_path(args.data_dir), vocab, seed=args.seed)
    full = data.load_split(args.task, "train", args.data_dir)
    train = data.head(full, args.limit)
    # The transfer set: train rows with the teacher's logits (the baseline: none), augmented rows.
    logits = None if args.no_distill else files.rows_for(args.train_logits, full)[:len(train)]
    augmented = data.read_tsv(args.augmented, args.task) if args.augmented and logits is not None else None
    aug = (data.words_of(augmented, args.task, vocab), files.rows_for(args.augmented_logits, augmented)) \
        if augmented else (None, None)
    examples = transfer_set(data.words_of(train, args.task, vocab), train.label, logits, *aug)
    task = data.TASKS[args.task]
    model = models.BiLSTMStudent(vectors, len(task.labels), args.hidden, args.fc, args.dropout,
                                 not args.no_multichannel, args.pooling, pair=task.text_b is not None)
    print(f"student: {models.count_parameters(model, embeddings=False):,} parameters without embeddings; "
          f"{len(examples[1]):,} training examples", file=sys.stderr)
    state = train_student(model.to(ranks.device), examples, vocab, args, made, ranks)
    if ranks.main:
        report = {**files.read_json(out / "best.json"), "epochs_run": state["step"] * args.batch_size / len(examples[1]),
                  "train_examples": len(examples[1]), "parameters": models.count_parameters(model, embeddings=False),
                  "parameters_with_embeddings": models.count_parameters(model), "seconds": state["seconds"],
                  "sentences_per_second": state["step"] * args.batch_size / state["seconds"],
                  "curve": state["curve"], "manifest": made, **files.provenance(args)}
        files.save_json(out / "metrics.json", report)
        (out / "last.pt").unlink()
        print(f"best dev score {100 * state['best']:.2f} -> {out}")
    ranks.close()


def train_student(model, examples, vocab, args, made, ranks):
    """Mini-batches of the transfer set under Eq. 1, dev evaluated args.evals_per_epoch times an
    epoch, stopping after args.patience evaluations without a better dev score.  `last.pt` holds
    everything needed to continue after the last evaluation, so a rerun resumes there."""
    columns, labels, logits = examples
    alpha, out, t0 = 1.0 if args.no_distill else args.alpha, Path(args.out), time.time()
    trained = ranks.wrap(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = (torch.optim.Adadelta(params, lr=args.lr, rho=0.95) if args.optimizer == "adadelta"
                 else torch.optim.Adam(params, lr=args.lr, fused=True))
    state = checkpoints.load_training(out / "last.pt", made, model=model, optimizer=optimizer) \
        or {"epoch": 0, "batch": 0, "best": None, "bad_evals": 0, "curve": [], "step": 0, "seconds": 0.0}
    t0 -= state["seconds"]
    dev = {d: data.load_split(args.task, d, args.data_dir) for d in data.dev_splits(args.task)}
    dev_columns = {d: data.words_of(s, args.task, vocab) for d, s in dev.items()}
    lengths, device = sum(c.lengths for c in columns), ranks.device
    while state["epoch"] < args.epochs and state["bad_evals"] < args.patience:
        batches = ranks.batches(data.length_batches(lengths, args.batch_size, seed=args.seed * 1000 + state["epoch"]))
        every = -(-len(batches) // args.evals_per_epoch)          # the last one falls on the epoch's end
        bar = files.Progress(len(labels), f"student epoch {state['epoch'] + 1}", "sentences",
                             start=sum(len(b) for b in batches[:state["batch"]]), show=ranks.main)
        losses = []
        for k in range(state["batch"], len(batches)):
            rows = ranks.part(batches[k])                 # one process: the whole batch
            model.train()
            z_student = trained(*student_inputs(columns, rows, device))
            z_teacher = torch.from_numpy(logits[rows]).to(device) if logits is not None else None
            loss = distill_loss(z_student, z_teacher, torch.from_numpy(labels[rows]).to(device),
                                alpha, args.loss, args.temperature)
            optimizer.zero_grad()
            ranks.backward(loss, rows, batches[k])
            optimizer.step()
            losses.append(loss.item())
            state["step"] += 1
            bar.update(len(batches[k]))
            if (k + 1) % every == 0 or k + 1 == len(batches):
                state["batch"] = k + 1
                state["seconds"] = time.time() - t0
                if ranks.main:
                    evaluate_student(model, dev_columns, dev, args, state, float(np.mean(losses)), out, len(labels))
                    checkpoints.save_training(out / "last.pt", made, state, model=model, optimizer=optimizer)
                losses, state["bad_evals"] = [], ranks.from_main(state["bad_evals"])
                if state["bad_evals"] >= args.patience:
                    print(f"\nno better dev score in {args.patience} evaluations: stopping", file=sys.stderr)
                    break
        bar.close()
        if state["bad_evals"] < args.patience:
            state["epoch"], state["batch"] = state["epoch"] + 1, 0
    state["seconds"] = time.time() - t0
    return state


def evaluate_student(model, dev_columns, dev, args, state, train_loss, out, n):
    """Dev metrics into the learning curve; the best student so far kept as student.pt."""
    predicted = {d: predict_student(model, dev_columns[d], args.device).argmax(1) for d in dev}
    result = {d: metrics(args.task, predicted[d], s.label) for d, s in dev.items()}
    main = score(result[data.dev_splits(args.task)[0]], args.task)
    # Each evaluation's predictions too: report.py picks a checkpoint on one half of dev and scores it on the other.
    state["curve"].append({"step": state["step"], "epoch": state["step"] * args.batch_size / n, "train_loss": train_loss,
                           "dev": {d: score(m, args.task) for d, m in result.items()},
                           "predictions": {d: "".join(map(str, p)) for d, p in predicted.items()}})
    print(f"\nstep {state['step']}: train loss {train_loss:.4f}, dev {100 * main:.2f}", file=sys.stderr)
    if state["best"] is None or main > state["best"]:
        state["best"], state["bad_evals"] = main, 0
        checkpoints.save_student(model, out)
        files.save_json(out / "best.json", {"dev": result, "best_step": state["step"]})
        files.save_json(out / "config.json", {k: v for k, v in vars(args).items() if k != "func"})
    else:
        state["bad_evals"] += 1


# ----------------------------------------------------------------------------------------------
# Step 5: evaluation as in the paper (section 4), error analysis, GLUE test files.

def cmd_eval(args):
    """Dev metrics, errors and GLUE test files of each run, and the teacher's (run once for all)."""
    t0 = files.start(args, torch.manual_seed)
    students = {run: checkpoints.load_student(run, args.device) for run in args.run}
    if len({c["task"] for _, _, c in students.values()}) > 1 or len({Path(r).name for r in args.run} - {"teacher"}) < len(args.run):
        raise ValueError(f"eval: the runs {args.run} must be students of one task, in folders of different names")
    cfg, device = students[args.run[0]][2], torch.device(args.device)
    task_key, task = cfg["task"], data.TASKS[cfg["task"]]
    reports = {run: {"run": run, **files.provenance(args)} for run in args.run}
    for run in [r for r in args.run if not (Path(r) / "metrics.json").exists()]:
        print(f"warning: {run} has not finished training: evaluating its best student so far", file=sys.stderr)
    teacher_dir, bert = args.teacher_dir or Path(args.run[0]).parent / "teacher", None   # the runs' own task's
    if args.teacher_dir or (Path(teacher_dir) / "teacher.pt").exists():    # loaded once, for every split
        bert, vocab_path = checkpoints.load_teacher(teacher_dir, len(task.labels))
        bert, wordpiece = bert.to(device), data.WordPiece(vocab_path)
    tests = dict(task.submission) if args.submit else {}
    for d in [*data.dev_splits(task_key), *tests]:
        split = data.load_split(task_key, d, cfg["data_dir"])
        predicted = {Path(run).name: predict_student(model, data.words_of(split, task_key, vocab), device).argmax(1)
                     for run, (model, vocab, _) in students.items()}
        if bert is not None:
            predicted["teacher"] = teacher_logits(bert, wordpiece, data.teacher_texts(split, task_key), 128, 128,
                                                  device.type == "cpu", device, desc=f"teacher on {d}")[0].argmax(1)
        for run in args.run if d not in tests else ():
            reports[run][d] = metrics(task_key, predicted[Path(run).name], split.label)
            if bert is not None:
                reports[run][f"teacher_{d}"] = metrics(task_key, predicted["teacher"], split.label)
            print(f"{run} {d}: " + ", ".join(f"{k} {100 * v:.2f}" for k, v in reports[run][d].items() if k in ("acc", "f1")))
            if args.errors:
                files.write_errors(Path(run) / f"errors_{d}.tsv", split, predicted[Path(run).name], predicted.get("teacher"),
                             task, args.errors)
        for name, labels in predicted.items() if d in tests else ():     # GLUE's: <submit>/<name>/<file>
            files.write_tsv(Path(args.submit) / name / tests[d], ["index", "prediction"],
                            [[i, task.labels[p]] for i, p in zip(split.index, labels)])
    for run in args.run:
        files.save_json(Path(run) / "eval.json", {**reports[run], "seconds": time.time() - t0})


def cmd_predict(args):
    model, vocab, cfg = checkpoints.load_student(args.run)
    task = data.TASKS[cfg["task"]]
    lines = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    fields = [line.split("\t") for line in lines]
    if not lines or not all(f.strip() for line in fields for f in line):
        sys.exit("predict: give non-empty sentences, as arguments or lines on stdin")
    if task.text_b and any(len(f) != 2 for f in fields):
        sys.exit(f"{task.name} classifies sentence pairs: give 'first<TAB>second' per line")
    split = data.Split([f[0] for f in fields], [f[1] for f in fields] if task.text_b else None, None,
                       list(range(len(fields))))
    probabilities = torch.softmax(torch.from_numpy(
        predict_student(model, data.words_of(split, cfg["task"], vocab), torch.device("cpu"))), -1).numpy()
    for line, p in zip(lines, probabilities):
        print(f"{task.labels[p.argmax()]}\t" + " ".join(f"{l}:{q:.3f}" for l, q in zip(task.labels, p)) + f"\t{line}")


def main(argv=None):
    args = flags.parse(argv)        # every flag, with the paper's settings as defaults: flags.py
    {"teacher": cmd_teacher, "logits": cmd_logits, "student": cmd_student, "eval": cmd_eval,
     "predict": cmd_predict}[args.cmd](args)


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, ValueError) as error:     # our messages name the file: no traceback
        sys.exit(f"error: {error}")
