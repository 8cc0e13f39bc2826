"""Where things live: the repository root, results/<profile>/<experiment>/, and the artifact cache."""
from __future__ import annotations

import os
from pathlib import Path


def repo_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: cwd) holding pyproject.toml and llcore/."""
    here = Path(start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "pyproject.toml").is_file() and (p / "llcore").is_dir():
            return p
    # installed elsewhere: fall back to the checkout this package was imported from
    return Path(__file__).resolve().parents[2]


def results_dir(profile: str, experiment: str, root: str | Path | None = None) -> Path:
    """results/<profile>/<experiment>/ (created), with tables/ and figures/ inside."""
    d = Path(root or repo_root()) / "results" / profile / experiment
    (d / "tables").mkdir(parents=True, exist_ok=True)
    (d / "figures").mkdir(parents=True, exist_ok=True)
    return d


def cache_dir() -> Path:
    """Expensive artifacts (trained θ, generators, classifiers): $LLCORE_CACHE or <repo>/.cache (git-ignored)."""
    d = Path(os.environ.get("LLCORE_CACHE") or repo_root() / ".cache")
    d.mkdir(parents=True, exist_ok=True)
    return d
