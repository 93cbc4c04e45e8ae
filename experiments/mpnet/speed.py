"""Our MPNet encoder (models.Bert with MPNet's config) beside Hugging Face's MPNetModel, and our
MiniLM teacher for scale: sentences per second on SST-2 dev, inference (the logits step) and
training (forward, backward and an AdamW step: the teacher step), the settings interleaved round
by round so that a busy machine slows each of them alike.

Run it in a throw-away environment that has transformers (the project never imports it):

    python3 -m venv --system-site-packages /tmp/refvenv
    /tmp/refvenv/bin/pip install transformers "torch==2.13.0"
    /tmp/refvenv/bin/python experiments/mpnet/speed.py --out experiments/mpnet/speed.json

Both encoders read the same ids (our WordPiece with MPNet's special tokens) in the same
length-sorted batches; threads: torch's default (every core).
"""
import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import data      # noqa: E402
import distill   # noqa: E402
from machinery import checkpoints, files   # noqa: E402


def batches_of(wordpiece, sentences, batch_size):
    """Length-sorted batches of (ids, token types, mask), as the logits step makes them."""
    pairs = [(s, None) for s in sentences]
    order = data.length_batches(data.rough_lengths(pairs), batch_size)
    return [data.bert_inputs(wordpiece, [pairs[i] for i in rows], max_len=128) for rows in order]


def ours(model):
    return lambda ids, types, mask: model(ids, types, mask)


def reference(model):
    return lambda ids, types, mask: model(input_ids=ids, attention_mask=mask.long()).last_hidden_state


def infer(run, batches):
    """Sentences per second of run over the batches, without gradients."""
    t0 = time.perf_counter()
    with torch.no_grad():
        for ids, types, mask in batches:
            run(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(mask))
    return sum(len(b[0]) for b in batches) / (time.perf_counter() - t0)


def train(run, model, batches):
    """Sentences per second of forward, backward and an AdamW step over the batches."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-9)
    t0 = time.perf_counter()
    for ids, types, mask in batches:
        out = run(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(mask))
        out.float().pow(2).mean().backward()
        optimizer.step()
        optimizer.zero_grad()
    return sum(len(b[0]) for b in batches) / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sentences", type=int, default=256, help="SST-2 dev sentences a round")
    p.add_argument("--train-sentences", type=int, default=64, help="of them, trained on a round")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default="experiments/mpnet/speed.json")
    args = p.parse_args()
    from transformers import MPNetModel
    import transformers
    torch.manual_seed(0)
    dev = data.load_split("sst2", "dev")
    sentences = dev.text_a[: args.sentences]
    mpnet, wordpiece = distill.load_teacher("mpnet", 2)
    folder = checkpoints.resolve_teacher("mpnet")
    hf = MPNetModel.from_pretrained(folder, attn_implementation="eager")
    minilm, minilm_wp = distill.load_teacher("minilm", 2)
    runs = {"ours, MPNet": (ours(mpnet), mpnet, batches_of(wordpiece, sentences, args.batch_size)),
            "transformers, MPNet": (reference(hf), hf,
                                    batches_of(wordpiece, sentences, args.batch_size)),
            "ours, MiniLM-L6": (ours(minilm), minilm,
                                batches_of(minilm_wp, sentences, args.batch_size))}
    speeds = {name: {"inference": [], "training": []} for name in runs}
    for r in range(args.rounds):
        for name, (run, model, batches) in runs.items():
            model.eval()
            speeds[name]["inference"].append(infer(run, batches))
            model.train()
            few = batches[: max(1, args.train_sentences // args.batch_size)]
            speeds[name]["training"].append(train(run, model, few))
            print(f"round {r}: {name}: inference {speeds[name]['inference'][-1]:.1f}, "
                  f"training {speeds[name]['training'][-1]:.1f} sentences/s", flush=True)
    result = {"sentences_per_second": speeds,
              "median": {name: {k: sorted(v)[len(v) // 2] for k, v in s.items()}
                         for name, s in speeds.items()},
              "config": vars(args), "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(),
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
              "command": " ".join(sys.argv)}
    files.save_json(args.out, result)
    for name, m in result["median"].items():
        print(f"{name:24s} inference {m['inference']:7.1f}  training {m['training']:6.1f} sentences/s")


if __name__ == "__main__":
    main()
