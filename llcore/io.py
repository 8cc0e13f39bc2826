"""Atomic file writes and record save/load: a crash mid-write never leaves a half-written file."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_bytes(path, data: bytes) -> Path:
    return _atomic(path, lambda f: f.write(data))


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


def atomic_torch_save(path, obj) -> Path:
    return _atomic(path, lambda f: torch.save(obj, f))


def torch_load(path, what: str = "file", hint: str = "") -> object:
    """torch.load with a clear error for a missing or corrupt file (weights_only, CPU)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}. {hint}".strip())
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a torch file, or pickled code
        raise ValueError(f"{what} at {path} is corrupt or not a weights-only torch file "
                         f"({type(e).__name__}: {str(e)[:200]}). {hint}".strip()) from e


def save_record(path, record) -> Path:
    """Save an inversion Record (see inversion.py) as a torch file of CPU tensors."""
    d = record.to_dict()
    d = {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in d.items()}
    d["snapshots"] = {int(k): v.cpu() for k, v in d["snapshots"].items()}
    return atomic_torch_save(path, d)


def load_record(path):
    from .inversion import Record
    return Record(**torch_load(path, "inversion record"))
