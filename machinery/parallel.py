"""parallel.py -- machinery a reader may skip: the logits and student steps under torchrun.

    torchrun --standalone --nproc_per_node=N distill.py logits|student ...

distill.py's loops are written for one process; this file is the hook through which several
processes (GPUs, machines) take part.  Run plainly, `Ranks` is rank 0 of 1 and every method
hands back what it was given.  Under torchrun (it sets WORLD_SIZE, RANK and LOCAL_RANK):

  * logits: each rank computes a contiguous run of the length-sorted batches into its own
    resumable shard file; rank 0 merges them into the file one process would write;
  * student: DistributedDataParallel averages the gradients; the batch stays the global one,
    cut into one part per rank, each part's loss weighted by its share; rank 0 alone evaluates
    and decides when to stop early, and tells the others.
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


class Ranks:
    """This process's place among the processes: rank, world size, device, main."""

    def __init__(self, device):
        self.device, self.world = torch.device(device), int(os.environ.get("WORLD_SIZE", 1))
        self.rank = 0
        if self.world > 1:
            if self.device.type == "cuda":          # GPU k of a machine serves its local rank k
                self.device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                # A rank may wait long at a barrier: after a restart, another rank may have its
                # whole shard of logits still to do.
                dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo",
                                        timeout=timedelta(hours=24))
            self.rank = dist.get_rank()
        self.main = self.rank == 0

    def wrap(self, model):
        """The model that trains: under torchrun, DistributedDataParallel averages the gradients
        of the ranks after each backward, so every rank's copy takes the same step."""
        return torch.nn.parallel.DistributedDataParallel(model) if self.world > 1 else model

    def batches(self, batches):
        """The batches every rank can take part in (a batch smaller than the ranks is skipped)."""
        return [b for b in batches if len(b) >= self.world]

    def part(self, batch):
        """This rank's contiguous part of the global batch."""
        return np.array_split(np.asarray(batch), self.world)[self.rank]

    def backward(self, loss, rows, batch):
        """Each part's mean loss weighted by its share, so that the averaged gradient is the
        whole batch's, as in one process."""
        (loss * (len(rows) * self.world / len(batch))).backward()

    def from_main(self, value):
        """Rank 0's value of an integer, on every rank."""
        if self.world == 1:
            return value
        tensor = torch.tensor([value], device=self.device)
        dist.broadcast(tensor, 0)
        return int(tensor.item())

    def close(self):
        if dist.is_initialized():
            # Leave the group in order: first the DistributedDataParallel wrapper (kept alive by
            # its hooks' reference cycles), then the group; left to the interpreter's exit,
            # gloo's threads can abort the process.
            gc.collect()
            dist.destroy_process_group()


def shard_cuts(batches, lengths, world):
    """Where to cut the batches into `world` contiguous runs, rank r taking cuts[r]:cuts[r + 1]:
    at equal padded word counts (batch size x longest example), because length-sorted batches
    grow towards the end."""
    cost = np.cumsum([len(b) * (1 + max(lengths[i] for i in b)) for b in batches])
    return [0] + [int(np.searchsorted(cost, cost[-1] * r / world, side="right")) for r in range(1, world)] \
        + [len(batches)]


def logits_by_rank(ranks, compute, batches, lengths, out, classes, made=None):
    """compute(rows, path, desc) -> (logits, seconds) fills the .npy at path for those rows,
    resumably, in length-sorted batches (`batches`, as compute cuts them for all rows).  One process computes every row into out.  Under torchrun each rank fills its
    own `<out>.rank<r>of<N>.npy` with the very batches a single process would run, and rank 0
    gathers them into out; a finished shard is kept only when its manifest is `made`.  Returns
    (logits, seconds) on rank 0, (None, seconds) elsewhere."""
    out = Path(out)
    stale = [p.name for p in out.parent.glob(out.name + ".rank*") if f"of{ranks.world}." not in p.name]
    if stale:
        raise SystemExit(f"{out.parent / stale[0]} is left from a run with another number of processes: "
                         f"run again with that number to finish it, or delete {out}.rank*")
    if ranks.world == 1:
        return compute(list(range(len(lengths))), out, "logits")
    t0 = time.time()
    if len(batches) < ranks.world:
        raise SystemExit(f"{len(lengths)} examples make {len(batches)} batches: too few for {ranks.world} processes")
    cuts = shard_cuts(batches, lengths, ranks.world)
    rows = [[i for b in batches[lo:hi] for i in b] for lo, hi in zip(cuts, cuts[1:])]
    parts = [Path(f"{out}.rank{r}of{ranks.world}.npy") for r in range(ranks.world)]
    recipe = Path(f"{parts[ranks.rank]}.finished.json")     # what a finished shard was made from
    if not (parts[ranks.rank].exists() and files.matches(recipe, made, parts[ranks.rank])):
        compute(rows[ranks.rank], parts[ranks.rank], f"logits, rank {ranks.rank} of {ranks.world}")
        files.save_json(recipe, {"manifest": made})
    dist.barrier()
    if not ranks.main:
        return None, time.time() - t0
    result = np.zeros((len(lengths), classes), dtype=np.float32)
    for r in range(ranks.world):
        result[rows[r]] = np.load(parts[r])
    with files.atomic(out) as part, open(part, "wb") as f:
        np.save(f, result)
    for part in parts:
        part.unlink()
        Path(f"{part}.finished.json").unlink()
    return result, time.time() - t0
