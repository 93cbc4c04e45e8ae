import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import data    # noqa: E402  (found through the path above)
import models  # noqa: E402


@pytest.fixture
def shared_data():
    """The real data, found as the project finds it (files.find_data_dir: DATA_DIR, else
    ../shared/data beside the checkout, our machines' and CI's offline copy, else ./data)."""
    from machinery import files
    folder = files.find_data_dir()
    if not (folder / "glue" / "SST-2" / "train.tsv").exists():
        pytest.skip(f"real GLUE data not found at {folder} (set DATA_DIR, or see docs/setup.md)")
    os.environ.setdefault("NLTK_DATA", str(folder / "nltk_data"))
    return folder


@pytest.fixture
def minilm_folder():
    from machinery import checkpoints
    try:
        return checkpoints.resolve_teacher("minilm")
    except FileNotFoundError as error:
        pytest.skip(str(error))


# A toy task for the end-to-end tests of distill.py and parallel.py.

POSITIVE, NEGATIVE, FILLER = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "dull"], ["the", "movie", "was", "a", "film", "plot"]


def toy_sentences(n, rng):
    texts, labels = [], []
    for _ in range(n):
        y = int(rng.integers(2))
        words = list(rng.choice(FILLER, int(rng.integers(1, 6)))) + [rng.choice(POSITIVE if y else NEGATIVE)]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(y)
    return texts, labels


@pytest.fixture
def toy(tmp_path):
    """A toy SST-2: a sentence is positive when it holds a positive word.  With 8-d word vectors
    and a tiny random BERT as teacher."""
    rng = np.random.default_rng(0)
    g = tmp_path / "glue" / "SST-2"
    g.mkdir(parents=True)
    for split, n in (("train", 400), ("dev", 100)):
        texts, labels = toy_sentences(n, rng)
        (g / f"{split}.tsv").write_text("sentence\tlabel\n" + "".join(f"{t} \t{y}\n" for t, y in zip(texts, labels)))
    texts, _ = toy_sentences(30, rng)
    (g / "test.tsv").write_text("index\tsentence\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(texts)))
    words = POSITIVE + NEGATIVE + FILLER
    (tmp_path / "vectors").mkdir()
    (tmp_path / "vectors" / "glove.6B.50d.txt").write_text(
        "".join(w + " " + " ".join(f"{x:.3f}" for x in rng.normal(0, 1, 8)) + "\n" for w in words))
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n")
    cfg = {"vocab_size": len(words) + 5, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 32, "max_position_embeddings": 32, "type_vocab_size": 2}
    (teacher / "config.json").write_text(json.dumps(cfg))
    torch.manual_seed(0)
    torch.save(models.Bert(cfg).state_dict(), teacher / "teacher.pt")
    return tmp_path


def toy_teacher_logits(toy, split):
    """A perfect toy teacher: +2 / -2 logits from the gold label."""
    labels = np.array(data.load_split("sst2", split, toy).label)
    return np.stack([-2.0 * (2 * labels - 1), 2.0 * (2 * labels - 1)], 1).astype(np.float32)
