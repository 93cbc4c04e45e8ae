"""parallel.py -- machinery a reader may skip: the logits and student steps under torchrun.

    torchrun --standalone --nproc_per_node=N distill.py logits|student ...

distill.py's loops are written for one process; several processes (GPUs, machines) enter them
as a few lines guarded by `if ddp:`, as in nanoGPT's train.py.  This file holds what those
lines call.  Run plainly, this process is rank 0 of a world of 1 and nothing here is needed.
Under torchrun (it sets WORLD_SIZE, RANK and LOCAL_RANK):

  * logits: each rank computes a contiguous run of the length-sorted batches into its own
    resumable shard file; rank 0 merges them into the file one process would write;
  * student: DistributedDataParallel averages the gradients; the batch stays the global one,
    cut into one part per rank, each part's loss weighted by its share; rank 0 alone evaluates
    and decides when to stop early, and tells the others (`from_main`).
"""
import gc
import os
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from machinery import files


def world_size():
    """How many processes take part: 1 unless started by torchrun."""
    return int(os.environ.get("WORLD_SIZE", 1))


def rank():
    """This process's place among them, 0 to world_size() - 1; rank 0 writes the outputs."""
    return int(os.environ.get("RANK", 0)) if world_size() > 1 else 0


def setup(device):
    """This process's device.  Under torchrun, GPU k of a machine serves its local rank k, and
    the process joins the group of processes (gloo on CPUs, nccl on GPUs)."""
    device = torch.device(device)
    if world_size() == 1:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        # A rank may wait long at a barrier: after a restart, another rank may have its whole
        # shard of logits still to do.
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(hours=24))
    return device


def from_main(value, device):
    """Rank 0's value of an integer, on every rank."""
    tensor = torch.tensor([value], device=device)
    dist.broadcast(tensor, 0)
    return int(tensor.item())


def close():
    """Leave the group of processes, if this process joined one."""
    if dist.is_initialized():
        # Leave the group in order: first the DistributedDataParallel wrapper (kept alive by its
        # hooks' reference cycles), then the group; left to the interpreter's exit, gloo's
        # threads can abort the process.
        gc.collect()
        dist.destroy_process_group()


def shard_cuts(batches, lengths, world):
    """Where to cut the batches into `world` contiguous runs, rank r taking cuts[r]:cuts[r + 1]:
    at equal padded word counts (batch size x longest example), because length-sorted batches
    grow towards the end."""
    cost = np.cumsum([len(b) * (1 + max(lengths[i] for i in b)) for b in batches])
    inner = [int(np.searchsorted(cost, cost[-1] * r / world, side="right")) for r in range(1, world)]
    return [0] + inner + [len(batches)]


def logits_by_rank(compute, batches, lengths, out, classes, made=None):
    """compute(rows, path, desc) -> (logits, seconds) fills the .npy at path for those rows,
    resumably, in length-sorted batches (`batches`, as compute cuts them for all rows).  One
    process computes every row into out.  Under torchrun each rank fills its own
    `<out>.rank<r>of<N>.npy` with the very batches a single process would run, and rank 0
    gathers them into out; a finished shard is kept only when its manifest is `made`.  Returns
    (logits, seconds) on rank 0, (None, seconds) elsewhere."""
    out = Path(out)
    world, me = world_size(), rank()
    stale = [p.name for p in out.parent.glob(out.name + ".rank*") if f"of{world}." not in p.name]
    if stale:
        raise SystemExit(f"{out.parent / stale[0]} is left from a run with another number of "
                         f"processes: run again with that number to finish it, or delete {out}.rank*")
    if world == 1:
        return compute(list(range(len(lengths))), out, "logits")
    t0 = time.time()
    if len(batches) < world:
        raise SystemExit(f"{len(lengths)} examples make {len(batches)} batches: too few for {world} processes")
    cuts = shard_cuts(batches, lengths, world)
    rows = [[i for b in batches[lo:hi] for i in b] for lo, hi in zip(cuts, cuts[1:])]
    parts = [Path(f"{out}.rank{r}of{world}.npy") for r in range(world)]
    recipe = Path(f"{parts[me]}.finished.json")     # what a finished shard was made from
    if not (parts[me].exists() and files.matches(recipe, made, parts[me])):
        compute(rows[me], parts[me], f"logits, rank {me} of {world}")
        files.save_json(recipe, {"manifest": made})
    dist.barrier()
    if me != 0:
        return None, time.time() - t0
    result = np.zeros((len(lengths), classes), dtype=np.float32)
    for r in range(world):
        result[rows[r]] = np.load(parts[r])
    with files.atomic(out) as part, open(part, "wb") as f:
        np.save(f, result)
    for part in parts:
        part.unlink()
        Path(f"{part}.finished.json").unlink()
    return result, time.time() - t0
