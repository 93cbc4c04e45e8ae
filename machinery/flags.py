"""flags.py -- the command line of distill.py: every flag, with the paper's settings as defaults.

Each step prints its settings at start and saves them beside its output; the Makefile holds the
settings `make` uses.  with_defaults fills the paths left out from the run folder runs/<task>/.
"""
import argparse
from pathlib import Path

import torch

from machinery import checkpoints
import data


def student_flags(c):
    """The student's flags; report.py's alpha sweep takes the same."""
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
    c.add_argument("--pooling", default="last", choices=["last", "max"], help="paper: last (the final states)")
    c.add_argument("--no-multichannel", action="store_true", help="one trainable copy of the vectors")
    c.add_argument("--limit", type=int, default=0, help="only the first N examples of the train split")


def common_flags(c):
    c.add_argument("--task", default="sst2", choices=sorted(data.TASKS))
    c.add_argument("--data-dir", default=None, help="folder with glue/, vectors/, nltk_data/")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return c


def bert_flags(c, batch_size):
    c.add_argument("--batch-size", type=int, default=batch_size)
    c.add_argument("--max-len", type=int, default=128, help="WordPiece tokens per example")
    c.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = common_flags(sub.add_parser("teacher", help="fine-tune BERT on the task's train split"))
    c.add_argument("--teacher", default="minilm", help=f"one of {sorted(checkpoints.TEACHERS)}, a folder, file or URL")
    c.add_argument("--out", default=None, help="folder for the best checkpoint (default runs/<task>/teacher)")
    c.add_argument("--epochs", type=int, default=1)
    c.add_argument("--lr", type=float, default=5e-5)
    bert_flags(c, 32)
    c.add_argument("--warmup", type=float, default=0.1, help="fraction of steps of linear warm-up")
    c.add_argument("--weight-decay", type=float, default=0.01)
    c.add_argument("--evals-per-epoch", type=int, default=4)
    c.add_argument("--sort-pool", type=int, default=100,
                   help="batches drawn at random and sorted by length together (1: random batches)")
    c.add_argument("--limit", type=int, default=0, help="train on the first N examples only")
    c = common_flags(sub.add_parser("logits", help="cache the teacher's logits for a split or an augmented file"))
    c.add_argument("--teacher-dir", default=None, help="fine-tuned teacher (default runs/<task>/teacher)")
    c.add_argument("--input", default=None, help="a TSV in the task's layout, e.g. augment.py's output")
    c.add_argument("--split", default="train", help="the GLUE split, when no --input")
    c.add_argument("--out", default=None, help="the .npy to write (default runs/<task>/logits/<split>.npy)")
    bert_flags(c, 256)
    c = common_flags(sub.add_parser("student", help="train the BiLSTM student on the teacher's logits (Eq. 1)"))
    student_flags(c)
    c.add_argument("--no-distill", action="store_true", help="the baseline: labels of the train split only")
    c.add_argument("--out", default=None, help="default runs/<task>/student (baseline with --no-distill)")
    c = sub.add_parser("eval", help="metrics, confusion matrix, errors and GLUE test files of students and the teacher")
    c.add_argument("--run", required=True, nargs="+", help="student folders (of different names) of one task")
    c.add_argument("--errors", type=int, default=0, help="write N misclassified dev examples")
    c.add_argument("--teacher-dir", default=None, help="a fine-tuned teacher, to show its predictions "
                   "beside the student's (default: teacher/ beside the run, when it exists)")
    c.add_argument("--submit", default=None, help="folder for the GLUE test files: <submit>/<run name>/, <submit>/teacher/")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    c = sub.add_parser("predict", help="labels and probabilities from a trained student")
    c.add_argument("--run", required=True)
    c.add_argument("sentences", nargs="*", help="sentences (pairs: 'first<TAB>second'); none: read stdin")
    return p


def with_defaults(args):
    """The run folder's paths for the flags left out: runs/<task>/..."""
    run = Path("runs") / getattr(args, "task", "")
    defaults = {"teacher_dir": run / "teacher", "train_logits": run / "logits" / "train.npy",
                "augmented": run / "augmented.tsv", "augmented_logits": run / "logits" / "augmented.npy"}
    for name, value in defaults.items():
        if getattr(args, name, "") is None and not (args.cmd == "eval" and name == "teacher_dir"):
            setattr(args, name, str(value))
    if getattr(args, "out", "") is None:
        name = Path(args.input).stem if getattr(args, "input", None) else getattr(args, "split", "")
        args.out = str({"teacher": run / "teacher", "logits": run / "logits" / f"{name}.npy",
                        "student": run / ("baseline" if getattr(args, "no_distill", False) else "student")}[args.cmd])
    if getattr(args, "lr", 0) is None:
        args.lr = 1.0 if args.optimizer == "adadelta" else 1e-3
    return args


def parse(argv=None):
    return with_defaults(parser().parse_args(argv))
