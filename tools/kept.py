"""tools/kept.py -- machinery a reader may skip: what the students need of an expensive teacher,
kept small, and put back on a machine that never held the teacher.

A teacher's hours end in a few small files: its logits on the transfer set (two floats a
sentence, about 3 MB for SST-2's), each with the record naming the file its rows came from; the
teacher's own record (its dev figures and predictions at every evaluation, its timings); and its
GLUE test file.  The students need nothing else of it: the augmented sentences are made again,
identically, by augment.py from their seed, and the student step refuses logits whose record
names another version of that file.

    make keep TASK=sst2 TEACHER=mpnet KEPT=experiments/mpnet/sst2/kept     # save, once
    make sst2 TEACHER=mpnet KEPT=experiments/mpnet/sst2/kept               # elsewhere, later

`make keep` runs `save`; with KEPT set, `make <task>` runs `restore` in place of the teacher and
logits steps, then the chain as usual (the students, their evaluation without the teacher's
checkpoint, the report).  Saving and restoring leave every file byte for byte as the teacher's
run wrote it: kept.json lists each one's fingerprint, and a file that differs from it, or that
would replace a different file in the run folder, stops the command, named.
"""
import argparse
import shutil
import sys
from pathlib import Path

from machinery import files

# The teacher's run, as `make <task>` leaves it in runs/<task>/: what the later steps read of
# it (the report and the error analysis read the teacher's record, teacher/metrics.json).
TEACHER_FILES = ["teacher/metrics.json"]
LOGITS_FILES = ["logits/train.npy", "logits/train.json",
                "logits/augmented.npy", "logits/augmented.json"]
RECORD = "kept.json"


def kept_files(run):
    """The files to keep of a finished run folder (paths relative to it), or a stop naming the
    first that is missing: the teacher and logits steps must have finished, and the eval step,
    which writes the teacher's GLUE test file."""
    run = Path(run)
    for name in TEACHER_FILES + LOGITS_FILES:
        if not (run / name).exists():
            raise SystemExit(f"{run / name}: missing; expected the finished teacher and logits "
                             f"steps of `make <task>` there")
    glue = sorted(str(p.relative_to(run)) for p in (run / "glue" / "teacher").glob("*.tsv"))
    if not glue:
        raise SystemExit(f"{run / 'glue' / 'teacher'}: no GLUE test file of the teacher; expected "
                         f"the finished eval step of `make <task>` there")
    return TEACHER_FILES + LOGITS_FILES + glue


def copy_unless_different(source, target):
    """Copy source to target; an identical target is left as it is, a different one stops us."""
    target = Path(target)
    if target.exists():
        if files.fingerprint(target) == files.fingerprint(source):
            return False
        raise SystemExit(f"{target} exists and differs from {source}: not replaced.  Move it "
                         f"away, or restore into a fresh run folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return True


def save(args):
    """Copy the teacher's small files out of a run folder into args.out, with kept.json."""
    names = kept_files(args.run)
    out = Path(args.out)
    for name in names:
        copy_unless_different(Path(args.run) / name, out / name)
    teacher = files.read_json(out / "teacher" / "metrics.json")["config"]
    record = {"run": str(args.run),
              "task": teacher["task"],
              "teacher": teacher["teacher"],
              "files": {name: files.fingerprint(out / name) for name in names},
              **files.provenance(args)}
    files.save_json(out / RECORD, record)
    megabytes = sum(f["bytes"] for f in record["files"].values()) / 1e6
    print(f"kept {len(names)} files ({megabytes:.1f} MB) of {args.run} in {out}")


def check(kept, record, args):
    """Stop, naming what differs, unless the kept files are whole and are those of the task,
    the teacher and the augmented sentences of the run they are to be restored into."""
    for key in ("task", "teacher"):
        if record[key] != getattr(args, key):
            raise SystemExit(f"{kept} holds the files of {key} {record[key]!r}, not of "
                             f"{getattr(args, key)!r}: restore it into a run of the same {key}")
    for name, made in record["files"].items():
        if not (kept / name).exists() or files.fingerprint(kept / name) != made:
            raise SystemExit(f"{kept / name}: missing or changed since `make keep` saved it "
                             f"(its sha256 is in {kept / RECORD})")
    # The augmented logits are rows of one augmented file: the run's, made again by augment.py,
    # must be that file, or every row would meet another sentence's logits.
    augmented = Path(args.run) / "augmented.tsv"
    made = files.read_json(kept / "logits" / "augmented.json")["manifest"]["inputs"]["input"]
    if augmented.exists() and files.fingerprint(augmented) != made:
        raise SystemExit(f"{augmented} is not the file the kept augmented logits were made from "
                         f"(sha256 {made['sha256'][:12]}...): make it with the kept run's "
                         f"augmentation settings (make's SEED, LIMIT, N_ITER, AUGMENT_FLAGS)")


def restore(args):
    """Check the kept files (check), then copy them and kept.json into the run folder."""
    kept = Path(args.kept)
    if not (kept / RECORD).exists():
        raise SystemExit(f"{kept / RECORD}: missing; expected a folder written by "
                         f"`make keep` (python -m tools.kept save)")
    record = files.read_json(kept / RECORD)
    check(kept, record, args)
    copied = [name for name in [*record["files"], RECORD]
              if copy_unless_different(kept / name, Path(args.run) / name)]
    print(f"{len(copied)} of {len(record['files']) + 1} kept files of the teacher copied into "
          f"{args.run} (the others were there already)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="cmd", required=True)
    c = commands.add_parser("save", help="a run folder's teacher files into a kept folder")
    c.add_argument("--run", required=True, help="make's run folder, e.g. runs/mpnet/sst2")
    c.add_argument("--out", required=True, help="the kept folder, e.g. experiments/mpnet/sst2/kept")
    c = commands.add_parser("restore", help="a kept folder's files into a run folder")
    c.add_argument("--kept", required=True, help="a folder written by save")
    c.add_argument("--run", required=True, help="the run folder to restore into")
    c.add_argument("--task", required=True, help="the run's task: the kept teacher's must be it")
    c.add_argument("--teacher", required=True,
                   help="the teacher the run is of (make's TEACHER): the kept one must be it")
    args = p.parse_args(argv)
    if args.cmd == "save":
        save(args)
    else:
        restore(args)


if __name__ == "__main__":
    sys.exit(main())
