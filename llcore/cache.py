"""A cache for expensive artifacts (trained θ, generators, classifiers), outside git.

    key = sha256(kind, configuration, llcore source code)

so an artifact is rebuilt whenever its configuration or the engine's code changes, and reused
otherwise. A corrupt cache file is rebuilt, not trusted.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Callable

from .io import atomic_torch_save, torch_load
from .paths import cache_dir


def code_version() -> str:
    """sha256 over llcore's Python sources (12 hex digits)."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(p.relative_to(Path(__file__).parent).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def cache_key(kind: str, config: dict) -> str:
    blob = json.dumps({"kind": kind, "config": config, "code": code_version()}, sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def cached(kind: str, config: dict, build: Callable[[], dict], folder: str | Path | None = None,
           log: Callable[[str], None] = print) -> dict:
    """Return the artifact for (kind, config): loaded when cached, else `build()` (a dict of tensors and
    plain values, saved atomically)."""
    path = Path(folder or cache_dir()) / f"{cache_key(kind, config)}.pt"
    if path.exists():
        try:
            art = torch_load(path, f"cached {kind}")
            log(f"{kind}: loaded from cache {path}")
            return art
        except ValueError as e:
            warnings.warn(f"{e}; rebuilding it")
    art = build()
    atomic_torch_save(path, art)
    log(f"{kind}: built and cached at {path}")
    return art
