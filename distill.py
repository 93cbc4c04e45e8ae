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
The logits and student steps also run as several processes (GPUs, machines) under
`torchrun --nproc_per_node=N distill.py logits|student ...`: see distributed() below.
"""
import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
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
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # Linux reports KiB
    return {"command": "python " + " ".join(sys.argv), "config": config, "git_commit": commit,
            "peak_rss_mb": round(peak_mb, 1)}


def start(args):
    print(f"{args.cmd}: " + ", ".join(f"{k}={v}" for k, v in vars(args).items() if k not in ("cmd", "func")),
          file=sys.stderr)
    torch.manual_seed(args.seed)
    return time.time()


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


def distributed(args):
    """(rank, world size, device) of this process.  Under `torchrun` (it sets WORLD_SIZE, RANK
    and LOCAL_RANK) join the process group: nccl between GPUs, gloo between CPUs; GPU k of a
    machine serves its local rank k.  Run plainly, this is rank 0 of 1 and nothing changes."""
    device, world = torch.device(args.device), int(os.environ.get("WORLD_SIZE", 1))
    if world == 1:
        return 0, 1, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        # A rank may wait long at a barrier: after a restart, another rank may have its whole
        # shard of logits still to do.
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(hours=24))
    return dist.get_rank(), world, device


def shard_cuts(batches, lengths, world):
    """Where to cut the batches into `world` contiguous runs, rank r taking cuts[r]:cuts[r + 1]:
    at equal padded word counts (batch size x longest example), because length-sorted batches
    grow towards the end."""
    cost = np.cumsum([len(b) * (1 + max(lengths[i] for i in b)) for b in batches])
    return [0] + [int(np.searchsorted(cost, cost[-1] * r / world, side="right")) for r in range(1, world)] \
        + [len(batches)]


@torch.no_grad()
def teacher_logits(model, wordpiece, pairs, args, device, out=None, desc="logits"):
    """Logits of the teacher for every example, in length-sorted batches of args.batch_size.
    out: the .npy to write, filled as a memory-mapped `<out>.partial.npy` with a progress file
    beside it (batches done, seconds spent), so that an interrupted run continues after the
    last finished batch.  Returns the logits and the seconds spent on them over every run."""
    model.eval()
    batches = data.length_batches(rough_lengths(pairs), args.batch_size)
    if out is None:
        result = np.zeros((len(pairs), model.classifier.out_features), dtype=np.float32)
        done_file, done, spent = None, 0, 0.0
    else:
        result, done_file, done, spent = open_partial(out, (len(pairs), model.classifier.out_features))
    t0 = time.time()
    bar = data.Progress(len(pairs), desc, "sentences", start=sum(len(b) for b in batches[:done]))
    for k in range(done, len(batches)):
        batch = batches[k]
        with autocast(device, args.bf16):
            logits = model(*teacher_batch(wordpiece, [pairs[i] for i in batch], args.max_len, device))
        result[batch] = logits.float().cpu().numpy()
        if done_file is not None and (k % 20 == 19 or k == len(batches) - 1):
            result.flush()                                   # rows on disk before we say so
            done_file.write_text(f"{k + 1} {spent + time.time() - t0:.1f}")
        bar.update(len(batch))
    bar.close()
    if out is not None:
        Path(str(out) + ".partial.npy").replace(out)
        done_file.unlink()
    return result, spent + time.time() - t0


def open_partial(out, shape):
    """A memory-mapped `<out>.partial.npy`, how many batches of it are done and the seconds
    they took."""
    partial = Path(str(out) + ".partial.npy")
    done_file = Path(str(out) + ".done_batches")
    if partial.exists() and done_file.exists():
        result = np.load(partial, mmap_mode="r+")
        if result.shape == shape:
            done, spent = (done_file.read_text().split() + ["0", "0"])[:2]    # empty if killed mid-write
            print(f"resuming {partial} after {done} batches", file=sys.stderr)
            return result, done_file, int(done), float(spent)
    partial.parent.mkdir(parents=True, exist_ok=True)
    result = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=shape)
    done_file.write_text("0 0")
    return result, done_file, 0, 0.0


# ----------------------------------------------------------------------------------------------
# Step 1: the teacher.  BERT fine-tuned on the task's train split (Devlin et al. 2019):
# AdamW, linear warm-up then linear decay, the best dev checkpoint kept.

def cmd_teacher(args):
    t0 = start(args)
    out = Path(args.out)
    if (out / "metrics.json").exists():
        print(f"{out}/metrics.json exists: this teacher is trained; delete {out} to train it again")
        return
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
    # fused: one kernel updates every tensor (the same AdamW update); on 2 CPU cores the step
    # drops from 57 to 10 ms of MiniLM's 280 ms per batch of 32.
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, fused=True)
    steps_per_epoch = -(-len(train_pairs) // args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup * total)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    eval_at = {round(steps_per_epoch * (i + 1) / args.evals_per_epoch) for i in range(args.evals_per_epoch)}

    history, best, step = [], None, 0
    for epoch in range(args.epochs):
        batches = data.length_batches(rough_lengths(train_pairs), args.batch_size, seed=args.seed + epoch,
                                      pool=args.sort_pool)
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
                                                               desc=f" eval {d}")[0].argmax(1), s.label)
                          for d, s in dev.items()}
                history.append({"epoch": epoch + k / steps_per_epoch, "step": step,
                                "loss": loss.item(), "dev": result})
                main = score(result[data.dev_splits(args.task)[0]], args.task)
                print(f"\nstep {step}: dev {task.metric} {100 * main:.2f}", file=sys.stderr)
                if best is None or main > best:
                    best = main
                    save_teacher(model, vocab_path, out, args, result, history, time.time() - t0)
        bar.close()
    report = json.loads((out / "best.json").read_text())
    report.update(history=history, seconds=time.time() - t0, **provenance(args))
    save_json(out / "metrics.json", report)             # written last: the step is finished
    print(f"best dev {task.metric} {100 * best:.2f}; teacher saved in {out}")


def save_teacher(model, vocab_path, out, args, result, history, seconds):
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "teacher.tmp")
    (out / "teacher.tmp").replace(out / "teacher.pt")
    save_json(out / "config.json", model.cfg)
    if Path(vocab_path).resolve() != (out / "vocab.txt").resolve():
        shutil.copyfile(vocab_path, out / "vocab.txt")
    save_json(out / "best.json", {"dev": result, "history": history, "seconds": seconds,
                                  "parameters": models.count_parameters(model), **provenance(args)})


# ----------------------------------------------------------------------------------------------
# Step 3: the teacher's logits on every training example, original and augmented, computed
# once and kept on disk (section 3: the student regresses onto them).

def cmd_logits(args):
    t0 = start(args)
    rank, world, device = distributed(args)
    out = Path(args.out)
    if out.exists():
        print(f"{out} exists; delete it to compute it again")
        return
    stale = [p.name for p in out.parent.glob(out.name + ".rank*") if f"of{world}." not in p.name]
    if stale:
        raise SystemExit(f"{out.parent / stale[0]} is left from a run with another number of processes: "
                         f"run again with that number to finish it, or delete {out}.rank*")
    task = data.TASKS[args.task]
    if args.input:
        split = data.read_tsv(args.input, args.task)
    else:
        split = data.load_split(args.task, args.split, args.data_dir)
    model, vocab_path = models.load_teacher(args.teacher_dir, len(task.labels))
    model.to(device)
    wordpiece = data.WordPiece(vocab_path)
    pairs = texts_of(split)
    if world == 1:
        result, seconds = teacher_logits(model, wordpiece, pairs, args, device, out)
    else:
        # torchrun: each rank fills its own shard file, resumable like the single file, with
        # the very batches a single process would run; rank 0 then gathers them into `out`.
        lengths = rough_lengths(pairs)
        batches = data.length_batches(lengths, args.batch_size)
        if len(batches) < world:
            raise SystemExit(f"{len(pairs)} examples make {len(batches)} batches: too few for {world} processes")
        cuts = shard_cuts(batches, lengths, world)
        rows = [[i for b in batches[lo:hi] for i in b] for lo, hi in zip(cuts, cuts[1:])]
        parts = [Path(f"{out}.rank{r}of{world}.npy") for r in range(world)]
        if not parts[rank].exists():
            teacher_logits(model, wordpiece, [pairs[i] for i in rows[rank]], args, device, parts[rank],
                           desc=f"logits, rank {rank} of {world}")
        dist.barrier()
        if rank == 0:
            result = np.zeros((len(pairs), model.classifier.out_features), dtype=np.float32)
            for r in range(world):
                result[rows[r]] = np.load(parts[r])
            np.save(str(out) + ".partial.npy", result)
            Path(str(out) + ".partial.npy").replace(out)
            for part in parts:
                part.unlink()
        seconds = time.time() - t0
    if rank == 0:
        summary = {"rows": len(pairs), "seconds": seconds, "sentences_per_second": len(pairs) / seconds,
                   "processes": world, "input": split.path, **provenance(args)}
        if split.label is not None:
            summary["metrics"] = metrics(args.task, result.argmax(1), split.label)
        save_json(str(out)[: -len(".npy")] + ".json", summary)
        print(f"{len(pairs):,} logits in {seconds:.0f}s -> {out}")


# ----------------------------------------------------------------------------------------------
# Step 4: the student (section 3).  The objective is Eq. 1,
#     L = alpha * L_CE + (1 - alpha) * L_distill,   L_distill = || z_teacher - z_student ||^2,
# the mean squared error between the logits themselves: logits keep what probabilities squash
# (how sure the teacher is, and how far from the other classes).  alpha = 0 was best.

def distill_loss(student_logits, teacher_logits, labels, alpha=0.0, kind="mse", temperature=1.0):
    """Eq. 1.  labels: gold labels for original examples, the teacher's argmax for augmented ones
    (they have no gold label).  kind="kl" is Hinton et al.'s (2015) soft-target loss instead:
    T^2 * KL(softmax(z_teacher / T) || softmax(z_student / T))."""
    # BEGIN EXERCISE 6: Eq. 1 (or, with kind='kl', Hinton's soft-target loss)
    if kind == "mse":
        soft = F.mse_loss(student_logits, teacher_logits)
    else:
        t = temperature
        soft = t * t * F.kl_div(F.log_softmax(student_logits / t, -1), F.log_softmax(teacher_logits / t, -1),
                                reduction="batchmean", log_target=True)
    if alpha == 0:
        return soft
    return alpha * F.cross_entropy(student_logits, labels) + (1 - alpha) * soft
    # END EXERCISE 6


class Words:
    """Many sentences as word ids in one flat array (881k augmented sentences as Python lists
    would take gigabytes): row i is flat[offsets[i]:offsets[i+1]].  An empty text reads as one
    unknown word, so every row has a length of at least 1."""

    def __init__(self, sentences=(), vocab=None):
        ids = [vocab.encode(words) or [1] for words in sentences]       # 1 is [UNK]
        self.lengths = np.array([len(x) for x in ids], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)
        self.flat = np.fromiter((i for x in ids for i in x), dtype=np.int32, count=int(self.offsets[-1]))

    def __add__(self, other):
        both = Words()
        both.lengths = np.concatenate([self.lengths, other.lengths])
        both.offsets = np.concatenate([self.offsets[:-1], other.offsets + self.offsets[-1]])
        both.flat = np.concatenate([self.flat, other.flat])
        return both

    def batch(self, rows, device):
        ids, _ = data.pad([self.flat[self.offsets[i]:self.offsets[i + 1]] for i in rows])
        return torch.from_numpy(ids).to(device), torch.from_numpy(self.lengths[rows])


def words_of(split, task_key, vocab):
    return [Words(column, vocab) for column in data.task_tokens(split, task_key)]


def student_forward(model, columns, rows, device):
    """Logits for some rows of a split given as Words columns (one for single sentences, two
    for pairs)."""
    inputs = [t for column in columns for t in column.batch(rows, device)]
    return model(*inputs)


@torch.no_grad()
def predict_student(model, columns, device, batch_size=512):
    model.eval()
    out = np.zeros((len(columns[0].lengths), model.out.out_features), dtype=np.float32)
    for rows in data.length_batches(sum(c.lengths for c in columns), batch_size):
        out[rows] = student_forward(model, columns, rows, device).cpu().numpy()
    return out


def build_vocab(args):
    """Every word of the task's files (train, dev and test: words only, never labels), so the
    frozen pretrained vectors also serve words the student never trains on."""
    sentences = []
    for split, _ in data.TASKS[args.task].splits:
        for column in data.task_tokens(data.load_split(args.task, split, args.data_dir), args.task):
            sentences += column
    return data.Vocab.build(sentences)


def cmd_student(args):
    t0 = start(args)
    rank, world, device = distributed(args)
    task = data.TASKS[args.task]
    out = Path(args.out)
    if (out / "metrics.json").exists():
        print(f"{out}/metrics.json exists: this student is trained; delete {out} to train it again")
        return
    out.mkdir(parents=True, exist_ok=True)
    vocab = build_vocab(args)
    if rank == 0:
        vocab.save(out / "vocab.txt")
    vectors, _ = data.load_vectors(args.vectors or data.vectors_path(args.data_dir), vocab, seed=args.seed)

    # The transfer set: the original train split (gold labels) plus, unless --no-distill, the
    # augmented sentences (section 3.3), each with the teacher's logits.
    train = data.load_split(args.task, "train", args.data_dir)
    if args.limit:
        train = data.Split(train.text_a[:args.limit], train.text_b and train.text_b[:args.limit],
                           train.label[:args.limit], train.index[:args.limit], train.path)
    columns = words_of(train, args.task, vocab)
    labels = np.asarray(train.label)
    targets = (np.load(args.train_logits)[:len(train)] if not args.no_distill
               else np.zeros((len(train), len(task.labels)), np.float32))
    if not args.no_distill and args.augmented:
        aug = data.read_tsv(args.augmented, args.task)
        aug_targets = np.load(args.augmented_logits)
        columns = [a + b for a, b in zip(columns, words_of(aug, args.task, vocab))]
        targets = np.concatenate([targets, aug_targets])
        labels = np.concatenate([labels, aug_targets.argmax(1)])
    alpha = 1.0 if args.no_distill else args.alpha
    n = len(labels)
    assert len(targets) == n, f"{n} training rows but {len(targets)} teacher logits"
    dev = {d: data.load_split(args.task, d, args.data_dir) for d in data.dev_splits(args.task)}
    dev_columns = {d: words_of(s, args.task, vocab) for d, s in dev.items()}

    model = models.BiLSTMStudent(vectors, len(task.labels), args.hidden, args.fc, args.dropout,
                                 not args.no_multichannel, args.pooling, pair=task.text_b is not None).to(device)
    # torchrun: DistributedDataParallel averages the gradients of the ranks after each backward,
    # so that every rank's copy of the student takes the same step.
    trained = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = (torch.optim.Adadelta(params, lr=args.lr, rho=0.95) if args.optimizer == "adadelta"
                 else torch.optim.Adam(params, lr=args.lr, fused=True))
    print(f"student: {models.count_parameters(model, embeddings=False):,} parameters without embeddings; "
          f"{n:,} training examples", file=sys.stderr)

    # Resume: `last.pt` holds everything needed to continue after the last evaluation.
    state = {"epoch": 0, "batch": 0, "best": None, "bad_evals": 0, "curve": [], "step": 0}
    if (out / "last.pt").exists():
        saved = torch.load(out / "last.pt", weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        if rank == 0:
            torch.set_rng_state(saved["rng"])        # the same dropout masks as an unbroken run
        print(f"resuming at epoch {state['epoch'] + 1}, batch {state['batch']}", file=sys.stderr)
    lengths = sum(c.lengths for c in columns)
    while state["epoch"] < args.epochs and state["bad_evals"] < args.patience:
        batches = data.length_batches(lengths, args.batch_size, seed=args.seed * 1000 + state["epoch"])
        every = -(-len(batches) // args.evals_per_epoch)          # the last one falls on the epoch's end
        bar = data.Progress(n, f"student epoch {state['epoch'] + 1}", "sentences",
                            start=sum(len(b) for b in batches[:state["batch"]]), show=rank == 0)
        losses = []
        for k in range(state["batch"], len(batches)):
            # Under torchrun the batch is the global one, cut into one contiguous part per rank;
            # each part's mean loss is weighted by its share, so the averaged gradient is the
            # whole batch's, as in one process.  (A batch smaller than the ranks is skipped.)
            rows = np.array_split(batches[k], world)[rank]
            if len(batches[k]) >= world:
                model.train()
                logits = student_forward(trained, columns, rows, device)
                loss = distill_loss(logits, torch.from_numpy(targets[rows]).to(device),
                                    torch.from_numpy(labels[rows]).to(device), alpha, args.loss, args.temperature)
                optimizer.zero_grad()
                (loss * (len(rows) * world / len(batches[k]))).backward()
                optimizer.step()
                losses.append(loss.item())
                state["step"] += 1
            bar.update(len(batches[k]))
            if (k + 1) % every == 0 or k + 1 == len(batches):
                state["batch"] = k + 1
                if rank == 0:
                    evaluate_student(model, dev_columns, dev, args, device, state, float(np.mean(losses)), out, n)
                    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                                "rng": torch.get_rng_state()}, out / "last.tmp")
                    (out / "last.tmp").replace(out / "last.pt")
                losses = []
                if world > 1:                    # rank 0 alone knows whether to stop early
                    verdict = torch.tensor([state["bad_evals"]], device=device)
                    dist.broadcast(verdict, 0)
                    state["bad_evals"] = int(verdict.item())
                if state["bad_evals"] >= args.patience:
                    print(f"\nno better dev {task.metric} in {args.patience} evaluations: stopping",
                          file=sys.stderr)
                    break
        bar.close()
        if state["bad_evals"] < args.patience:
            state["epoch"], state["batch"] = state["epoch"] + 1, 0
    if rank > 0:
        return
    best = json.loads((out / "best.json").read_text())
    report = {"dev": best["dev"], "best_step": best["step"], "epochs_run": state["step"] * args.batch_size / n,
              "train_examples": n, "parameters": models.count_parameters(model, embeddings=False),
              "parameters_with_embeddings": models.count_parameters(model),
              "seconds": time.time() - t0, "curve": state["curve"], **provenance(args)}
    save_json(out / "metrics.json", report)
    (out / "last.pt").unlink()
    print(f"best dev {task.metric} {100 * score(best['dev'][data.dev_splits(args.task)[0]], args.task):.2f} "
          f"-> {out}")


def evaluate_student(model, dev_columns, dev, args, device, state, train_loss, out, n):
    """Dev metrics into the learning curve; the best student so far kept as student.pt."""
    result = {d: metrics(args.task, predict_student(model, dev_columns[d], device).argmax(1), s.label)
              for d, s in dev.items()}
    main = score(result[data.dev_splits(args.task)[0]], args.task)
    state["curve"].append({"step": state["step"], "epoch": state["step"] * args.batch_size / n,
                           "train_loss": train_loss, "dev": {d: score(m, args.task) for d, m in result.items()}})
    print(f"\nstep {state['step']}: train loss {train_loss:.4f}, dev {100 * main:.2f}", file=sys.stderr)
    if state["best"] is None or main > state["best"]:
        state["best"], state["bad_evals"] = main, 0
        torch.save(model.state_dict(), out / "student.tmp")
        (out / "student.tmp").replace(out / "student.pt")
        save_json(out / "best.json", {"dev": result, "step": state["step"]})
        save_json(out / "config.json", {k: v for k, v in vars(args).items() if k != "func"})
    else:
        state["bad_evals"] += 1


# ----------------------------------------------------------------------------------------------
# Step 5: evaluation as in the paper (section 4), error analysis, GLUE submission files.

def load_student(run, device="cpu"):
    """A trained student from its folder, without reading the word vectors again (the state
    holds both embedding copies)."""
    run = Path(run)
    cfg = json.loads((run / "config.json").read_text())
    vocab = data.Vocab.load(run / "vocab.txt")
    state = torch.load(run / "student.pt", map_location=device, weights_only=True)
    # Students saved before the BiLSTM became two LSTMs hold one nn.LSTM(bidirectional=True):
    # the same numbers, its '_reverse' weights being the backward LSTM's.
    for key in [k for k in state if k.startswith("lstm.")]:
        name = key.removeprefix("lstm.")
        new_key = "backward_lstm." + name.removesuffix("_reverse") if name.endswith("_reverse") \
            else "forward_lstm." + name
        state[new_key] = state.pop(key)
    task = data.TASKS[cfg["task"]]
    model = models.BiLSTMStudent(torch.zeros(state["static.weight"].shape), len(task.labels), cfg["hidden"],
                                 cfg["fc"], cfg["dropout"], not cfg["no_multichannel"], cfg["pooling"],
                                 pair=task.text_b is not None)
    model.load_state_dict(state)
    return model.to(device).eval(), vocab, cfg


def cmd_eval(args):
    t0 = start(args)
    model, vocab, cfg = load_student(args.run, args.device)
    task_key = cfg["task"]
    task = data.TASKS[task_key]
    device = torch.device(args.device)
    report = {"run": args.run, **provenance(args)}
    if args.teacher_dir:          # loaded once, for every dev split (MNLI has two)
        bert, vocab_path = models.load_teacher(args.teacher_dir, len(task.labels))
        bert, wordpiece = bert.to(device), data.WordPiece(vocab_path)
        teacher_args = argparse.Namespace(batch_size=128, max_len=128, bf16=device.type == "cpu")
    for d in data.dev_splits(task_key):
        split = data.load_split(task_key, d, cfg["data_dir"])
        predictions = predict_student(model, words_of(split, task_key, vocab), device).argmax(1)
        report[d] = metrics(task_key, predictions, split.label)
        print(f"{d}: " + ", ".join(f"{k} {100 * report[d][k]:.2f}" for k in ("acc", "f1") if k in report[d])
              + f"; confusion (rows gold {list(task.labels)}) {report[d]['confusion']}")
        teacher = None
        if args.teacher_dir:
            teacher = teacher_logits(bert, wordpiece, texts_of(split), teacher_args, device,
                                     desc=f"teacher on {d}")[0].argmax(1)
            report[f"teacher_{d}"] = metrics(task_key, teacher, split.label)
        if args.errors:
            path = Path(args.run) / f"errors_{d}.tsv"
            write_errors(path, split, predictions, teacher, task, args.errors)
            print(f"{args.errors} misclassified {d} examples -> {path}")
    if args.submit:
        for split_name, file_name in task.submission:
            split = data.load_split(task_key, split_name, cfg["data_dir"])
            predictions = predict_student(model, words_of(split, task_key, vocab), device).argmax(1)
            path = Path(args.submit) / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("index\tprediction\n" + "".join(
                f"{i}\t{task.labels[p]}\n" for i, p in zip(split.index, predictions)))
            print(f"GLUE submission ({len(split):,} rows) -> {path}")
    report["seconds"] = time.time() - t0
    save_json(Path(args.run) / "eval.json", report)


def write_errors(path, split, predictions, teacher, task, limit):
    """The misclassified examples, with what the teacher said: where does the student fail the
    teacher, and where do both fail?"""
    rows = [i for i in range(len(split)) if predictions[i] != split.label[i]][:limit]
    with open(path, "w", encoding="utf-8") as f:
        f.write("gold\tteacher\tstudent\ttext_a" + ("\ttext_b" if split.text_b else "") + "\n")
        for i in rows:
            f.write("\t".join([task.labels[split.label[i]], task.labels[teacher[i]] if teacher is not None else "",
                               task.labels[predictions[i]], split.text_a[i]]
                              + ([split.text_b[i]] if split.text_b else [])) + "\n")


def cmd_predict(args):
    model, vocab, cfg = load_student(args.run)
    task = data.TASKS[cfg["task"]]
    lines = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    fields = [line.split("\t") for line in lines]
    if task.text_b and any(len(f) != 2 for f in fields):
        sys.exit(f"{task.name} classifies sentence pairs: give 'first<TAB>second' per line")
    split = data.Split([f[0] for f in fields], [f[1] for f in fields] if task.text_b else None, None,
                       list(range(len(fields))))
    probabilities = torch.softmax(torch.from_numpy(
        predict_student(model, words_of(split, cfg["task"], vocab), torch.device("cpu"))), -1).numpy()
    for line, p in zip(lines, probabilities):
        print(f"{task.labels[p.argmax()]}\t" + " ".join(f"{l}:{q:.3f}" for l, q in zip(task.labels, p)) + f"\t{line}")


# ----------------------------------------------------------------------------------------------
# The alpha sweep (section 4.3 of the paper found alpha = 0, pure distillation, best) and the
# learning curves.

def cmd_sweep(args):
    start(args)
    out = Path(args.out)
    if args.plot_only:
        return plot_sweep(out, json.loads((out / "sweep.json").read_text())["results"], args.task)
    results = []
    for alpha in args.alphas:
        run_args = argparse.Namespace(**{**vars(args), "alpha": alpha, "out": str(out / f"alpha_{alpha:g}"),
                                         "no_distill": False, "cmd": "student"})
        cmd_student(run_args)
        m = json.loads((out / f"alpha_{alpha:g}" / "metrics.json").read_text())
        results.append({"alpha": alpha, "dev": {d: score(r, args.task) for d, r in m["dev"].items()},
                        "curve": m["curve"]})
    save_json(out / "sweep.json", {"results": results, **provenance(args)})
    plot_sweep(out, results, args.task)


def plot_sweep(out, results, task_key):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"the numbers are in {out / 'sweep.json'}; `pip install matplotlib` and run again for the plots")
        return
    dev = data.dev_splits(task_key)[0]
    metric = data.TASKS[task_key].metric
    fig, ax = plt.subplots(figsize=(5, 3.5))
    # One standard error of an accuracy on n dev examples, sqrt(p (1 - p) / n): differences
    # inside the bars are noise (872 SST-2 dev sentences: about 1.1 points).
    n = len(data.load_split(task_key, dev, None).label)
    scores = np.array([r["dev"][dev] for r in results])
    ax.errorbar([r["alpha"] for r in results], 100 * scores, yerr=100 * np.sqrt(scores * (1 - scores) / n),
                fmt="o-", capsize=3)
    ax.set(xlabel="alpha (weight of the label loss, Eq. 1)", ylabel=f"best dev {metric} (%)",
           title=f"{data.TASKS[task_key].name}: distillation vs labels")
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
    fig.savefig(out / "curves.png", dpi=120)
    print(f"plots -> {out / 'alpha.png'}, {out / 'curves.png'}")


# ----------------------------------------------------------------------------------------------
# The report: every number of a task's run in one file, results/<task>.json, read from the JSON
# each step wrote beside its output (nothing is typed by hand).

def cmd_report(args):
    run, out = Path(args.runs) / args.task, Path(args.out)
    read = lambda p: json.loads((run / p).read_text())     # noqa: E731
    steps = {"teacher": read("teacher/metrics.json"), "augment": read("augmented.json"),
             "logits_train": read("logits/train.json"), "logits_augmented": read("logits/augmented.json"),
             "student": read("student/metrics.json"), "baseline": read("baseline/metrics.json"),
             "eval": read("student/eval.json")}
    dev = data.dev_splits(args.task)
    keep = lambda m: {k: m[k] for k in ("acc", "f1", "n") if k in m}     # noqa: E731
    result = {
        **provenance(args),                  # the report's own command; the steps' are below
        "task": args.task,
        "dev": {d: {"teacher": keep(steps["teacher"]["dev"][d]), "baseline": keep(steps["baseline"]["dev"][d]),
                    "student": keep(steps["student"]["dev"][d])} for d in dev},
        "parameters": {"teacher": steps["teacher"]["parameters"],
                       "student_without_embeddings": steps["student"]["parameters"],
                       "student_with_embeddings": steps["student"]["parameters_with_embeddings"]},
        "augmented": {k: steps["augment"][k] for k in ("originals", "written", "ratio")},
        "seconds": {name: round(s["seconds"], 1) for name, s in steps.items()},
        "peak_rss_mb": {name: s.get("peak_rss_mb") for name, s in steps.items()},
        "configs": {name: s.get("config", {k: v for k, v in s.items() if k not in ("command",)})
                    for name, s in steps.items() if name != "eval"},
        "commands": {name: s.get("command") for name, s in steps.items()},
        "git_commits": {name: s.get("git_commit") for name, s in steps.items()},
    }
    result["seconds"]["total"] = round(sum(result["seconds"].values()), 1)
    if (run / "make_wall.json").exists():        # written by results/sst2/run_make_sst2.sh
        result["make_wall"] = {k: v for k, v in read("make_wall.json").items() if k.endswith("seconds")}
    save_json(out / f"{args.task}.json", result)
    for name in ("teacher", "student", "baseline"):
        save_json(out / args.task / f"{name}.json", steps[name])
    for d in dev:
        row = result["dev"][d]
        print(f"{args.task} {d}: " + ", ".join(
            f"{who} {100 * score(row[who], args.task):.2f}" for who in ("teacher", "baseline", "student")))
    print(f"-> {out / args.task}.json")
    if out.resolve() == RESULTS.resolve():       # not for `make quick` and other side runs
        update_readme("results", results_table(out))


# What Tang et al. (2019, Table 1; test sets, BERT-large teacher) and the seed replication
# (TensorFlow) report: quoted for comparison, marked as theirs wherever shown.
THEIRS = {"sst2": "86.7 -> 90.7 (BERT-large 94.9) | 83.6", "mrpc": "- | 70.5", "rte": "- | 51.6",
          "qqp": "acc 86.2 -> 88.1, F1 63.7 -> 68.2 | -", "dev_matched": "68.7 -> 73.0 | -",
          "dev_mismatched": "68.3 -> 72.6 | -"}


def results_table(results_dir):
    """The README's results table, from every results/<task>.json there is."""
    lines = ["| task (dev) | teacher (ours) | BiLSTM, labels only (ours) | distilled BiLSTM (ours) "
             "| Tang et al.: BiLSTM -> distilled (test) | seed replication |",
             "|---|---|---|---|---|---|"]
    fmt = lambda m: f"{100 * m['acc']:.1f}" + (f" (F1 {100 * m['f1']:.1f})" if "f1" in m else "")  # noqa: E731
    for task_key in data.TASKS:
        path = Path(results_dir) / f"{task_key}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        teacher = r["configs"]["teacher"]["teacher"]
        for d, row in r["dev"].items():
            name = data.TASKS[task_key].name + ("" if d == "dev" else f" {d.replace('dev_', '')}")
            lines.append(f"| {name} | {fmt(row['teacher'])} ({teacher}) | {fmt(row['baseline'])} | "
                         f"{fmt(row['student'])} | {THEIRS.get(d if task_key == 'mnli' else task_key)} |")
    return "\n".join(lines)


