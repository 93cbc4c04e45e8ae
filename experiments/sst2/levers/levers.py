"""The speed levers of make sst2, timed side by side on this machine (python experiments/sst2/levers/levers.py
from the repository root): each round times every setting once, in turn, so that a machine that
slows down for a while slows all of them alike.  Writes levers.json beside this file.

- the teacher's fine-tuning: random batches (--sort-pool 1) against batches drawn from pools of
  100 sorted by length (--sort-pool 100), batches of 32, bf16 autocast;
- the student's training step: 300/400 against the paper's 150/200, batch 128 and 256, fp32 and
  bf16 autocast;
- the student's inference (as make bench times it): the same sizes, fp32 and bf16 autocast.
The student's rows are the SST-2 train phrases; the augmented ones are about a word longer."""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np                                      # noqa: E402
import torch                                            # noqa: E402

import data                                             # noqa: E402
import distill                                          # noqa: E402
import models                                           # noqa: E402
from machinery import files                             # noqa: E402
from tools import estimate                              # noqa: E402

ROUNDS, BUDGET = 2, 8
task, cpu = "sst2", torch.device("cpu")
train, dev = data.load_split(task, "train"), data.load_split(task, "dev")
vocab = data.task_vocab(task)
logits_flags = distill.parse(["logits", "--task", task])
vectors = np.random.default_rng(0).uniform(-0.25, 0.25, (len(vocab), 50)).astype(np.float32)


def student_training(hidden, fc, batch_size, bf16):
    model = models.BiLSTMStudent(vectors, 2, hidden, fc, 0.1)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, fused=True)
    columns, teacher_z = data.words_of(train, task, vocab), torch.randn(len(train), 2)

    def step(rows):
        model.train()
        with distill.autocast(cpu, bf16):
            z = model(*distill.student_inputs(columns, rows, cpu))
        loss = distill.distill_loss(z.float(), teacher_z[rows], None, 0.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    lengths = columns[0].lengths
    return estimate.rate(step, estimate.spread(data.length_batches(lengths, batch_size, seed=0), lengths, 24),
                         cpu, BUDGET)


@torch.no_grad()
def student_inference(hidden, fc, bf16):
    model = models.BiLSTMStudent(vectors, 2, hidden, fc).eval()
    columns = data.words_of(dev, task, vocab)

    def step(rows):
        with distill.autocast(cpu, bf16):
            model(*distill.student_inputs(columns, rows, cpu))
    batches = data.length_batches(columns[0].lengths, 64)
    return estimate.rate(step, batches * 50, cpu, BUDGET)


settings = {
    **{f"teacher training, sort pool {pool}": (lambda pool=pool: estimate.teacher_rates(
        train, task, distill.parse(["teacher", "--task", task, "--batch-size", "32", "--sort-pool", str(pool)]),
        logits_flags, cpu, BUDGET)["teacher training"]) for pool in (1, 100)},
    **{f"student training {h}/{f}, batch {b}, {'bf16' if bf16 else 'fp32'}":
       (lambda h=h, f=f, b=b, bf16=bf16: student_training(h, f, b, bf16))
       for h, f in ((300, 400), (150, 200)) for b in (128, 256) for bf16 in (False, True)},
    **{f"student inference {h}/{f}, batch 64, {'bf16' if bf16 else 'fp32'}":
       (lambda h=h, f=f, bf16=bf16: student_inference(h, f, bf16))
       for h, f in ((300, 400), (150, 200)) for bf16 in (False, True)},
}
rates = {name: [] for name in settings}
for r in range(ROUNDS):
    for name, measure in settings.items():
        rates[name].append(round(measure(), 1))
        print(f"round {r + 1}: {name}: {rates[name][-1]:,} sentences/s", flush=True)
out = Path(__file__).with_name("levers.json")
files.save_json(out, {"sentences_per_second": rates, "threads": torch.get_num_threads(),
                      "time": time.strftime("%Y-%m-%d %H:%M"),
                      **files.provenance(argparse.Namespace(rounds=ROUNDS, seconds_per_setting=BUDGET))})
print(f"-> {out}")
