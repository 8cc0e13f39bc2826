"""The runs a runner invocation plans: every notebook `NN_*.ipynb` once per parameter set of its params file.

`notebooks/params/<profile>/<stem>.yaml`, when present, is either a mapping `parameter: value` (one run) or a mapping
with `runs:`, a list of mappings each holding a `run_name` plus parameters; other top-level keys next to `runs:` are
shared by all of its runs. Every name is checked against the notebook's `parameters` cell before anything runs.
"""
from __future__ import annotations

import ast
import re
import os
from dataclasses import dataclass
from pathlib import Path

import papermill
import yaml

from llcore.repro import paths

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class UsageError(Exception):
    """A mistake in the command line or a params file: reported without a traceback, exit status 2."""


@dataclass
class Run:
    """One execution of one notebook with one set of parameters."""

    notebook: Path
    run_name: str | None
    parameters: dict

    @property
    def label(self) -> str:
        return self.notebook.stem + (f" ({self.run_name})" if self.run_name else "")

    def output_path(self, runs_dir: Path) -> Path:
        suffix = f"__{self.run_name}" if self.run_name else ""
        return runs_dir / f"{self.notebook.stem}{suffix}.ipynb"


def discover(notebooks_dir: Path) -> list[Path]:
    """The experiment notebooks `NN_*.ipynb` in `notebooks_dir`, sorted by name."""
    return sorted(notebooks_dir.glob(NOTEBOOK_GLOB))


def select(notebooks: list[Path], only: str | None) -> list[Path]:
    """All notebooks, or the one whose stem is `only` or starts with it (`00` or `00_toy`)."""
    if only is None:
        return notebooks
    stems = ", ".join(nb.stem for nb in notebooks) or "(none)"
    exact = [nb for nb in notebooks if nb.stem == only]
    matches = exact or [nb for nb in notebooks if nb.stem.startswith(only)]
    if not matches:
        raise UsageError(f"--only {only!r} matches no notebook; available: {stems}")
    if len(matches) > 1:
        raise UsageError(f"--only {only!r} is ambiguous: {', '.join(nb.stem for nb in matches)}")
    return matches


def select_runs(runs: list[Run], run_name: str | None) -> list[Run]:
    """All runs, or those named `run_name` in their params file (`--run faces` of 01's mnist and faces runs)."""
    if run_name is None:
        return runs
    chosen = [r for r in runs if r.run_name == run_name]
    if not chosen:
        names = ", ".join(sorted({r.label for r in runs})) or "(none)"
        raise UsageError(f"--run {run_name!r} matches no run; planned runs: {names}")
    return chosen


def parse_cli_params(pairs: list[list[str]] | None) -> dict:
    """`-p KEY VALUE` pairs as a dict, each VALUE read as YAML so `3` is an int and `[0, 1]` a list."""
    params = {}
    for key, text in pairs or []:
        try:
            params[key] = yaml.safe_load(text) if text.strip() else text
        except yaml.YAMLError as exc:
            raise UsageError(f"-p {key}: cannot read value {text!r} as YAML: {exc}") from exc
    return params


def load_param_sets(params_file: Path) -> list[tuple[str | None, dict]]:
    """The (run_name, parameters) pairs of a params file; one unnamed run without overrides if there is none."""
    if not params_file.exists():
        return [(None, {})]
    try:
        data = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{params_file}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{params_file}: expected a mapping of parameter: value, or `runs:`")
    if "runs" not in data:
        return [(None, data)]
    shared = {k: v for k, v in data.items() if k != "runs"}
    runs = data["runs"]
    if not isinstance(runs, list) or not runs or not all(isinstance(r, dict) for r in runs):
        raise UsageError(f"{params_file}: `runs:` must be a non-empty list of mappings")
    names = [r.get("run_name") for r in runs]
    for name in names:
        if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
            raise UsageError(f"{params_file}: every run needs a `run_name` of letters, digits, _ . - (got {name!r})")
    if len(set(names)) != len(names):
        raise UsageError(f"{params_file}: run names must be unique, got {', '.join(names)}")
    return [(r["run_name"], {**shared, **{k: v for k, v in r.items() if k != "run_name"}}) for r in runs]


