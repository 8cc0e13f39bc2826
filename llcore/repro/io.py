"""The harness's file writes (text, JSON) and inversion records; all atomic (llcore.checkpoint)."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..checkpoint import atomic_torch_save, atomic_write_bytes, torch_load
from ..inversion import Record


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


def save_record(path, record) -> Path:
    """Save an inversion Record (see inversion.py) as a torch file of CPU tensors."""
    d = record.to_dict()
    d = {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in d.items()}
    d["snapshots"] = {int(k): v.cpu() for k, v in d["snapshots"].items()}
    return atomic_torch_save(path, d)


def load_record(path) -> Record:
    return Record(**torch_load(path, "inversion record"))
