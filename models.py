"""models.py -- chapter 2: the students (BiLSTM, siamese BiLSTM) and the teacher (BERT).

Tang et al. (2019) distil a large Transformer into a small recurrent network.  Both sit here,
in plain torch, so that the two can be read side by side:

  * `BiLSTMStudent`: section 3.1 of the paper.  One bidirectional LSTM over word vectors, a
    ReLU layer and the logits; for sentence pairs the same encoder reads both sentences
    (a "siamese" network) and the classifier sees [h1, h2, h1*h2, |h1-h2|].
  * `Bert`: the encoder of Devlin et al. (2019) with a classification head on the pooled
    [CLS] vector.  Its sizes come from a Hugging Face `config.json`; machinery/checkpoints.py
    reads its weights from a URL (torch.hub), a folder or a file.

It imports nothing of ours.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------------------------
# The students (Tang et al. 2019, section 3.1).

class BiLSTMStudent(nn.Module):
    """Section 3.1: "For the student model, we use a single-layer BiLSTM with a non-linear
    classifier.  After feeding the input word embeddings into the BiLSTM, the hidden states of
    the last step in each direction are concatenated and fed to a fully connected layer with
    rectified linear units (ReLUs), whose output is then passed to a softmax layer for
    classification."  The softmax is left to the loss: the model returns logits, which Eq. 1
    compares with the teacher's.

    "multichannel" (Kim 2014, as the authors' student uses it): two copies of the word vectors,
    one frozen and one fine-tuned, concatenated, so training can adapt words without forgetting
    what the pretrained vectors knew about the words it never sees.  pooling="max" (an option,
    not the paper's) reads the maximum over all states instead of the last ones."""

    def __init__(self, vectors, num_labels, hidden=150, fc=200, dropout=0.1,
                 multichannel=True, pooling="last", pair=False):
        super().__init__()
        vectors = torch.as_tensor(vectors, dtype=torch.float32)
        self.static = nn.Embedding.from_pretrained(vectors, freeze=True, padding_idx=0)
        if multichannel:
            self.tuned = nn.Embedding.from_pretrained(vectors.clone(), freeze=False, padding_idx=0)
        else:
            self.tuned = None
        # A bidirectional LSTM is two LSTMs: one reads the sentence left to right, the other
        # right to left; h is both of their states side by side.
        inputs = vectors.shape[1] * (2 if multichannel else 1)
        self.forward_lstm = nn.LSTM(inputs, hidden, batch_first=True)
        self.backward_lstm = nn.LSTM(inputs, hidden, batch_first=True)
        self.pooling = pooling
        self.pair = pair
        # Dropout regularises the small student; its rate: docs/differences.md.
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
        # BEGIN EXERCISE 3: both vector channels, two LSTMs on a padded batch, 'last'/'max' pooling
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
        # "the hidden states of the last step in each direction": the forward state after the
        # last word, the backward state after the first.
        if self.pooling == "last":
            rows = torch.arange(len(ids), device=ids.device)
            last = lengths - 1
            return torch.cat([forward[rows, last], backward[rows, last]], dim=-1)
        # The maximum over the real words does not care about their order: no need to un-reverse.
        states = torch.cat([forward, backward], dim=-1)
        return states.masked_fill(~real[..., None], float("-inf")).max(dim=1).values
        # END EXERCISE 3

    def forward(self, ids, lengths, ids_b=None, lengths_b=None):
        h = self.encode(ids, lengths)
        if self.pair:
            # "For sentence-pair tasks, we share BiLSTM encoder weights and use a siamese
            # architecture between the two sentence encoders" (section 3.1).
            h = siamese_features(h, self.encode(ids_b, lengths_b))
        h = self.dropout(h)                                  # regularisation: see __init__
        # "... [the hidden states] are concatenated and fed to a fully connected layer with
        # rectified linear units (ReLUs),"
        h = F.relu(self.fc(h))
        h = self.dropout(h)                                  # regularisation: see __init__
        # "... whose output is then passed to a softmax layer for classification": the layer's
        # logits, before the softmax, which the loss applies (Eq. 1 compares logits).
        return self.out(h)


def siamese_features(h1, h2):
    """Section 3.1: "We then apply a standard concatenate-compare operation between the two
    sentence vectors: f(h_s1, h_s2) = [h_s1, h_s2, h_s1 (.) h_s2, |h_s1 - h_s2|], where (.)
    denotes elementwise multiplication." """
    # BEGIN EXERCISE 4: the pair features [h1, h2, h1 * h2, |h1 - h2|]
    return torch.cat([h1, h2, h1 * h2, (h1 - h2).abs()], dim=-1)
    # END EXERCISE 4


def count_parameters(model, embeddings=True):
    """Parameters; embeddings=False leaves out the student's word vectors, as the paper counts
    them (0.96M for 150/200 over 300d word2vec, multichannel)."""
    return sum(p.numel() for name, p in model.named_parameters()
               if embeddings or not name.startswith(("static.", "tuned.")))


# ----------------------------------------------------------------------------------------------
# The teacher: BERT.  Names follow the paper's description of the Transformer;
# machinery/checkpoints.py maps the Hugging Face checkpoint names onto them.

class Embeddings(nn.Module):
    """A token's input vector is the sum of its word, position and segment (token type)
    embeddings, then LayerNorm.

    MPNet (Song et al. 2020), read from the same code, differs in two ways: it has no segment
    embeddings (its config.json has no type_vocab_size), and it counts positions from
    pad_token_id + 1, as RoBERTa (Liu et al. 2019) does."""

    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.word = nn.Embedding(cfg["vocab_size"], h)
        self.position = nn.Embedding(cfg["max_position_embeddings"], h)
        if "type_vocab_size" in cfg:
            self.token_type = nn.Embedding(cfg["type_vocab_size"], h)
        else:
            self.token_type = None
        self.first_position = cfg["pad_token_id"] + 1 if cfg.get("model_type") == "mpnet" else 0
        self.norm = nn.LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, ids, token_types):
        positions = self.first_position + torch.arange(ids.shape[1], device=ids.device)
        x = self.word(ids) + self.position(positions)[None]
        if self.token_type is not None:
            x = x + self.token_type(token_types)
        return self.dropout(self.norm(x))


def relative_position_bucket(relative, buckets=32, max_distance=128):
    """MPNet's relative positions: Song et al. (2020, section 4.1) add a relative positional
    embedding to BERT's setting, as T5 does (Raffel et al. 2020), with T5's buckets.
    relative = key position - query position.  Half the buckets hold keys before the query,
    half keys after; within a half, distances under a quarter of the buckets get one bucket
    each, longer ones share buckets spaced logarithmically up to max_distance, and farther
    ones the last."""
    half = buckets // 2
    exact = half // 2
    bucket = (relative > 0).long() * half            # keys after the query: the upper half
    distance = relative.abs()
    spread = torch.log(distance.float() / exact) / math.log(max_distance / exact)
    far = (exact + (spread * (half - exact)).long()).clamp(max=half - 1)
    return bucket + torch.where(distance < exact, distance, far)


def attention(q, k, v, mask, dropout=None, bias=None):
    """Scaled dot-product attention (Vaswani et al. 2017, Eq. 1): softmax(q k^T / sqrt(d)) v.
    mask [batch, keys] is True for real tokens; padded keys get -inf so no query attends to
    them, and a padded sentence gives the same vectors for its real tokens as an unpadded one.
    bias [heads, queries, keys], when given, is added to the scores before the softmax (MPNet's
    relative positions)."""
    # BEGIN EXERCISE 2: softmax(q k^T / sqrt(d) + bias) v, with no weight on padded keys
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if bias is not None:
        scores = scores + bias
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
        h = cfg["hidden_size"]
        eps = cfg.get("layer_norm_eps", 1e-12)
        self.heads = cfg["num_attention_heads"]
        self.q = nn.Linear(h, h)
        self.k = nn.Linear(h, h)
        self.v = nn.Linear(h, h)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=eps)
        self.ff_in = nn.Linear(h, cfg["intermediate_size"])
        self.ff_out = nn.Linear(cfg["intermediate_size"], h)
        self.ff_norm = nn.LayerNorm(h, eps=eps)
        self.attn_dropout = nn.Dropout(cfg.get("attention_probs_dropout_prob", 0.1))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def heads_of(self, y):
        """[batch, tokens, hidden] -> [batch, heads, tokens, hidden / heads]: each head attends
        with its own slice of the query, key and value vectors."""
        batch, tokens, hidden = y.shape
        return y.view(batch, tokens, self.heads, hidden // self.heads).transpose(1, 2)

    def forward(self, x, mask, bias=None):
        batch, tokens, hidden = x.shape
        q = self.heads_of(self.q(x))
        k = self.heads_of(self.k(x))
        v = self.heads_of(self.v(x))
        context = attention(q, k, v, mask, self.attn_dropout, bias)
        context = context.transpose(1, 2).reshape(batch, tokens, hidden)   # the heads side by side
        x = self.attn_norm(x + self.dropout(self.attn_out(context)))
        ff = self.ff_out(F.gelu(self.ff_in(x)))          # exact (erf) GELU, as BERT
        return self.ff_norm(x + self.dropout(ff))


class Bert(nn.Module):
    """BERT's encoder with a classifier of num_labels classes on its pooled [CLS] vector.

    With an MPNet config.json (model_type "mpnet"), MPNet's encoder: BERT's but for the
    embeddings (see Embeddings) and a learned bias on every layer's attention scores for each
    head and relative position, computed once and shared by all layers."""

    def __init__(self, cfg, num_labels=2):
        super().__init__()
        self.cfg = dict(cfg)
        self.embed = Embeddings(cfg)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        if "relative_attention_num_buckets" in cfg:
            buckets = cfg["relative_attention_num_buckets"]
            self.relative_bias = nn.Embedding(buckets, cfg["num_attention_heads"])
        else:
            self.relative_bias = None
        self.pooler = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))
        self.classifier = nn.Linear(cfg["hidden_size"], num_labels)
        # Devlin et al. initialise new weights with N(0, 0.02); only the head is new here.
        nn.init.normal_(self.classifier.weight, std=cfg.get("initializer_range", 0.02))
        nn.init.zeros_(self.classifier.bias)

    def encode(self, ids, token_types, mask):
        """Last hidden states [batch, tokens, hidden] and the pooled [CLS] vector."""
        x = self.embed(ids, token_types)
        bias = self.position_bias(ids.shape[1]) if self.relative_bias is not None else None
        for layer in self.layers:
            x = layer(x, mask, bias)
        return x, torch.tanh(self.pooler(x[:, 0]))

    def position_bias(self, tokens):
        """MPNet's attention bias [heads, queries, keys]: one learned number per head and
        bucket of relative position (key - query)."""
        positions = torch.arange(tokens, device=self.relative_bias.weight.device)
        relative = positions[None, :] - positions[:, None]
        buckets = relative_position_bucket(relative, self.relative_bias.num_embeddings)
        return self.relative_bias(buckets).permute(2, 0, 1)

    def forward(self, ids, token_types, mask):
        """Logits: a linear layer on the pooled [CLS] vector, as BERT's fine-tuning recipe."""
        _, pooled = self.encode(ids, token_types, mask)
        return self.classifier(self.dropout(pooled))
