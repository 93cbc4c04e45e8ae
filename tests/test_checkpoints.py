"""Tests of checkpoints.py: Hugging Face names, shapes, missing and unused tensors named, the
safetensors reader and its broken files."""
import json
import struct

import pytest
import torch

from machinery import checkpoints
import models


CFG = {"vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
       "intermediate_size": 16, "max_position_embeddings": 20, "type_vocab_size": 2}


def test_wrong_shape_and_missing_tensor_are_named():
    state = {("bert." + k if not k.startswith("classifier") else k): v
             for k, v in models.Bert(CFG).state_dict().items()}
    state = {k.replace("embed.norm.weight", "embeddings.LayerNorm.gamma"): v for k, v in state.items()}
    checkpoints.load_state(models.Bert(CFG), state)                       # HF-style names load
    bad = dict(state, **{"bert.layers.0.q.weight": torch.zeros(8, 9)})
    with pytest.raises(ValueError, match=r"tensor 'layers.0.q.weight': checkpoint shape \(8, 9\), model shape \(8, 8\)"):
        checkpoints.load_state(models.Bert(CFG), bad)
    del state["bert.pooler.weight"]
    with pytest.raises(KeyError, match=r"no tensor 'pooler.weight'.*\(8, 8\)"):
        checkpoints.load_state(models.Bert(CFG), state)


def test_checkpoint_with_more_layers_than_the_config_is_an_error():
    state = models.Bert(dict(CFG, num_hidden_layers=2)).state_dict()
    with pytest.raises(ValueError, match=r"checkpoint tensor 'layers.1.q.weight' \(16 such\) has no place.*fewer layers"):
        checkpoints.load_state(models.Bert(CFG), state)
    # what Hugging Face checkpoints hold beside the encoder: pre-training heads, index buffers
    state = dict(models.Bert(CFG).state_dict(), **{"bert.embeddings.position_ids": torch.arange(20)[None],
                                                   "cls.predictions.bias": torch.zeros(50)})
    checkpoints.load_state(models.Bert(CFG), state)


def test_heads_that_do_not_divide_the_hidden_size_are_named(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(dict(CFG, num_attention_heads=3)))
    torch.save(models.Bert(CFG).state_dict(), tmp_path / "teacher.pt")
    with pytest.raises(ValueError, match=r"config.json: hidden_size 8 is not a multiple of num_attention_heads 3"):
        checkpoints.teacher_config(str(tmp_path))


def write_safetensors(path, tensors):
    """A file written by hand in the format's layout."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64", torch.bfloat16: "BF16"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    return path


def test_safetensors_reader(tmp_path):
    tensors = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1, -2], dtype=torch.int64),
               "c": torch.tensor([0.5, 1.5], dtype=torch.bfloat16)}
    read = checkpoints.read_safetensors(write_safetensors(tmp_path / "m.safetensors", tensors))
    assert set(read) == set(tensors)
    for name, t in tensors.items():
        assert read[name].dtype == t.dtype and torch.equal(read[name], t)


def test_truncated_safetensors_names_file_and_tensor(tmp_path):
    path = write_safetensors(tmp_path / "m.safetensors", {"a": torch.zeros(3), "b": torch.ones(4)})
    path.write_bytes(path.read_bytes()[:-3])                        # a download cut short
    with pytest.raises(ValueError, match=r"m.safetensors: tensor 'b' needs bytes 12:28 of the data, the file holds 25"):
        checkpoints.read_safetensors(path)


def test_html_page_saved_as_safetensors_is_named(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"<!DOCTYPE html><html><body>Sign in to continue</body></html>\n")
    with pytest.raises(ValueError, match=r"model.safetensors: not a safetensors file.*an HTML page"):
        checkpoints.read_safetensors(path)


def test_saved_teacher_loads_back_through_config_weights_and_vocab(tmp_path):
    """save_teacher writes the folder that teacher_config, load_teacher_weights and
    teacher_vocab read back: the same config, the same tensors, the vocabulary beside them."""
    torch.manual_seed(0)
    model = models.Bert(CFG, 3)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    checkpoints.save_teacher(model, tmp_path / "vocab.txt", tmp_path / "t")
    assert checkpoints.teacher_config(str(tmp_path / "t")) == CFG
    torch.manual_seed(1)
    loaded = checkpoints.load_teacher_weights(models.Bert(CFG, 3), str(tmp_path / "t"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert checkpoints.teacher_vocab(str(tmp_path / "t")).read_text() == "[PAD]\n[UNK]\n"


def test_resume_restores_its_own_run_only(tmp_path, capsys):
    """last.pt gives back the state, the weights, the optimizer's state and torch's random
    state of a run of the same manifest; another manifest's is said and set aside."""
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    made = {"settings": {"lr": 0.1}, "inputs": {}}
    torch.manual_seed(5)
    checkpoints.Resume(tmp_path / "last.pt", made).save({"epoch": 2}, model=model, optimizer=optimizer)
    expected = torch.rand(4)                       # what the run would draw next
    other = torch.nn.Linear(3, 2)
    other_optimizer = torch.optim.Adam(other.parameters(), lr=0.1)
    resume = checkpoints.Resume(tmp_path / "last.pt", made)
    assert resume.load(model=other, optimizer=other_optimizer) == {"epoch": 2}
    assert torch.equal(torch.rand(4), expected)
    assert torch.equal(other.weight, model.weight)
    assert other_optimizer.state_dict()["state"][0]["step"] == 1
    changed = {"settings": {"lr": 0.2}, "inputs": {}}
    assert checkpoints.Resume(tmp_path / "last.pt", changed).load(model=other) is None
    assert "lr: 0.1 -> 0.2" in capsys.readouterr().err
    resume.finish()
    assert not (tmp_path / "last.pt").exists()
    assert resume.load(model=other) is None
