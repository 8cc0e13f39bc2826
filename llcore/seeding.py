"""Where and how a run executes: device choice and seeding."""
from __future__ import annotations

import random

import numpy as np
import torch


def pick_device(name: str = "auto") -> torch.device:
    """The torch.device for `name`: 'auto' (default) → CUDA when present, else CPU; 'cpu', 'cuda', 'cuda:1' as
    given (ValueError for CUDA when it is unavailable)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was requested but CUDA is not available here; use 'cpu' or 'auto'")
    return dev


def set_seed(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator seeded the same (pass it around explicitly)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
