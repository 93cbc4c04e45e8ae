"""distill.py -- chapter 4: teacher, logits, student (Tang et al. 2019, sections 3-4).

One script, one sub-command per step of the method, each runnable on its own:

    python distill.py teacher --task sst2     # fine-tune BERT on the task (the teacher)
    python distill.py logits  --task sst2 --input runs/sst2/augmented.tsv   # cache its logits
    python distill.py student --task sst2     # train the BiLSTM on them (Eq. 1)
    python distill.py student --task sst2 --no-distill    # the baseline: labels only
    python distill.py eval    --run runs/sst2/student     # metrics, errors, GLUE submission
    python distill.py sweep   --task sst2     # alpha in {0, 0.2, ..., 1} on dev
    python distill.py predict --run runs/sst2/student "a gorgeous , witty film"

Every step prints its configuration at start and saves it, with its metrics and the exact
command, as JSON beside its output.  Long steps show progress and resume when run again.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import data
import models


# ----------------------------------------------------------------------------------------------
# Small shared pieces: configs saved with every output, metrics, the teacher's batches.

def save_json(path, obj):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    tmp.replace(path)


def provenance(args):
    """What produced an output: the command, its arguments and the code's git commit."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    config = {k: v for k, v in vars(args).items() if k != "func"}
    return {"command": "python " + " ".join(sys.argv), "config": config, "git_commit": commit}


def start(args):
    print(f"{args.cmd}: " + ", ".join(f"{k}={v}" for k, v in vars(args).items() if k not in ("cmd", "func")),
          file=sys.stderr)
    torch.manual_seed(args.seed)
    return time.time()


def metrics(task_key, predictions, labels):
    """GLUE's metrics: accuracy; for MRPC and QQP also F1 of the positive class (label 1).
    The confusion matrix has gold labels as rows and predictions as columns."""
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


def score(m, task_key):
    """The one number we select checkpoints by: GLUE's metric for the task."""
    return m[data.TASKS[task_key].metric]


def texts_of(split):
    return list(zip(split.text_a, split.text_b if split.text_b is not None else [None] * len(split)))


def teacher_batch(wordpiece, pairs, max_len, device):
    encoded = [wordpiece.encode(a, b, max_len) for a, b in pairs]
    ids, mask = data.pad([e[0] for e in encoded])
    types, _ = data.pad([e[1] for e in encoded])
    return (torch.from_numpy(ids).to(device), torch.from_numpy(types).to(device),
            torch.from_numpy(mask).to(device))


def rough_lengths(pairs):
    """Words per example: a cheap stand-in for WordPiece lengths when sorting into batches."""
    return [a.count(" ") + (b.count(" ") + 1 if b is not None else 0) for a, b in pairs]


