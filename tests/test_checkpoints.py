"""Tests of checkpoints.py: Hugging Face names, shapes and missing tensors named, the
safetensors reader."""
import json
import struct

import pytest
import torch

import checkpoints
import models


def test_wrong_shape_and_missing_tensor_are_named():
    cfg = {"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
           "intermediate_size": 16, "max_position_embeddings": 20, "type_vocab_size": 2}
    state = {("bert." + k if not k.startswith("classifier") else k): v
             for k, v in models.Bert(cfg).state_dict().items()}
    state = {k.replace("embed.norm.weight", "embeddings.LayerNorm.gamma"): v for k, v in state.items()}
    checkpoints.load_state(models.Bert(cfg), state)                       # HF-style names load
    bad = dict(state, **{"bert.layers.0.q.weight": torch.zeros(8, 9)})
    with pytest.raises(ValueError, match=r"tensor 'layers.0.q.weight': checkpoint shape \(8, 9\), model shape \(8, 8\)"):
        checkpoints.load_state(models.Bert(cfg), bad)
    del state["bert.pooler.weight"]
    with pytest.raises(KeyError, match=r"no tensor 'pooler.weight'.*\(8, 8\)"):
        checkpoints.load_state(models.Bert(cfg), state)


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
    read = checkpoints.read_safetensors(tmp_path / "m.safetensors")
    assert set(read) == set(tensors)
    for name, t in tensors.items():
        assert read[name].dtype == t.dtype and torch.equal(read[name], t)