def declared_parameters(notebook: Path) -> list[str]:
    """The names assigned in the notebook's cell tagged `parameters`."""
    try:
        return list(papermill.inspect_notebook(str(notebook)))
    except (ValueError, OSError) as exc:  # nbformat's NotJSONError and ValidationError are ValueErrors
        raise UsageError(f"cannot read the parameters of {notebook}: {exc}") from exc


def notebook_parameters(stem: str, profile: str, run_name: str | None = None, repo_root: Path | None = None) -> dict:
    """The parameters notebook `stem` runs with at `profile`: its parameters cell's defaults, then the profile's
    params file (its run `run_name` when the file lists several; the first run otherwise). What another notebook
    reads to build the same problem and θ as `stem` does (05 reads 00's, 01's and 03's)."""
    root = repo_root or paths.repo_root()
    nb = root / "notebooks" / f"{stem}.ipynb"
    try:
        defaults = {k: ast.literal_eval(v["default"]) for k, v in papermill.inspect_notebook(str(nb)).items()}
    except (ValueError, SyntaxError, OSError) as exc:
        raise UsageError(f"cannot read the parameters of {nb}: {exc}") from exc
    sets = load_param_sets(root / "notebooks" / "params" / profile / f"{stem}.yaml")
    chosen = [params for name, params in sets if run_name is None or name == run_name]
    if not chosen:
        raise UsageError(f"{stem} has no run {run_name!r} at profile {profile!r}; runs: {[n for n, _ in sets]}")
    return {**defaults, **chosen[0], "profile": profile}


def validate(names, declared: list[str], notebook: Path, source: str) -> None:
    """Reject parameter names the notebook does not declare, or that only --profile may set."""
    for name in names:
        if name == "profile":
            raise UsageError(f"parameter 'profile' for notebook {notebook.stem} ({source}) is set by --profile")
        if name not in declared:
            known = ", ".join(declared) or "(none: the notebook has no cell tagged 'parameters')"
            raise UsageError(
                f"unknown parameter {name!r} for notebook {notebook.stem} ({source}); known parameters: {known}"
            )


def plan_runs(notebooks: list[Path], params_dir: Path, profile: str, cli_params: dict) -> list[Run]:
    """Every run of every notebook with its final parameters, all names validated before anything runs."""
    runs = []
    for nb in notebooks:
        declared = declared_parameters(nb)
        validate(cli_params, declared, nb, "from -p")
        params_file = params_dir / profile / f"{nb.stem}.yaml"
        for run_name, params in load_param_sets(params_file):
            source = f"from {params_file}" + (f", run {run_name!r}" if run_name else "")
            validate(params, declared, nb, source)
            injected = {"profile": profile} if "profile" in declared else {}
            runs.append(Run(nb, run_name, {**params, **cli_params, **injected}))
    return runs


@dataclass
class RunResult:
    """What happened to a run: status 'ok' or 'FAILED', seconds, and where it failed."""

    run: Run
    output: Path
    status: str
    seconds: float
    failed_cell: str = ""
    error: str = ""


# helpers


def rel(path: Path, root: Path) -> str:
    """`path` relative to `root` when inside it, for short messages."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def short(text: str, width: int = 100) -> str:
    """The first line of `text`, cut to `width` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def where(result: RunResult) -> str:
    """' at In [N] (cell K)' for a failed cell, '' when no cell is to blame (e.g. the kernel did not start)."""
    return f" at {result.failed_cell}" if result.failed_cell else ""


THREADS = {"default": 1}      # torch threads per notebook kernel, by profile (unset: torch's default)


def pin_threads(profile: str) -> str:
    """Set the kernels' thread variables for `profile` (they inherit this process's environment); describe them."""
    n = THREADS.get(profile)
    if n is None:
        return "threads: torch's default"
    os.environ.update(OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n), MKL_DYNAMIC="FALSE")
    return f"{n} thread(s) per notebook (profile {profile})"