def autocast(device, bf16):
    """bf16 autocast: on CPUs with bf16 matrix units it runs BERT about 2.5x faster than fp32
    with the same dev accuracy (measured: see README)."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


@torch.no_grad()
def teacher_logits(model, wordpiece, pairs, args, device, out=None, desc="logits"):
    """Logits of the teacher for every example, in length-sorted batches of args.batch_size.
    out: a memory-mapped .npy to fill, with a progress file beside it so that an interrupted
    run continues after the last finished batch.  Returns the logits."""
    model.eval()
    batches = data.length_batches(rough_lengths(pairs), args.batch_size)
    if out is None:
        result = np.zeros((len(pairs), model.classifier.out_features), dtype=np.float32)
        done_file, done = None, 0
    else:
        result, done_file, done = open_partial(out, (len(pairs), model.classifier.out_features))
    bar = data.Progress(len(pairs), desc, "sentences", start=sum(len(b) for b in batches[:done]))
    for k in range(done, len(batches)):
        batch = batches[k]
        with autocast(device, args.bf16):
            logits = model(*teacher_batch(wordpiece, [pairs[i] for i in batch], args.max_len, device))
        result[batch] = logits.float().cpu().numpy()
        if done_file is not None and (k % 20 == 19 or k == len(batches) - 1):
            result.flush()                                   # rows on disk before we say so
            done_file.write_text(str(k + 1))
        bar.update(len(batch))
    bar.close()
    return result


def open_partial(out, shape):
    """A memory-mapped `<out>.partial.npy` and how many batches of it are already done."""
    partial = Path(str(out) + ".partial.npy")
    done_file = Path(str(out) + ".done_batches")
    if partial.exists() and done_file.exists():
        result = np.load(partial, mmap_mode="r+")
        if result.shape == shape:
            done = int(done_file.read_text() or 0)
            print(f"resuming {partial} after {done} batches", file=sys.stderr)
            return result, done_file, done
    partial.parent.mkdir(parents=True, exist_ok=True)
    result = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=shape)
    done_file.write_text("0")
    return result, done_file, 0


# ----------------------------------------------------------------------------------------------
# Step 1: the teacher.  BERT fine-tuned on the task's train split (Devlin et al. 2019):
# AdamW, linear warm-up then linear decay, the best dev checkpoint kept.

def cmd_teacher(args):
    t0 = start(args)
    device = torch.device(args.device)
    task = data.TASKS[args.task]
    train = data.load_split(args.task, "train", args.data_dir)
    train_pairs = texts_of(train)[: args.limit or None]
    labels = np.asarray(train.label[: args.limit or None])
    model, vocab_path = models.load_teacher(args.teacher, len(task.labels))
    model.to(device)
    wordpiece = data.WordPiece(vocab_path)
    dev = {d: data.load_split(args.task, d, args.data_dir) for d in data.dev_splits(args.task)}

    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]   # biases and LayerNorms
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = -(-len(train_pairs) // args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup * total)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    eval_at = {round(steps_per_epoch * (i + 1) / args.evals_per_epoch) for i in range(args.evals_per_epoch)}

    out = Path(args.out)
    history, best, step = [], None, 0
    for epoch in range(args.epochs):
        batches = data.length_batches(rough_lengths(train_pairs), args.batch_size, seed=args.seed + epoch)
        bar = data.Progress(len(train_pairs), f"teacher epoch {epoch + 1}", "sentences")
        for k, batch in enumerate(batches, start=1):
            model.train()
            ids, types, mask = teacher_batch(wordpiece, [train_pairs[i] for i in batch], args.max_len, device)
            with autocast(device, args.bf16):
                logits = model(ids, types, mask)
            loss = F.cross_entropy(logits.float(), torch.from_numpy(labels[batch]).to(device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            bar.update(len(batch))
            if k in eval_at:
                result = {d: metrics(args.task, teacher_logits(model, wordpiece, texts_of(s), args, device,
                                                               desc=f" eval {d}").argmax(1), s.label)
                          for d, s in dev.items()}
                history.append({"epoch": epoch + k / steps_per_epoch, "step": step,
                                "loss": float(loss), "dev": result})
                main = score(result[data.dev_splits(args.task)[0]], args.task)
                print(f"\nstep {step}: dev {task.metric} {100 * main:.2f}", file=sys.stderr)
                if best is None or main > best:
                    best = main
                    save_teacher(model, vocab_path, out, args, result, history, time.time() - t0)
        bar.close()
    report = json.loads((out / "metrics.json").read_text())
    report.update(history=history, seconds=time.time() - t0)
    save_json(out / "metrics.json", report)
    print(f"best dev {task.metric} {100 * best:.2f}; teacher saved in {out}")


def save_teacher(model, vocab_path, out, args, result, history, seconds):
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "teacher.tmp")
    (out / "teacher.tmp").replace(out / "teacher.pt")
    save_json(out / "config.json", model.cfg)
    if Path(vocab_path).resolve() != (out / "vocab.txt").resolve():
        shutil.copyfile(vocab_path, out / "vocab.txt")
    save_json(out / "metrics.json", {"dev": result, "history": history, "seconds": seconds,
                                     "parameters": models.count_parameters(model), **provenance(args)})


# ----------------------------------------------------------------------------------------------
# Step 3: the teacher's logits on every training example, original and augmented, computed
# once and kept on disk (section 3: the student regresses onto them).

def cmd_logits(args):
    t0 = start(args)
    device = torch.device(args.device)
    out = Path(args.out)
    if out.exists():
        print(f"{out} exists; delete it to compute it again")
        return
    task = data.TASKS[args.task]
    if args.input:
        split = data.read_tsv(args.input, args.task)
    else:
        split = data.load_split(args.task, args.split, args.data_dir)
    model, vocab_path = models.load_teacher(args.teacher_dir, len(task.labels))
    model.to(device)
    pairs = texts_of(split)
    result = teacher_logits(model, data.WordPiece(vocab_path), pairs, args, device, out)
    seconds = time.time() - t0
    Path(str(out) + ".partial.npy").replace(out)
    Path(str(out) + ".done_batches").unlink()
    summary = {"rows": len(pairs), "seconds": seconds, "sentences_per_second": len(pairs) / seconds,
               "input": split.path, **provenance(args)}
    if split.label is not None:
        summary["metrics"] = metrics(args.task, np.load(out).argmax(1), split.label)
    save_json(str(out)[: -len(".npy")] + ".json", summary)
    del result
    print(f"{len(pairs):,} logits in {seconds:.0f}s -> {out}")


# ----------------------------------------------------------------------------------------------
# The command line: the paper's settings as defaults.

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def command(name, help):
        c = sub.add_parser(name, help=help)
        c.add_argument("--task", default="sst2", choices=sorted(data.TASKS))
        c.add_argument("--data-dir", default=None, help="folder with glue/, vectors/, nltk_data/")
        c.add_argument("--seed", type=int, default=0)
        c.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
        return c

    c = command("teacher", "fine-tune BERT on the task's train split")
    c.add_argument("--teacher", default="minilm", help=f"one of {sorted(models.TEACHERS)}, a folder, file or URL")
    c.add_argument("--out", default=None, help="folder for the best checkpoint (default runs/<task>/teacher)")
    c.add_argument("--epochs", type=int, default=1)
    c.add_argument("--lr", type=float, default=5e-5)
    c.add_argument("--batch-size", type=int, default=32)
    c.add_argument("--warmup", type=float, default=0.1, help="fraction of steps of linear warm-up")
    c.add_argument("--weight-decay", type=float, default=0.01)
    c.add_argument("--max-len", type=int, default=128, help="WordPiece tokens per example")
    c.add_argument("--evals-per-epoch", type=int, default=4)
    c.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)
    c.add_argument("--limit", type=int, default=0, help="train on the first N examples only")
    c.set_defaults(func=cmd_teacher)

    c = command("logits", "cache the teacher's logits for a split or an augmented file")
    c.add_argument("--teacher-dir", default=None, help="fine-tuned teacher (default runs/<task>/teacher)")
    c.add_argument("--input", default=None, help="a TSV in the task's layout, e.g. augment.py's output")
    c.add_argument("--split", default="train", help="the GLUE split, when no --input")
    c.add_argument("--out", default=None, help="the .npy to write (default runs/<task>/logits/<split>.npy)")
    c.add_argument("--batch-size", type=int, default=256)
    c.add_argument("--max-len", type=int, default=128)
    c.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)
    c.set_defaults(func=cmd_logits)

    args = p.parse_args(argv)
    run = Path("runs") / args.task
    if getattr(args, "out", "") is None:
        name = Path(args.input).stem if getattr(args, "input", None) else getattr(args, "split", "")
        args.out = str({"teacher": run / "teacher", "logits": run / "logits" / f"{name}.npy"}[args.cmd])
    if getattr(args, "teacher_dir", "") is None:
        args.teacher_dir = str(run / "teacher")
    args.func(args)


if __name__ == "__main__":
    main()