RESULTS = Path(__file__).parent / "results"


def update_readme(block, text, readme=Path(__file__).parent / "README.md"):
    """Replace what stands between <!-- block:begin --> and <!-- block:end --> in README.md, so
    that the README's numbers are always the ones in results/."""
    begin, end = f"<!-- {block}:begin -->", f"<!-- {block}:end -->"
    page = readme.read_text()
    if begin not in page or end not in page:
        return
    head, rest = page.split(begin, 1)
    readme.write_text(head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1])


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
    c.add_argument("--sort-pool", type=int, default=100,
                   help="batches drawn at random and sorted by length together (1: random batches)")
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

    def student_flags(c):
        c.add_argument("--vectors", default=None, help="word vectors (default: GloVe 6B 50d in DATA_DIR)")
        c.add_argument("--train-logits", default=None, help="default runs/<task>/logits/train.npy")
        c.add_argument("--augmented", default=None, help="augment.py's output (default runs/<task>/augmented.tsv; '' for none)")
        c.add_argument("--augmented-logits", default=None, help="default runs/<task>/logits/augmented.npy")
        c.add_argument("--alpha", type=float, default=0.0, help="weight of the label loss in Eq. 1 (paper: 0)")
        c.add_argument("--loss", default="mse", choices=["mse", "kl"], help="distillation loss (paper: mse)")
        c.add_argument("--temperature", type=float, default=1.0, help="for --loss kl")
        c.add_argument("--optimizer", default="adadelta", choices=["adadelta", "adam"])
        c.add_argument("--lr", type=float, default=None, help="default 1.0 for adadelta (paper), 1e-3 for adam")
        c.add_argument("--batch-size", type=int, default=50)
        c.add_argument("--epochs", type=int, default=30)
        c.add_argument("--evals-per-epoch", type=int, default=4)
        c.add_argument("--patience", type=int, default=8, help="evaluations without a better dev score")
        c.add_argument("--hidden", type=int, default=150, help="LSTM units per direction")
        c.add_argument("--fc", type=int, default=200, help="units of the ReLU layer")
        c.add_argument("--dropout", type=float, default=0.1)
        c.add_argument("--pooling", default="last", choices=["last", "max"])
        c.add_argument("--no-multichannel", action="store_true", help="one trainable copy of the vectors")
        c.add_argument("--limit", type=int, default=0, help="only the first N examples of the train split")

    c = command("student", "train the BiLSTM student on the teacher's logits (Eq. 1)")
    student_flags(c)
    c.add_argument("--no-distill", action="store_true", help="the baseline: labels of the train split only")
    c.add_argument("--out", default=None, help="default runs/<task>/student (baseline with --no-distill)")
    c.set_defaults(func=cmd_student)

    c = command("sweep", "students for several alphas; plots of dev score against alpha and the curves")
    student_flags(c)
    c.add_argument("--alphas", type=float, nargs="+", default=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    c.add_argument("--plot-only", action="store_true", help="redraw the plots from <out>/sweep.json")
    c.add_argument("--out", default=None, help="default runs/<task>/sweep")
    c.set_defaults(func=cmd_sweep)

    c = command("eval", "metrics, confusion matrix, errors and GLUE submission files of a student")
    c.add_argument("--run", required=True, help="a student folder")
    c.add_argument("--errors", type=int, default=0, help="write N misclassified dev examples")
    c.add_argument("--teacher-dir", default=None, help="a fine-tuned teacher, to show its predictions beside the student's")
    c.add_argument("--submit", default=None, help="folder for the GLUE test submission files")
    c.set_defaults(func=cmd_eval)

    c = command("report", "gather a task's step outputs into results/<task>.json")
    c.add_argument("--runs", default="runs")
    c.add_argument("--out", default="results")
    c.set_defaults(func=cmd_report)

    c = sub.add_parser("predict", help="labels and probabilities from a trained student")
    c.add_argument("--run", required=True)
    c.add_argument("sentences", nargs="*", help="sentences (pairs: 'first<TAB>second'); none: read stdin")
    c.set_defaults(func=cmd_predict)

    args = p.parse_args(argv)
    run = Path("runs") / getattr(args, "task", "")
    defaults = {"teacher_dir": run / "teacher", "train_logits": run / "logits" / "train.npy",
                "augmented": run / "augmented.tsv", "augmented_logits": run / "logits" / "augmented.npy"}
    for name, value in defaults.items():
        if getattr(args, name, "") is None:
            setattr(args, name, str(value))
    if getattr(args, "out", "") is None:
        name = Path(args.input).stem if getattr(args, "input", None) else getattr(args, "split", "")
        args.out = str({"teacher": run / "teacher", "logits": run / "logits" / f"{name}.npy",
                        "student": run / ("baseline" if getattr(args, "no_distill", False) else "student"),
                        "sweep": run / "sweep"}[args.cmd])
    if getattr(args, "lr", 0) is None:
        args.lr = 1.0 if args.optimizer == "adadelta" else 1e-3
    args.func(args)
    if dist.is_initialized():
        # Leave the torchrun group in order: first the DistributedDataParallel wrapper (kept alive
        # by its hooks' reference cycles), then the group; left to the interpreter's exit, gloo's
        # threads can abort the process.
        gc.collect()
        dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main()
    except data.MissingDataError as error:          # a clear message, not a traceback
        sys.exit(f"error: {error}")
