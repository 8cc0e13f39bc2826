"""A cache for expensive artifacts (trained θ, generators, classifiers), outside git.

    key = sha256(kind, configuration, source of the engine (llcore/*.py) and the tasks (llcore/tasks/),
                 torch's intra-op thread count)

so an artifact is rebuilt whenever its configuration or the code that builds it changes, and reused
otherwise. The thread count is in the key because it changes the order of floating-point sums: the same training
run on 1 and on 2 threads gives different weights, so a 1-thread default run never reuses what a 2-thread run
built, and its numbers do not depend on which run filled the cache first. The harness (llcore/repro/), the
notebooks and the docs are not part of the key: editing a runner, a report or a figure never retrains θ. A
corrupt cache file is rebuilt, not trusted. A load-or-build holds a lock on its key, so notebooks that run at once
(`--jobs`) build a shared artifact once.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Callable

import torch
from filelock import FileLock

from ..checkpoint import atomic_torch_save, torch_load
from .paths import cache_dir


PACKAGE = Path(__file__).resolve().parents[1]      # llcore/


def built_from(package: Path = PACKAGE) -> list[Path]:
    """The sources an artifact depends on: the engine's modules and the tasks' modules, sorted."""
    return sorted([*package.glob("*.py"), *(package / "tasks").rglob("*.py")])


def code_version(package: Path = PACKAGE) -> str:
    """sha256 over the engine's and the tasks' Python sources (12 hex digits)."""
    h = hashlib.sha256()
    for p in built_from(package):
        h.update(p.relative_to(package).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def cache_key(kind: str, config: dict) -> str:
    """`<kind>-<16 hex digits>` for (kind, config, code_version(), torch's thread count)."""
    blob = json.dumps({"kind": kind, "config": config, "code": code_version(), "threads": torch.get_num_threads()},
                      sort_keys=True, default=str)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def cached(kind: str, config: dict, build: Callable[[], dict], folder: str | Path | None = None,
           log: Callable[[str], None] = print) -> dict:
    """Return the artifact for (kind, config): loaded when cached, else `build()` (a dict of tensors and
    plain values, saved atomically)."""
    path = Path(folder or cache_dir()) / f"{cache_key(kind, config)}.pt"
    with build_lock(path):          # two notebooks running at once build a shared artifact once; the other waits
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


def build_lock(path: Path) -> FileLock:
    """An exclusive lock on `path`.lock for the time of a load-or-build (the lock file stays behind, empty)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path.with_name(path.name + ".lock"))
