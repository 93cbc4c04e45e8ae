"""distill.py -- chapter 4: the student, Eq. 1, and the teacher it learns from (Tang et al. 2019).

The paper's contribution is the student: a small BiLSTM (models.py) trained to reproduce the
logits of a fine-tuned BERT on the train split and on augmented sentences (augment.py).  This
chapter reads in that order: the student and Eq. 1 first, then the teacher that provides the
logits, then the evaluation of section 4, then the command line with the paper's settings.

One script, one sub-command per step of the method, each runnable on its own:

    python distill.py teacher --task sst2     # 1. fine-tune BERT on the task (the teacher)
    python distill.py logits  --task sst2 --split train   # 3. cache its logits on the train split
    python distill.py logits  --task sst2 --input runs/sst2/augmented.tsv   #    and augmented rows
    python distill.py student --task sst2     # 4. the BiLSTM on them (Eq. 1)
    python distill.py student --task sst2 --no-distill    #    the baseline: labels only
    python distill.py eval    --run runs/sst2/student runs/sst2/baseline   # 5. metrics, GLUE files

(Step 2 is augment.py.)  Every step prints its settings and saves them with its metrics,
command and input manifest beside its output; run again, it resumes.  Under `torchrun` the
logits and student steps share the work among processes (machinery/parallel.py).
"""
import argparse
import math
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

import data
import models
from machinery import checkpoints
from machinery import files
from machinery import flags
from machinery import parallel


# ----------------------------------------------------------------------------------------------
# Step 4: the student.  Section 3.2, Eq. 1:
#     L = alpha * L_CE + (1 - alpha) * L_distill,   L_distill = || z^(B) - z^(S) ||_2^2
# "we penalize the mean-squared-error (MSE) loss between the student network's logits against
# the teacher's logits"; alpha = 0, pure distillation, was best.
#
# z^(B) are BERT's logits, z^(S) the student's: the scores before softmax.  The logits are the
# target, not the probabilities, because softmax squashes what the teacher knows: two logit
# vectors that differ a lot can give nearly the same probabilities.  The squared distance is
# summed over the classes (the norm) and averaged over the batch (torch's convention).

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
        soft = t * t * F.kl_div(F.log_softmax(student_logits / t, -1),
                                F.log_softmax(teacher_logits / t, -1),
                                reduction="batchmean", log_target=True)
    if alpha == 0:
        return soft
    return alpha * F.cross_entropy(student_logits, labels) + (1 - alpha) * soft
    # END EXERCISE 6


# Section 3.3: "a small dataset may not suffice for the teacher model to fully express its
# knowledge", so the student also sees augmented sentences (augment.py), labelled by the teacher.
# The transfer set is what the student trains on: every original row with its gold label and
# the teacher's logits, then every augmented row with the teacher's logits and, for Eq. 1's
# L_CE, the teacher's predicted label (augmented rows have no gold one).

def transfer_set(columns, labels, logits, aug_columns=None, aug_logits=None):
    """Section 3.3 feeding Eq. 1: the original rows (one data.Words per text column) with their
    gold labels and the teacher's logits, then, when given, the augmented rows appended with the
    teacher's argmax as label.  Returns (columns, labels, logits); logits None for the baseline.
    A ValueError naming both counts when aug_logits has not one row per augmented row."""
    # BEGIN EXERCISE 8: originals with gold labels, augmented rows labelled by the teacher's argmax
    if aug_columns is None:
        return columns, np.asarray(labels), logits
    if len(aug_logits) != len(aug_columns[0].lengths):
        raise ValueError(f"{len(aug_columns[0].lengths)} augmented rows "
                         f"but {len(aug_logits)} teacher logits")
    return ([a + b for a, b in zip(columns, aug_columns)],
            np.concatenate([labels, aug_logits.argmax(1)]),
            np.concatenate([logits, aug_logits]))
    # END EXERCISE 8


def read_transfer_set(args, vocab):
    """The transfer set of a student command: the train split (its first args.limit rows) with
    the teacher's logits on it and the augmented rows with theirs; the baseline's: the train
    split with its labels alone."""
    full = data.load_split(args.task, "train", args.data_dir)
    train = data.head(full, args.limit)
    if args.no_distill:
        return transfer_set(data.words_of(train, args.task, vocab), train.label, None)
    classes = len(data.TASKS[args.task].labels)
    # The logits cover the whole train split: --limit keeps the rows of its first examples.
    logits = files.read_logits(args.train_logits, full, classes)[:len(train)]
    train_words = data.words_of(train, args.task, vocab)
    if not args.augmented:         # --augmented '': the train split alone, with its logits
        return transfer_set(train_words, train.label, logits)
    augmented = data.read_tsv(args.augmented, args.task)
    aug_words = data.words_of(augmented, args.task, vocab)
    aug_logits = files.read_logits(args.augmented_logits, augmented, classes)
    return transfer_set(train_words, train.label, logits, aug_words, aug_logits)


# The student of section 3.1 (models.py): word vectors in two channels, one BiLSTM, a ReLU layer,
# the logits.  Pairs share one encoder (the siamese student).

def build_student(vectors, config):
    """The BiLSTM of section 3.1 (models.py) for config's task, shaped by its flags (config: the
    student command's flags, as a dict)."""
    task = data.TASKS[config["task"]]
    return models.BiLSTMStudent(vectors, num_labels=len(task.labels), hidden=config["hidden"],
                                fc=config["fc"], dropout=config["dropout"],
                                multichannel=not config["no_multichannel"],
                                pooling=config["pooling"], pair=task.text_b is not None)


def student_inputs(columns, rows, device):
    """The model's inputs for some rows, in the order BiLSTMStudent.forward takes them:
    [ids_a, lengths_a], and for pairs [ids_a, lengths_a, ids_b, lengths_b]."""
    inputs = []
    for column in columns:                          # one data.Words per text column
        ids, lengths = column.batch(rows)
        inputs.append(torch.from_numpy(ids).to(device))
        inputs.append(torch.from_numpy(lengths).to(device))
    return inputs


