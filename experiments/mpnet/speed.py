"""Our MPNet encoder (models.Bert with MPNet's config) beside Hugging Face's MPNetModel, and our
MiniLM teacher for scale: sentences per second on SST-2 dev, inference (the logits step) and
training (forward, backward and an AdamW step: the teacher step), in fp32 and under bf16
autocast (make's default), the settings interleaved round by round so that a busy machine slows
each of them alike.

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
    """Our encoder's last hidden states, as the reference gives them."""
    return lambda ids, types, mask: model.encode(ids, types, mask)[0]


def reference(model):
    """transformers' MPNetModel's."""
    return lambda ids, types, mask: model(input_ids=ids,
                                          attention_mask=mask.long()).last_hidden_state


def infer(run, batches, bf16):
    """Sentences per second of run over the batches, without gradients."""
    t0 = time.perf_counter()
    with torch.no_grad(), distill.autocast(torch.device("cpu"), bf16):
        for ids, types, mask in batches:
            run(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(mask))
    return sum(len(b[0]) for b in batches) / (time.perf_counter() - t0)


def train(run, model, batches, bf16):
    """Sentences per second of forward, backward and an AdamW step over the batches."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-9)
    t0 = time.perf_counter()
    for ids, types, mask in batches:
        with distill.autocast(torch.device("cpu"), bf16):
            out = run(torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(mask))
        out.float().pow(2).mean().backward()
        optimizer.step()
        optimizer.zero_grad()
    return sum(len(b[0]) for b in batches) / (time.perf_counter() - t0)


def measure(runs, args):
    """{name: {"inference": [...], "training": [...]}}: each setting once a round, in turn."""
    speeds = {name: {"inference": [], "training": []} for name in runs}
    for r in range(args.rounds):
        for name, (run, model, batches, bf16) in runs.items():
            model.eval()
            speeds[name]["inference"].append(infer(run, batches, bf16))
            model.train()
            middle = len(batches) // 2        # batches of middling length, the same each round
            few = batches[middle: middle + max(1, args.train_sentences // args.batch_size)]
            speeds[name]["training"].append(train(run, model, few, bf16))
            print(f"round {r}: {name}: inference {speeds[name]['inference'][-1]:.1f}, "
                  f"training {speeds[name]['training'][-1]:.1f} sentences/s", flush=True)
    return speeds


def table(result):
    """The medians as a markdown table."""
    lines = ["| encoder | inference, sentences/s | training, sentences/s |", "|---|---|---|"]
    for name, m in result["median"].items():
        lines.append(f"| {name} | {m['inference']:.1f} | {m['training']:.1f} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sentences", type=int, default=256, help="SST-2 dev sentences a round")
    p.add_argument("--train-sentences", type=int, default=64, help="of them, trained on a round")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default="experiments/mpnet/speed.json")
    args = p.parse_args()
    from transformers import MPNetModel
    import transformers
    torch.manual_seed(0)
    sentences = data.load_split("sst2", "dev").text_a[: args.sentences]
    mpnet, wordpiece = distill.load_teacher("mpnet", 2)
    folder = checkpoints.resolve_teacher("mpnet")
    hf = MPNetModel.from_pretrained(folder, attn_implementation="eager")
    minilm, minilm_wp = distill.load_teacher("minilm", 2)
    mpnet_batches = batches_of(wordpiece, sentences, args.batch_size)
    # name: (forward, model, batches, bf16 autocast)
    runs = {"ours, MPNet, fp32": (ours(mpnet), mpnet, mpnet_batches, False),
            "transformers, MPNet, fp32": (reference(hf), hf, mpnet_batches, False),
            "ours, MPNet, bf16": (ours(mpnet), mpnet, mpnet_batches, True),
            "transformers, MPNet, bf16": (reference(hf), hf, mpnet_batches, True),
            "ours, MiniLM-L6, bf16": (ours(minilm), minilm,
                                      batches_of(minilm_wp, sentences, args.batch_size), True)}
    speeds = measure(runs, args)
    result = {"sentences_per_second": speeds,
              "median": {name: {k: sorted(v)[len(v) // 2] for k, v in s.items()}
                         for name, s in speeds.items()},
              "config": vars(args), "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(),
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
              "command": " ".join(sys.argv)}
    files.save_json(args.out, result)
    Path(args.out).with_suffix(".md").write_text(table(result))
    print(table(result))


if __name__ == "__main__":
    main()