def student_optimizer(model, args):
    """Section 4.2: Adadelta at its default learning rate of 1.0, with rho = 0.95 (torch's
    default rho is 0.9, so it is written out); Adam is an option.  The frozen copy of the word
    vectors takes no step."""
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=args.lr, rho=0.95)
    # fused: one kernel updates every tensor
    return torch.optim.Adam(params, lr=args.lr, fused=True)


# The training loop, read top to bottom as nanoGPT's train.py: a batch of rows, the student's
# logits, the teacher's, Eq. 1, backward, step; every so often an evaluation on dev, which keeps
# the best student and decides when to stop.  Several processes (torchrun) enter only through
# the lines under `if ddp:` (DDP: torch's DistributedDataParallel): each takes its part of the
# global batch, DDP averages their gradients, and rank 0 alone evaluates (a process's rank is its
# number under torchrun, 0 the first).  One process runs none of them.

def train_student(model, optimizer, state, examples, dev, device, args, resume):
    """Mini-batches of the transfer set under Eq. 1, dev evaluated args.evals_per_epoch times an
    epoch, until args.patience evaluations bring no better dev score.  Goes on from `state` (new,
    or where an interrupted run stopped), saved into resume (last.pt) at each evaluation."""
    columns, labels, logits = examples
    alpha = 1.0 if args.no_distill else args.alpha  # the baseline learns from the labels alone
    world = parallel.world_size()
    ddp = world > 1
    trained = model
    if ddp:     # after each backward, DDP averages the gradients of the processes
        trained = DistributedDataParallel(model)
    t0 = time.time() - state["seconds"]             # the clock goes on from the last evaluation
    while state["epoch"] < args.epochs and state["bad_evals"] < args.patience:
        batches = student_batches(columns, args, state["epoch"], world)
        every = math.ceil(len(batches) / args.evals_per_epoch)   # the last falls on the epoch's end
        bar = student_progress(labels, batches, state)
        losses = []
        # An interrupted epoch resumes at its next batch (state["batch"]: the batches it had done)
        for k, rows in enumerate(batches[state["batch"]:], start=state["batch"]):
            if ddp:     # this process's contiguous part of the global batch
                rows = np.array_split(np.asarray(rows), world)[parallel.rank()]
            model.train()
            z_student = trained(*student_inputs(columns, rows, device))
            z_teacher = None if logits is None else torch.from_numpy(logits[rows]).to(device)
            loss = distill_loss(z_student, z_teacher, torch.from_numpy(labels[rows]).to(device),
                                alpha=alpha, kind=args.loss, temperature=args.temperature)
            losses.append(resume.finite(loss, "student", state))   # NaN stops before the weights
            if ddp:     # a part's loss weighted by its share: DDP's average is the whole batch's
                loss = loss * (len(rows) * world / len(batches[k]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            state["step"] += 1
            bar.update(len(batches[k]))
            if (k + 1) % every == 0 or k + 1 == len(batches):
                state["batch"] = k + 1
                state["seconds"] = time.time() - t0
                if parallel.rank() == 0:                # rank 0 alone evaluates and saves
                    evaluate_student(model, dev, device, args, state, losses, len(labels))
                    resume.save(state, model=model, optimizer=optimizer)
                losses = []
                if ddp:     # rank 0 alone evaluated: every process stops when it says so
                    state["bad_evals"] = parallel.from_main(state["bad_evals"], device)
                if state["bad_evals"] >= args.patience:
                    break
        bar.close()
        if state["bad_evals"] < args.patience:      # the epoch ran to its end
            state["epoch"] += 1
            state["batch"] = 0
    state["seconds"] = time.time() - t0


def new_student_state():
    """Where a student's training starts: epoch 0, batch 0, no evaluation yet."""
    return {"epoch": 0, "batch": 0, "best": None, "bad_evals": 0, "curve": [], "step": 0,
            "seconds": 0.0}


def student_batches(columns, args, epoch, world):
    """An epoch's batches of row numbers: the rows in a new order each epoch, rows of like length
    together (data.length_batches).  A batch smaller than the number of processes is left out:
    it would leave a process without rows (one process: none is)."""
    lengths = sum(c.lengths for c in columns)       # words per row (both texts of a pair)
    # seed * 1000 + epoch: a batch order of its own for each seed and epoch (runs of fewer than
    # 1000 epochs), so that no two seeds' runs share an epoch's batches.
    batches = data.length_batches(lengths, args.batch_size, seed=args.seed * 1000 + epoch)
    return [b for b in batches if len(b) >= world]


def student_progress(labels, batches, state):
    """The progress line of an epoch, counting the sentences of the batches already done; shown
    by rank 0 alone."""
    done = sum(len(b) for b in batches[:state["batch"]])
    return files.Progress(len(labels), f"student epoch {state['epoch'] + 1}", "sentences",
                          start=done, show=parallel.rank() == 0)


# Early stopping: dev is evaluated args.evals_per_epoch times an epoch, and training stops after
# args.patience evaluations without a better score.  The student kept is the best on dev.

def evaluate_student(model, dev, device, args, state, losses, n):
    """Dev metrics into the learning curve; the best student so far kept as student.pt.
    dev: split name -> (the split, its data.Words columns); losses: the training batches' since
    the last evaluation; n: the transfer set's rows."""
    predicted = {}
    for d, (_, columns) in dev.items():
        predicted[d] = predict_student(model, columns, device).argmax(1)
    result = {d: metrics(args.task, predicted[d], split.label) for d, (split, _) in dev.items()}
    main = score(result[data.dev_splits(args.task)[0]], args.task)
    train_loss = float(np.mean(losses))
    # Each evaluation's predictions too: tools/report.py picks a checkpoint on one half of dev
    # and scores it on the other.
    state["curve"].append({"step": state["step"],
                           "epoch": state["step"] * args.batch_size / n,
                           "train_loss": train_loss,
                           "dev": {d: score(m, args.task) for d, m in result.items()},
                           "predictions": {d: "".join(map(str, p)) for d, p in predicted.items()}})
    print(f"\nstep {state['step']}: train loss {train_loss:.4f}, dev {100 * main:.2f}",
          file=sys.stderr)
    if state["best"] is None or main > state["best"]:
        state["best"] = main
        state["bad_evals"] = 0
        out = Path(args.out)
        checkpoints.save_student(model, out)
        files.save_json(out / "best.json", {"dev": result, "best_step": state["step"]})
        files.save_json(out / "config.json", {k: v for k, v in vars(args).items() if k != "func"})
    else:
        state["bad_evals"] += 1
    if state["bad_evals"] >= args.patience:
        print(f"\nno better dev score in {args.patience} evaluations: stopping", file=sys.stderr)


@torch.no_grad()
def predict_student(model, columns, device, batch_size=512):
    """The student's logits for every row of columns (one data.Words per text column)."""
    model.eval()
    out = np.zeros((len(columns[0].lengths), model.out.out_features), dtype=np.float32)
    for rows in data.length_batches(sum(c.lengths for c in columns), batch_size):
        out[rows] = model(*student_inputs(columns, rows, device)).cpu().numpy()
    return out


# The command.  Run bookkeeping enters here once, at the start and at the end: the manifest (the
# settings and the fingerprints of the input files) that tells a finished run, `last.pt` to
# resume from, and metrics.json when the run is done.  Of the functions above only train_student
# gets a piece of it, `resume`, to save last.pt at each evaluation; evaluate_student keeps the
# best student (student.pt, with best.json and config.json beside it).

def student_manifest(args):
    """A student's settings and the fingerprints of its input files: what tells whether a finished
    student is up to date (tools/report.py's sweep asks it too, of make's own student)."""
    splits = [name for name, _ in data.TASKS[args.task].splits]
    inputs = {s: data.split_path(args.task, s, args.data_dir) for s in splits}
    if not args.no_distill:
        inputs["train_logits"] = args.train_logits
        inputs["augmented"] = args.augmented or None
        # Without augmented rows (--augmented ''), no augmented logits: the manifest says ''
        if args.augmented:
            inputs["augmented_logits"] = args.augmented_logits
        else:
            inputs["augmented_logits"] = args.augmented
    inputs["vectors"] = args.vectors or files.vectors_path(args.data_dir)
    return files.manifest(args, inputs, code=__file__)


def check_logits_sources(args):
    """The logits are rows of their files: refused when a file changed after its logits were
    made (the same row count passes the count's check), naming both."""
    if not args.no_distill:
        train = data.split_path(args.task, "train", args.data_dir)
        files.made_from([(args.train_logits, train), (args.augmented_logits, args.augmented)])


def cmd_student(args):
    """Train a student (with --no-distill, the baseline).  The run's bookkeeping is here, once:
    the manifest that tells a finished run, last.pt to resume from, metrics.json at the end."""
    files.start(args, torch.manual_seed)
    out = Path(args.out)
    files.lock(out)     # one writer per output: a second run on it stops here, naming the first
    made = student_manifest(args)
    if files.finished(out / "metrics.json", made, out):
        checkpoints.Resume(out / "last.pt", made).finish()      # left by a kill at the very end
        print(f"{out} is trained from these settings and inputs: nothing to do")
        return
    check_logits_sources(args)     # before any old output is touched
    files.writable(out)
    # A finished run of other settings or inputs: its record, weights, config and vocabulary
    # are set aside (metrics.previous.json, student.previous.pt, ...).
    companions = [out / "student.pt", out / "best.json", out / "config.json"]
    files.retire(out / "metrics.json", companions + [out / "vocab.txt"])
    device = parallel.setup(args.device)     # under torchrun: this process's device
    master = parallel.rank() == 0
    # The vocabulary: every word of the task's files; pretrained vectors for the words that have
    # one, random ones for the rest.  Saved beside the student (below), which predicts with it.
    vocab = data.task_vocab(args.task, args.data_dir)
    vectors_path = args.vectors or files.vectors_path(args.data_dir)
    vectors, _ = data.load_vectors(vectors_path, vocab, seed=args.seed)
    examples = read_transfer_set(args, vocab)
    model = build_student(vectors, vars(args))
    print(f"student: {models.count_parameters(model, embeddings=False):,} parameters without "
          f"embeddings; {len(examples[1]):,} training examples", file=sys.stderr)
    dev = {}
    for d in data.dev_splits(args.task):
        split = data.load_split(args.task, d, args.data_dir)
        dev[d] = (split, data.words_of(split, args.task, vocab))
    model.to(device)
    optimizer = student_optimizer(model, args)
    # An interrupted run of these very settings and inputs goes on from its last evaluation,
    # with the weights, the optimizer's state and the random state it had there; a new run
    # first removes what an unfinished older run left.
    resume = checkpoints.Resume(out / "last.pt", made, companions)
    state = resume.load(model=model, optimizer=optimizer) or new_student_state()
    if master:      # once an older run's weights are out of the way: never beside its vocabulary
        vocab.save(out / "vocab.txt")
    train_student(model, optimizer, state, examples, dev, device, args, resume)
    if master:
        report = student_report(model, examples, state, args, made)
        student_files = [out / "student.pt", out / "config.json", out / "vocab.txt"]
        files.record(out / "metrics.json", report, student_files)
        resume.finish()
        print(f"best dev score {100 * state['best']:.2f} -> {out}")
    parallel.close()


def student_report(model, examples, state, args, made):
    """metrics.json of a student: its best evaluation, learning curve, size, speed, provenance."""
    rows = len(examples[1])
    sentences = state["step"] * args.batch_size       # an epoch's short last batch counted full
    return {**files.read_json(Path(args.out) / "best.json"),
            "epochs_run": sentences / rows,
            "train_examples": rows,
            "parameters": models.count_parameters(model, embeddings=False),
            "parameters_with_embeddings": models.count_parameters(model),
            "seconds": state["seconds"],
            "sentences_per_second": sentences / state["seconds"],
            "curve": state["curve"],
            "manifest": made,
            **files.provenance(args)}


def load_student(run, device="cpu"):
    """A trained student from its folder, ready to predict, with its vocabulary and config."""
    config, vocab_path, state = checkpoints.read_student(run, device)
    vocab = data.Vocab.load(vocab_path)
    # The saved state holds both copies of the word vectors: zeros of their shape stand in.
    model = build_student(torch.zeros(state["static.weight"].shape), config)
    model.load_state_dict(state)
    return model.to(device).eval(), vocab, config


# ----------------------------------------------------------------------------------------------
# Step 1: the teacher.  BERT fine-tuned on the task's train split (Devlin et al. 2019):
# AdamW, linear warm-up then linear decay, the best dev checkpoint kept.
#
# The paper's teacher is BERT-large; `make` fine-tunes the 6-layer MiniLM, which runs on CPUs
# (--teacher names the others).  Fine-tuning puts a new classifier on BERT's pooled [CLS]
# vector and trains every weight with cross-entropy on the gold labels, a few epochs at a small
# learning rate (Devlin et al.: batch 16 or 32, 5e-5 to 2e-5, 2 to 4 epochs).

def load_teacher(name_or_path, num_labels):
    """BERT (models.py) with a checkpoint's weights, and its WordPiece tokenizer (with MPNet's
    special tokens for an MPNet).  The head for num_labels classes is new unless the checkpoint
    has one of that size (a fine-tuned teacher)."""
    config = checkpoints.teacher_config(name_or_path)
    model = models.Bert(config, num_labels)
    checkpoints.load_teacher_weights(model, name_or_path)
    model_type = "mpnet" if config.get("model_type") == "mpnet" else "bert"
    wordpiece = data.WordPiece(checkpoints.teacher_vocab(name_or_path), model_type=model_type)
    return model, wordpiece


def bert_batch(wordpiece, pairs, max_len, device):
    """BERT's inputs for some (text_a, text_b) pairs: ids, token types, the padding mask."""
    return [torch.from_numpy(x).to(device) for x in data.bert_inputs(wordpiece, pairs, max_len)]


def autocast(device, bf16):
    """bf16 autocast: on CPUs with bf16 matrix units BERT runs faster (`make bench` times both)."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def teacher_optimizer(model, args):
    """AdamW; no weight decay on biases and LayerNorms (Devlin et al.'s recipe).  fused: one kernel
    updates every tensor, a fraction of the CPU's time."""
    matrices = [p for p in model.parameters() if p.ndim > 1]
    vectors = [p for p in model.parameters() if p.ndim <= 1]
    groups = [{"params": matrices, "weight_decay": args.weight_decay},
              {"params": vectors, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=args.lr, fused=True)


def warmup_then_decay(optimizer, examples, args):
    """The learning rate rises linearly over the first args.warmup of the steps, then falls
    linearly to 0 at the last step."""
    steps_per_epoch = math.ceil(examples / args.batch_size)     # the last batch may be short
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup * steps_per_epoch * args.epochs)

    def factor(step):
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def cmd_teacher(args):
    """Fine-tune BERT on the task.  The run's bookkeeping is here, once: the manifest that tells a
    finished run, last.pt to resume from, metrics.json at the end."""
    files.start(args, torch.manual_seed)
    device = torch.device(args.device)
    out = Path(args.out)
    files.lock(out)     # one writer per output: a second run on it stops here, naming the first
    inputs = {"train": data.split_path(args.task, "train", args.data_dir),
              **checkpoints.teacher_inputs(args.teacher, "teacher")}
    for d in data.dev_splits(args.task):
        inputs[d] = data.split_path(args.task, d, args.data_dir)
    made = files.manifest(args, inputs, code=__file__)
    if files.finished(out / "metrics.json", made, out):
        checkpoints.Resume(out / "last.pt", made).finish()      # left by a kill at the very end
        print(f"{out} is trained from these settings and inputs: nothing to do")
        return
    files.writable(out)
    # A finished run of other settings or inputs: its record, weights and config are set
    # aside (metrics.previous.json, teacher.previous.pt, ...), never deleted.
    companions = [out / "teacher.pt", out / "best.json", out / "config.json",
                  out / checkpoints.TEACHER_RECORD]
    files.retire(out / "metrics.json", companions)
    train = data.head(data.load_split(args.task, "train", args.data_dir), args.limit)
    # The pretrained BERT with a classifier for the task's labels (new unless the checkpoint
    # has one of that size).
    model, wordpiece = load_teacher(args.teacher, num_labels=len(data.TASKS[args.task].labels))
    optimizer = teacher_optimizer(model, args)
    schedule = warmup_then_decay(optimizer, len(train), args)
    # An interrupted run of these very settings and inputs goes on from its last evaluation.
    resume = checkpoints.Resume(out / "last.pt", made, companions)
    fresh = {"epoch": 0, "batch": 0, "step": 0, "best": None, "history": [], "seconds": 0.0}
    state = resume.load(model=model, optimizer=optimizer, schedule=schedule) or fresh
    fine_tune(model.to(device), wordpiece, train, optimizer, schedule, state, args, resume)
    report = {**files.read_json(out / "best.json"),
              "history": state["history"],
              "seconds": state["seconds"],
              "sentences_per_second": len(train) * args.epochs / state["seconds"],
              "parameters": models.count_parameters(model),
              "manifest": made,
              **files.provenance(args)}
    # written last, naming the files it vouches for: the step is finished
    teacher_files = [out / "teacher.pt", out / "config.json", out / "vocab.txt"]
    files.record(out / "metrics.json", report, teacher_files)
    resume.finish()
    print(f"best dev score {100 * state['best']:.2f}; teacher saved in {out}")


# The teacher's loop: the same shape as the student's, with BERT's inputs, cross-entropy on the
# gold labels, gradient clipping and a learning rate that changes every step.

def fine_tune(model, wordpiece, train, optimizer, schedule, state, args, resume):
    """Cross-entropy on batches of like length drawn from pools (random ones with --sort-pool 1),
    dev evaluated args.evals_per_epoch times an epoch, the best teacher kept.  resume (last.pt) is
    saved at each evaluation with everything needed to continue after it (the batches of an
    epoch follow from the seed)."""
    pairs = data.teacher_texts(train, args.task)
    labels = np.asarray(train.label)
    device = torch.device(args.device)
    t0 = time.time() - state["seconds"]             # the clock goes on from the last evaluation
    dev = {d: data.load_split(args.task, d, args.data_dir) for d in data.dev_splits(args.task)}
    per_epoch = math.ceil(len(pairs) / args.batch_size)    # batches, the last one maybe short
    # Evaluations at evenly spaced batches of each epoch, the last at its end.
    evals = range(1, args.evals_per_epoch + 1)
    eval_at = {round(per_epoch * i / args.evals_per_epoch) for i in evals}   # batches done
    while state["epoch"] < args.epochs:
        # Batches of like lengths, drawn from pools of args.sort_pool batches (data.py).
        seed = args.seed + state["epoch"]
        batches = data.length_batches(data.rough_lengths(pairs), args.batch_size, seed=seed,
                                      pool=args.sort_pool)
        done = sum(len(b) for b in batches[:state["batch"]])
        desc = f"teacher epoch {state['epoch'] + 1}"
        bar = files.Progress(len(pairs), desc, "sentences", start=done)
        for k in range(state["batch"], len(batches)):
            batch = batches[k]
            texts = [pairs[i] for i in batch]
            model.train()
            with autocast(device, args.bf16):
                logits = model(*bert_batch(wordpiece, texts, args.max_len, device))
            loss = F.cross_entropy(logits.float(), torch.from_numpy(labels[batch]).to(device))
            resume.finite(loss, "teacher", state)     # NaN or inf: stopped before the weights
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)     # as BERT's fine-tuning
            optimizer.step()
            schedule.step()
            state["step"] += 1
            bar.update(len(batch))
            if k + 1 in eval_at:
                epoch_part = (k + 1) / per_epoch
                evaluate_teacher(model, wordpiece, dev, args, state, epoch_part, loss.item())
                state["batch"] = k + 1
                state["seconds"] = time.time() - t0
                resume.save(state, model=model, optimizer=optimizer, schedule=schedule)
        bar.close()
        state["epoch"] += 1
        state["batch"] = 0
    state["seconds"] = time.time() - t0


def evaluate_teacher(model, wordpiece, dev, args, state, epoch_part, loss):
    """Dev metrics into the history; the best teacher so far saved (teacher.pt, its config and
    vocabulary).  epoch_part: the fraction of this epoch done."""
    device = torch.device(args.device)
    predicted = {}
    for d, split in dev.items():
        logits, _ = teacher_logits(model, wordpiece, data.teacher_texts(split, args.task),
                                   batch_size=args.batch_size, max_len=args.max_len,
                                   bf16=args.bf16, device=device, desc=f" eval {d}")
        predicted[d] = logits.argmax(1)
    result = {d: metrics(args.task, predicted[d], split.label) for d, split in dev.items()}
    main = score(result[data.dev_splits(args.task)[0]], args.task)
    # Each evaluation's predictions too, as in the student's learning curve (tools/report.py).
    state["history"].append({"epoch": state["epoch"] + epoch_part,
                             "step": state["step"],
                             "loss": loss,
                             "dev": result,
                             "predictions": {d: "".join(map(str, p))
                                             for d, p in predicted.items()}})
    print(f"\nstep {state['step']}: dev score {100 * main:.2f}", file=sys.stderr)
    if state["best"] is None or main > state["best"]:
        state["best"] = main
        checkpoints.save_teacher(model, wordpiece.path, args.out, task=args.task)
        files.save_json(Path(args.out) / "best.json", {"dev": result, "step": state["step"]})


# ----------------------------------------------------------------------------------------------
# Step 3: the teacher's logits on every training example, original and augmented, computed
# once and kept on disk: the student learns from the logits, which keep what softmax squashes.
#
# The student sees each row in many epochs, but the teacher's logits of a row never change:
# computed once, they make each of the student's epochs as cheap as without a teacher.  The
# rows are sorted by length so that a batch pads few tokens; the result is in the file's order.

@torch.no_grad()
def teacher_logits(model, wordpiece, pairs, batch_size, max_len, bf16, device, array=None,
                   desc="logits"):
    """Logits of the teacher for every (text_a, text_b) pair, in length-sorted batches.
    array: a files.Resumable to fill and save every 20 batches, so that an interrupted run
    continues after its last saved batch.  Returns the logits and the seconds spent on them
    over every run."""
    model.eval()
    batches = data.length_batches(data.rough_lengths(pairs), batch_size)
    if array is None:
        result = np.zeros((len(pairs), model.classifier.out_features), np.float32)
        done = 0
        spent = 0.0
    else:
        result = array.array
        done = array.done              # batches finished by an interrupted run
        spent = array.spent
    t0 = time.time()
    bar = files.Progress(len(pairs), desc, "sentences", start=sum(len(b) for b in batches[:done]))
    for k in range(done, len(batches)):
        with autocast(device, bf16):
            logits = model(*bert_batch(wordpiece, [pairs[i] for i in batches[k]], max_len, device))
        result[batches[k]] = logits.float().cpu().numpy()
        # On disk every 20 batches (and at the end): a killed run redoes at most 20.
        if array is not None and (k % 20 == 19 or k == len(batches) - 1):
            array.save(k + 1, time.time() - t0)
        bar.update(len(batches[k]))
    bar.close()
    if array is not None:
        array.finish()
    return result, spent + time.time() - t0


def cmd_logits(args):
    """The teacher's logits on a split or an augmented file, into a .npy and a summary beside it."""
    files.start(args)
    checkpoints.check_teacher(args.teacher_dir, args.task, args.any_teacher)   # of this task
    out = Path(args.out)
    files.lock(out)     # one writer per output: a second run on it stops here, naming the first
    source = args.input or data.split_path(args.task, args.split, args.data_dir)
    inputs = {"input": source, **checkpoints.teacher_inputs(args.teacher_dir, "teacher_dir")}
    ignore = ["any_teacher", "split"] if args.input else ["any_teacher"]
    made = files.manifest(args, inputs, ignore=ignore, code=__file__)
    summary_path = out.with_suffix(".json")
    if out.exists() and files.finished(summary_path, made, out):
        print(f"{out} holds the logits of these settings and inputs: nothing to do")
        return
    files.retire(summary_path)
    split = data.read_tsv(source, args.task)
    device = parallel.setup(args.device)     # under torchrun: this process's device
    model, wordpiece = load_teacher(args.teacher_dir, num_labels=len(data.TASKS[args.task].labels))
    model.to(device)
    pairs = data.teacher_texts(split, args.task)
    classes = model.classifier.out_features

    def compute(rows, path, desc):
        """The logits of some rows into the .npy at path, resumably (machinery/parallel.py picks
        the rows and the path of each process: under torchrun a shard of the batches)."""
        array = files.Resumable(path, (len(rows), classes), made)
        texts = [pairs[i] for i in rows]
        return teacher_logits(model, wordpiece, texts, batch_size=args.batch_size,
                              max_len=args.max_len, bf16=args.bf16, device=device, array=array,
                              desc=desc)
    lengths = data.rough_lengths(pairs)
    batches = data.length_batches(lengths, args.batch_size)
    # One process computes every row into out.  Under torchrun, rank r computes its own
    # contiguous run of these batches into out.rank<r>of<N>.npy and waits for the others; rank 0
    # then joins the shards into the file one process would write (the others get None).
    result, seconds = parallel.logits_by_rank(compute, batches, lengths, out, classes, made)
    if parallel.rank() == 0:
        summary = {"rows": len(pairs),
                   "seconds": seconds,
                   "sentences_per_second": len(pairs) / seconds,
                   "processes": parallel.world_size(),
                   "input": str(source),
                   "manifest": made,
                   **files.provenance(args)}
        if split.label is not None:
            summary["metrics"] = metrics(args.task, result.argmax(1), split.label)
        files.record(summary_path, summary, [out])
        print(f"{len(pairs):,} logits in {seconds:.0f}s -> {out}")
    parallel.close()


# ----------------------------------------------------------------------------------------------
# Step 5: evaluation as in the paper (section 4): GLUE's metrics on dev, the errors beside the
# teacher's answers, and the files GLUE's server scores the test split from.
#
# GLUE's own metrics: accuracy, and for the paraphrase tasks (QQP, MRPC) F1 beside it.  The test
# splits' labels are not published: GLUE's server scores a file of predictions, which
# `eval --submit` writes for each student and for the teacher.

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


# The students are evaluated together, and beside the teacher, so that the teacher runs once for
# every split, and the error file shows where the student fails the teacher and where both fail.

def cmd_eval(args):
    """Dev metrics, errors and GLUE test files of each run, and the teacher's (run once for all)."""
    t0 = files.start(args, torch.manual_seed)
    files.lock(*args.run)      # eval.json and errors in each run folder: one writer
    device = torch.device(args.device)
    students = {run: load_student(run, args.device) for run in args.run}
    for folder in args.run + [args.submit] * bool(args.submit):    # written at the end: fail now
        files.writable(folder)
    # Predictions are filed under each run's folder name (the GLUE files too), "teacher" under
    # the teacher's: the names must differ, and the runs be of one task, to share its teacher.
    tasks = {config["task"] for _, _, config in students.values()}
    names = {Path(run).name for run in args.run} - {"teacher"}
    if len(tasks) > 1 or len(names) < len(args.run):
        raise ValueError(f"eval: the runs {args.run} must be students of one task, in folders of "
                         f"different names")
    config = students[args.run[0]][2]
    task_key = config["task"]
    task = data.TASKS[task_key]
    data_dir = files.given_data_dir(args.data_dir, config["data_dir"])
    reports = {run: {"run": run, **files.provenance(args)} for run in args.run}
    for run in args.run:
        if not (Path(run) / "metrics.json").exists():
            print(f"warning: {run} has not finished training: evaluating its best student so far",
                  file=sys.stderr)
    teacher = eval_teacher(args, task_key, device)
    for d in data.dev_splits(task_key):
        split = data.load_split(task_key, d, data_dir)
        predicted = predict_all(students, teacher, split, task_key, device, d)
        for run in args.run:
            report_dev(reports[run], run, d, split, predicted, task_key, args.errors)
    if args.submit:     # the test splits' labels are GLUE's secret: its server scores these files
        for d, file_name in task.submission:
            split = data.load_split(task_key, d, data_dir)
            predicted = predict_all(students, teacher, split, task_key, device, d)
            for name, labels in predicted.items():      # GLUE's layout: <submit>/<name>/<file>
                rows = [[i, task.labels[p]] for i, p in zip(split.index, labels)]
                files.write_tsv(Path(args.submit) / name / file_name, ["index", "prediction"], rows)
    for run in args.run:
        files.save_json(Path(run) / "eval.json", {**reports[run], "seconds": time.time() - t0})


def eval_teacher(args, task_key, device):
    """The teacher to show beside the students, loaded once for every split, with its WordPiece:
    --teacher-dir, else the teacher/ beside the first run (the runs' own task's) when it holds
    a teacher.pt; None when there is none.  It must be a teacher of the runs' task."""
    teacher_dir = args.teacher_dir or Path(args.run[0]).parent / "teacher"
    if not args.teacher_dir and not (Path(teacher_dir) / "teacher.pt").exists():
        return None
    checkpoints.check_teacher(teacher_dir, task_key, args.any_teacher)
    bert, wordpiece = load_teacher(teacher_dir, len(data.TASKS[task_key].labels))
    return bert.to(device), wordpiece


def predict_all(students, teacher, split, task_key, device, split_name):
    """Each student's predicted labels on a split, by its folder's name, and the teacher's."""
    # The predicted label is the argmax of the logits: softmax would not change it.
    predicted = {}
    for run, (model, vocab, _) in students.items():
        columns = data.words_of(split, task_key, vocab)
        predicted[Path(run).name] = predict_student(model, columns, device).argmax(1)
    if teacher is not None:
        bert, wordpiece = teacher
        # eval has no teacher flags, so its settings are fixed here: inputs cut at 128 WordPiece
        # tokens as in fine-tuning (--max-len's default), so the teacher reads what it learnt on;
        # bf16 autocast on CPUs, where fp32 BERT is slow; 128 examples a batch, a size chosen for
        # speed and memory.
        logits, _ = teacher_logits(bert, wordpiece, data.teacher_texts(split, task_key),
                                   batch_size=128, max_len=128, bf16=device.type == "cpu",
                                   device=device, desc=f"teacher on {split_name}")
        predicted["teacher"] = logits.argmax(1)
    return predicted


def report_dev(report, run, d, split, predicted, task_key, errors):
    """A run's metrics on dev split d, and the teacher's beside them, into its report; printed;
    its first `errors` misclassified examples written beside it."""
    mine = predicted[Path(run).name]
    report[d] = metrics(task_key, mine, split.label)
    if "teacher" in predicted:
        report[f"teacher_{d}"] = metrics(task_key, predicted["teacher"], split.label)
    shown = ", ".join(f"{k} {100 * v:.2f}" for k, v in report[d].items() if k in ("acc", "f1"))
    print(f"{run} {d}: {shown}")
    if errors:
        files.write_errors(Path(run) / f"errors_{d}.tsv", split, mine, predicted.get("teacher"),
                           data.TASKS[task_key], errors)


def cmd_predict(args):
    """Labels and probabilities from a trained student, for sentences given or read from stdin."""
    model, vocab, config = load_student(args.run)
    task = data.TASKS[config["task"]]
    lines = args.sentences or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    fields = [line.split("\t") for line in lines]
    if not lines or not all(f.strip() for line in fields for f in line):
        sys.exit("predict: give non-empty sentences, as arguments or lines on stdin")
    if task.text_b and any(len(f) != 2 for f in fields):
        sys.exit(f"{task.name} classifies sentence pairs: give 'first<TAB>second' per line")
    text_a = [f[0] for f in fields]
    text_b = [f[1] for f in fields] if task.text_b else None
    split = data.Split(text_a, text_b, None, list(range(len(fields))))
    columns = data.words_of(split, config["task"], vocab)
    logits = torch.from_numpy(predict_student(model, columns, torch.device("cpu")))
    probabilities = torch.softmax(logits, -1).numpy()
    for line, p in zip(lines, probabilities):
        shown = " ".join(f"{label}:{q:.3f}" for label, q in zip(task.labels, p))
        print(f"{task.labels[p.argmax()]}\t{shown}\t{line}")


# ----------------------------------------------------------------------------------------------
# The command line: every flag, with the paper's settings as defaults.  The Makefile holds the
# settings `make` runs with; each step prints its settings at start and saves them beside its
# output.  with_defaults fills the paths left out from the run folder runs/<task>/.
#
# Where `make` departs from the paper (Adam and batches of 128 for the student, a 6-layer teacher)
# it says so with flags: `python distill.py student` alone trains with the paper's settings, on
# GloVe's 50-d vectors (the paper: word2vec, 300-d; docs/differences.md lists every difference).

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def common_flags(c):
    """The flags of every step that reads a task."""
    c.add_argument("--task", default="sst2", choices=sorted(data.TASKS))
    c.add_argument("--data-dir", default=None, help="folder with glue/, vectors/, nltk_data/")
    c.add_argument("--seed", type=flags.natural, default=0)
    c.add_argument("--device", default=DEVICE)
    return c


def student_flags(c):
    """The student's flags; tools/report.py's alpha sweep takes the same."""
    c.add_argument("--vectors", default=None,
                   help="word vectors (default: GloVe 6B 50d in DATA_DIR)")
    c.add_argument("--train-logits", default=None, help="default runs/<task>/logits/train.npy")
    c.add_argument("--augmented", default=None,
                   help="augment.py's output (default runs/<task>/augmented.tsv; '' for none)")
    c.add_argument("--augmented-logits", default=None,
                   help="default runs/<task>/logits/augmented.npy")
    # Eq. 1: the paper distils with the MSE between the logits and no label loss (alpha = 0).
    c.add_argument("--alpha", type=flags.probability, default=0.0,
                   help="weight of the label loss in Eq. 1 (paper: 0)")
    c.add_argument("--loss", default="mse", choices=["mse", "kl"],
                   help="distillation loss (paper: mse)")
    c.add_argument("--temperature", type=flags.positive, default=1.0, help="for --loss kl")
    # Section 4.2: Adadelta with learning rate 1.0; batches of 50.
    c.add_argument("--optimizer", default="adadelta", choices=["adadelta", "adam"])
    c.add_argument("--lr", type=flags.positive, default=None,
                   help="default 1.0 for adadelta (paper), 1e-3 for adam")
    c.add_argument("--batch-size", type=flags.positive_int, default=50,
                   help="sentences per batch (paper: 50, section 4.2)")
    # At most --epochs epochs; early stopping on dev may end the run sooner.
    c.add_argument("--epochs", type=flags.positive_int, default=30)
    c.add_argument("--evals-per-epoch", type=flags.positive_int, default=4)
    c.add_argument("--patience", type=flags.positive_int, default=8,
                   help="evaluations without a better dev score")
    # Section 4.2: 150 LSTM units per direction, 200 ReLU units (300 and 400 where dev prefers
    # them).  Section 3.1: the final states, two channels of word vectors.
    c.add_argument("--hidden", type=flags.positive_int, default=150,
                   help="LSTM units per direction (paper: 150, section 4.2)")
    c.add_argument("--fc", type=flags.positive_int, default=200,
                   help="units of the ReLU layer (paper: 200, section 4.2)")
    c.add_argument("--dropout", type=flags.probability, default=0.1)
    # Options beside the paper's student: max-pooling over all states, one channel of vectors.
    c.add_argument("--pooling", default="last", choices=["last", "max"],
                   help="paper: last (the final states)")
    c.add_argument("--no-multichannel", action="store_true",
                   help="one trainable copy of the vectors")
    c.add_argument("--limit", type=flags.natural, default=0,
                   help="only the first N examples of the train split (0: all)")


def bert_flags(c, batch_size):
    """The teacher's batches: their size, WordPiece tokens per example, bf16 autocast."""
    c.add_argument("--batch-size", type=flags.positive_int, default=batch_size)
    # At least [CLS], [SEP] and one more: a pair's [CLS] a [SEP] b [SEP] is cut to fit (data.py).
    c.add_argument("--max-len", type=flags.integer(3), default=128,
                   help="WordPiece tokens per example")
    # bf16 autocast runs faster on CPUs with bf16 matrix units (`make bench` times both), at a
    # small cost in precision; --no-bf16 computes in fp32.
    c.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)


def teacher_flags(c):
    """Fine-tuning BERT as Devlin et al. (2019) do: AdamW at 5e-5, warm-up over 10% of the
    steps, weight decay 0.01."""
    c.add_argument("--teacher", default="minilm",
                   help=f"one of {sorted(checkpoints.TEACHERS)}, a folder, file or URL")
    c.add_argument("--out", default=None,
                   help="folder for the best checkpoint (default runs/<task>/teacher)")
    c.add_argument("--epochs", type=flags.positive_int, default=1)
    c.add_argument("--lr", type=flags.positive, default=5e-5)
    bert_flags(c, batch_size=32)
    c.add_argument("--warmup", type=flags.probability, default=0.1,
                   help="fraction of steps of linear warm-up")
    c.add_argument("--weight-decay", type=flags.non_negative, default=0.01)
    c.add_argument("--evals-per-epoch", type=flags.positive_int, default=4)
    # Batches of like lengths pad fewer tokens: a faster epoch (docs/speed.md measures it).
    c.add_argument("--sort-pool", type=flags.positive_int, default=100,
                   help="batches drawn at random and sorted by length together (1: random batches)")
    c.add_argument("--limit", type=flags.natural, default=0,
                   help="train on the first N examples only (0: all)")


def logits_flags(c):
    """The logits step's: which teacher, on which file, into which .npy."""
    c.add_argument("--teacher-dir", default=None,
                   help="fine-tuned teacher (default runs/<task>/teacher)")
    c.add_argument("--input", default=None,
                   help="a TSV in the task's layout, e.g. augment.py's output")
    c.add_argument("--split", default="train", help="the GLUE split, when no --input")
    c.add_argument("--out", default=None,
                   help="the .npy to write (default runs/<task>/logits/<split>.npy, or "
                        "runs/<task>/logits/<input's stem>.npy with --input)")
    any_teacher_flag(c)
    bert_flags(c, batch_size=256)


def any_teacher_flag(c):
    """The teacher's folder records its task (teacher.json): one of another task, or one never
    fine-tuned (a random classifier), is refused unless this flag is given.  A permission, not a
    setting: the logits' manifest leaves it out (it changes no number)."""
    c.add_argument("--any-teacher", action="store_true",
                   help="use a teacher of another task, or never fine-tuned, anyway")


def eval_flags(c):
    """The evaluation's: which students, errors written, the teacher beside them, GLUE files."""
    c.add_argument("--run", required=True, nargs="+",
                   help="student folders (of different names) of one task")
    c.add_argument("--errors", type=flags.natural, default=0,
                   help="write N misclassified dev examples")
    c.add_argument("--teacher-dir", default=None,
                   help="a fine-tuned teacher, to show its predictions beside the student's "
                        "(default: teacher/ beside the run, when it exists)")
    any_teacher_flag(c)
    c.add_argument("--data-dir", default=None,
                   help="folder with glue/ (default: DATA_DIR, else the one the student was "
                        "trained with)")
    c.add_argument("--submit", default=None,
                   help="folder for the GLUE test files: <submit>/<run name>/, <submit>/teacher/")
    c.add_argument("--seed", type=flags.natural, default=0)
    c.add_argument("--device", default=DEVICE)


def parser():
    """distill.py's command line: one sub-command per step."""
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("teacher", help="fine-tune BERT on the task's train split")
    teacher_flags(common_flags(c))
    c = sub.add_parser("logits", help="cache the teacher's logits for a split or an augmented file")
    logits_flags(common_flags(c))
    c = sub.add_parser("student", help="train the BiLSTM student on the teacher's logits (Eq. 1)")
    student_flags(common_flags(c))
    c.add_argument("--no-distill", action="store_true",
                   help="the baseline: labels of the train split only")
    c.add_argument("--out", default=None,
                   help="default runs/<task>/student (baseline with --no-distill)")
    c = sub.add_parser("eval", help="metrics, confusion matrix, errors and GLUE test files of "
                       "students and the teacher")
    eval_flags(c)
    c = sub.add_parser("predict", help="labels and probabilities from a trained student")
    c.add_argument("--run", required=True)
    c.add_argument("sentences", nargs="*",
                   help="sentences (pairs: 'first<TAB>second'); none: read stdin")
    return p


def with_defaults(args):
    """The run folder's paths for the flags left out: runs/<task>/..."""
    run = Path("runs") / getattr(args, "task", "")
    defaults = {"teacher_dir": run / "teacher",
                "train_logits": run / "logits" / "train.npy",
                "augmented": run / "augmented.tsv",
                "augmented_logits": run / "logits" / "augmented.npy"}
    for name, value in defaults.items():
        # eval's teacher stays None: cmd_eval looks for one beside the runs
        if getattr(args, name, "") is None and not (args.cmd == "eval" and name == "teacher_dir"):
            setattr(args, name, str(value))
    # Each step's output, named after what it holds: logits of augmented.tsv -> augmented.npy.
    if getattr(args, "out", "") is None:
        name = Path(args.input).stem if getattr(args, "input", None) else getattr(args, "split", "")
        student = "baseline" if getattr(args, "no_distill", False) else "student"
        outs = {"teacher": run / "teacher",
                "logits": run / "logits" / f"{name}.npy",
                "student": run / student}
        args.out = str(outs[args.cmd])
    if getattr(args, "lr", 0) is None:      # the student's: Adadelta's 1.0 (paper), Adam's 1e-3
        args.lr = 1.0 if args.optimizer == "adadelta" else 1e-3
    return args


def parse(argv=None):
    return with_defaults(parser().parse_args(argv))


def main(argv=None):
    args = parse(argv)
    commands = {"teacher": cmd_teacher, "logits": cmd_logits, "student": cmd_student,
                "eval": cmd_eval, "predict": cmd_predict}
    commands[args.cmd](args)


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, ValueError) as error:     # our messages name the file: no traceback
        sys.exit(f"error: {error}")
