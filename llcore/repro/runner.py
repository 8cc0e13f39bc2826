"""Run the experiment notebooks with papermill: `python -m llcore.repro.runner --profile default`.

Every `notebooks/NN_*.ipynb` (sorted by name, or the one picked with `--only`) is executed once per parameter set:

- `notebooks/params/<profile>/<stem>.yaml`, when present, is either a mapping `parameter: value` (one run) or
  a mapping with `runs:`, a list of mappings each holding a `run_name` plus parameters (several runs of the same
  notebook, e.g. one per generator); other top-level keys next to `runs:` are shared by all of its runs.
  Without a file the notebook runs once on its own defaults, which are the `default` profile.
- `-p KEY VALUE` (repeatable) overrides on top of every run; VALUE is read as YAML (`3`, `0.1`, `[0, 1]`, `true`).
- `profile` is injected into every notebook that declares it.

All parameter names are checked against each notebook's `parameters` cell before anything runs, and so is every
real asset a run names (`llcore.repro.assets`, e.g. the StyleGAN generator and SMPL files of the `paper` profile): if
any is missing, one list says which run needs what, where, and how to get it. Asset paths may use $VARS
($LLCORE_ASSETS defaults to <repo>/assets); relative ones are taken from the repository root and reach the notebook
absolute. Executed copies go to `runs/<profile>/<stem>.ipynb` (or `<stem>__<run_name>.ipynb`), with `notebooks/`
as working directory. A failing run is recorded and the next one starts. As each run ends, its row is merged into
`results/<profile>/run_times.md` (the latest run of each notebook and run) and its executed notebook is kept (default
and paper profiles), so stopping a long invocation loses only the runs in progress; at the end of the invocation
(stopped or not) every generated document is rewritten once (`llcore.repro.documents`: README.md's blocks,
results/README.md, CLAIMS.md, SUMMARY.md; `--write` does only that), a table of this invocation's runs goes to the
terminal, and the exit status is 1 if any failed.
`--prepare-only` writes the parameter-injected notebooks without executing them (CI then runs them with nbval).
`--jobs N` runs up to N notebooks at once (default: one per core on a profile that pins one thread per notebook,
`default_jobs`; else 1), the longest (by the ledger's last run times) first; a notebook that needs
many of another's cached artifacts names it in its metadata (`"llcore": {"after": ["01_gan_inversion"]}`) and starts
only when that one's runs are done (a single shared artifact needs no such order: the cache builds it once under a
lock while the other run waits). Each kernel's threads
are part of the profile (THREADS: 1 on `default`, so numbers do not depend on --jobs or on the machine's load).
Usage errors (unknown notebook or parameter, malformed YAML) and missing assets exit with status 2.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import nbformat
import papermill
import yaml
from papermill.exceptions import PapermillExecutionError

from llcore.repro import assets
from llcore.repro import ledger as run_ledger
from llcore.checkpoint import atomic_write_bytes
from llcore.repro.markdown import MISSING, markdown_table

PROFILES = ("smoke", "default", "paper")
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Kernel log noise: ipykernel >= 7 warns on every start that its local TCP sockets are unencrypted, and the
# interrupt jupyter_client sends on shutdown can log a spurious KeyboardInterrupt error. Cell errors and dead
# kernels reach papermill as messages, not as these logs, so nothing is lost.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


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


# notebooks and their parameters


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
    root = repo_root or REPO_ROOT
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


# execution


def cell_name(execution_count: int | None, index: int) -> str:
    """'In [N] (cell K)', K counting all cells of the executed copy from 0; 'cell K' when N is unknown."""
    return f"In [{execution_count}] (cell {index})" if execution_count else f"cell {index}"


def last_started_cell(output: Path) -> str:
    """The last cell papermill started in the saved copy at `output`; '' if none did or there is no copy."""
    try:
        cells = nbformat.read(output, as_version=4).cells
    except (OSError, ValueError):
        return ""
    started = [i for i, c in enumerate(cells) if c.metadata.get("papermill", {}).get("start_time")]
    return cell_name(cells[started[-1]].get("execution_count"), started[-1]) if started else ""


def describe_failure(exc: Exception, output: Path) -> tuple[str, str]:
    """(failed cell, error) of an exception raised while running a notebook whose copy is saved at `output`."""
    if isinstance(exc, PapermillExecutionError):
        # exec_count is the "In [N]" Jupyter shows; cell_index counts cells of the executed copy before papermill
        # added its error banner and anchor (in the saved file the cell sits 2 further down).
        return cell_name(exc.exec_count, exc.cell_index), f"{exc.ename}: {exc.evalue}"
    # e.g. the kernel died (out of memory) or timed out: blame the last cell that started
    return last_started_cell(output), f"{type(exc).__name__}: {exc}"


def execute_run(run: Run, runs_dir: Path, cwd: Path, prepare_only: bool = False) -> RunResult:
    """Execute (or, with `prepare_only`, just parameterize) one run with papermill; failures are returned."""
    output = run.output_path(runs_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(run.notebook), str(output), parameters=run.parameters, kernel_name="python3", cwd=str(cwd),
            progress_bar=False, log_output=False, prepare_only=prepare_only, extra_arguments=KERNEL_ARGUMENTS,
        )
    except Exception as exc:  # noqa: BLE001 - any failure of one run is recorded and the next run starts
        cell, error = describe_failure(exc, output)
        return RunResult(run, output, "FAILED", time.perf_counter() - start, cell, error)
    return RunResult(run, output, "ok", time.perf_counter() - start)


THREADS = {"default": 1}      # torch threads per notebook kernel, by profile (unset: torch's default)


def pin_threads(profile: str) -> str:
    """Set the kernels' thread variables for `profile` (they inherit this process's environment); describe them."""
    n = THREADS.get(profile)
    if n is None:
        return "threads: torch's default"
    os.environ.update(OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n), MKL_DYNAMIC="FALSE")
    return f"{n} thread(s) per notebook (profile {profile})"


def default_jobs(profile: str) -> int:
    """Notebooks at once when --jobs is not given: one per core where the profile pins each notebook to one thread
    (its numbers do not depend on how many run beside it), else 1 (each notebook then uses every core)."""
    return max(1, os.cpu_count() or 1) if THREADS.get(profile) == 1 else 1


def after(notebook: Path) -> list[str]:
    """The notebooks whose runs must finish before this one starts (its metadata "llcore": {"after": [...]})."""
    meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get("llcore", {})
    return list(meta.get("after", []))


def expected_seconds(profile: str, repo_root: Path) -> dict:
    """{(notebook stem, run name or '–'): seconds} of each run's latest ok row in results/<profile>/run_times.json."""
    found = run_ledger.rows(repo_root / "results" / profile / run_ledger.FILE) or []
    return {(r["notebook"], r["run"]): float(r["seconds"]) for r in found if r.get("status") == "ok"}


def plan_order(runs: list[Run], needs: dict, expected: dict | None) -> list[int]:
    """The order in which ready runs start: longest first, where a run's length is its expected seconds plus the
    longest chain of runs that wait on it (`needs`: {i: indices run i waits for}); runs without a record last, in
    plan order (they count 0 s)."""
    own = [(expected or {}).get((r.notebook.stem, r.run_name or "–")) for r in runs]
    tail: dict[int, float] = {}

    def chain(i: int) -> float:                      # own seconds + the longest chain of the runs waiting on i
        if i not in tail:
            tail[i] = (own[i] or 0.0) + max((chain(j) for j in needs if i in needs[j]), default=0.0)
        return tail[i]

    return sorted(range(len(runs)), key=lambda i: (own[i] is None, -chain(i), i))


def execute_all(runs: list[Run], runs_dir: Path, cwd: Path, repo_root: Path, jobs: int = 1,
                execute: Callable = None, expected: dict | None = None,
                on_done: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    """Execute the runs, up to `jobs` at once, each only after the runs of the notebooks it comes `after` that
    are planned too; printing a line as each starts and ends. Results come back in the runs' order.
    on_done(result) is called as each run ends (the runner records it there, so an interrupted invocation keeps
    what its finished runs measured).
    expected: {(notebook stem, run name or '–'): seconds} from earlier runs; of the runs ready to start, the one first
    in plan_order starts first: the longest expected first, counting the runs that wait on it (with --jobs the long
    runs do not end up last; runs without a record keep their order, after those with one)."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
    execute = execute or execute_run
    needs = {i: {j for j, other in enumerate(runs) if other.notebook.stem in after(run.notebook)}
             for i, run in enumerate(runs)}
    results, pending, running = {}, list(range(len(runs))), {}
    rank = {i: k for k, i in enumerate(plan_order(runs, needs, expected))}

    def report(i: int, result: RunResult) -> None:
        failure = f"{where(result)}: {short(result.error)}" if result.status != "ok" else ""
        print(f"[{i + 1}/{len(runs)}] {runs[i].label}: {result.status} in {result.seconds:.1f} s{failure}", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        while pending or running:
            ready = sorted((i for i in pending if needs[i] <= set(results)), key=rank.__getitem__)
            for i in ready[: max(1, jobs) - len(running)]:
                pending.remove(i)
                print(f"[{i + 1}/{len(runs)}] {runs[i].label}: running -> "
                      f"{rel(runs[i].output_path(runs_dir), repo_root)}", flush=True)
                running[pool.submit(execute, runs[i], runs_dir, cwd)] = i
            if not running:                      # what is left waits on a notebook that is not planned: run it
                needs.update({i: set() for i in pending})
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                i = running.pop(future)
                results[i] = future.result()
                report(i, results[i])
                if on_done is not None:
                    on_done(results[i])
    return [results[i] for i in range(len(runs))]


def prepare_all(runs: list[Run], runs_dir: Path, cwd: Path, repo_root: Path) -> list[RunResult]:
    """Write the parameter-injected notebooks without executing them."""
    results = [execute_run(run, runs_dir, cwd, prepare_only=True) for run in runs]
    for r in results:
        problem = f" ({r.error})" if r.status != "ok" else ""
        print(f"prepared {rel(r.output, repo_root)}: {r.status}{problem}")
    return results


# the executed notebooks, kept with the results they wrote (a reader sees the story without running it)

KEEP_EXECUTED = ("default", "paper")      # smoke runs keep theirs in runs/smoke only
EXECUTED_LIMIT = 5 * 2**20                # bytes: larger figures or outputs are a bug to fix, not to commit


def keep_executed(result: RunResult, folder: Path, limit: int = EXECUTED_LIMIT) -> Path | None:
    """Copy a successful run's executed notebook to folder/<label>.ipynb (e.g. results/default/notebooks/); a failed
    run, or a notebook over `limit` bytes (warned), is not kept. Returns the copy's path."""
    if result.status != "ok" or not result.output.is_file():
        return None
    size = result.output.stat().st_size
    if size > limit:
        print(f"warning: {result.output.name} is {size / 2**20:.1f} MB, over {limit / 2**20:.0f} MB: not copied to "
              f"{folder} (lower its figures' dpi or its printed output)", file=sys.stderr)
        return None
    return atomic_write_bytes(folder / result.output.name, result.output.read_bytes())


# reporting


def git_short_sha(repo_root: Path) -> str | None:
    """The checked-out commit, or None outside git or before the first commit."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo_root, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def failure(r: RunResult) -> str:
    """Where and why a run failed, for the tables ('' for a run that passed)."""
    return ": ".join(filter(None, [r.failed_cell, short(r.error)]))


def format_table(results: list[RunResult], profile: str, repo_root: Path) -> str:
    """This invocation's runs as Markdown, under a line naming the profile, the date and the commit."""
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sha = git_short_sha(repo_root)
    header = f"# Notebook run times: profile `{profile}`, {when}" + (f", git {sha}" if sha else "")
    rows = [
        [r.run.notebook.stem, r.run.run_name or MISSING, r.status, f"{r.seconds:.1f}", failure(r)]
        for r in results
    ]
    total = sum(r.seconds for r in results)
    table = markdown_table(["notebook", "run", "status", "seconds", "failed cell"], rows)
    return f"{header}\n\n{table}\nTotal: {total:.1f} s over {len(results)} run(s).\n"


def section_seconds(executed: Path) -> list[list]:
    """[[heading, seconds], ...]: the seconds papermill measured for each code cell, summed under the markdown
    heading above it (the notebook's sections: data, θ training, sweeps, evaluation, figures...); [] when unreadable."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return []
    sections, heading = {}, "setup"
    for cell in cells:
        text = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            titles = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
            heading = titles[0] if titles else heading
        elif cell.get("cell_type") == "code":
            seconds = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
            if isinstance(seconds, (int, float)):
                sections[heading] = sections.get(heading, 0.0) + seconds
    return [[h, round(t, 1)] for h, t in sections.items()]


def machine_line() -> str:
    """Cores and thread settings, which the run times depend on."""
    threads = ", ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ)
    return f"{os.cpu_count()} cores, " + (threads or "threads: torch's default (one per core)")


def record(result: RunResult, profile: str, repo_root: Path) -> None:
    """What a finished run leaves behind, written as soon as it ends (not when the whole invocation does, so a long
    `--jobs` run stopped half-way keeps its finished runs): the executed notebook kept with the results (default and
    paper profiles) and its row merged into the run-time ledger. The documents built on them are written once, at
    the end of the invocation (`write_documents`)."""
    if profile in KEEP_EXECUTED:
        keep_executed(result, repo_root / "results" / profile / "notebooks")
    merge_ledger([result], profile, repo_root)


def write_documents(repo_root: Path) -> None:
    """Regenerate every generated document from the committed results (`llcore.repro.documents`, the one module that
    writes them; imported here only, by the entry point)."""
    from llcore.repro import documents
    documents.write_all(repo_root)


def merge_ledger(results: list[RunResult], profile: str, repo_root: Path) -> None:
    """Merge these runs into `results/<profile>/run_times.json` (one row per notebook and run: its latest run, with
    when and at which commit it finished) and write it as `run_times.md`. Runs of other notebooks keep their earlier
    rows, so `--only` does not erase them."""
    out = repo_root / "results" / profile
    ledger = run_ledger.read(out / run_ledger.FILE)
    full_run = run_ledger.last_full_run(out / run_ledger.FILE)
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sha = git_short_sha(repo_root) or MISSING
    for r in results:
        key = (r.run.notebook.stem, r.run.run_name or MISSING)
        ledger[key] = {"notebook": key[0], "run": key[1], "status": r.status, "seconds": round(r.seconds, 1),
                       "finished": when, "git": sha, "failed_cell": failure(r), "machine": machine_line(),
                       "sections": section_seconds(r.output)}
    run_ledger.write(out, profile, ledger, full_run)


def record_full_run(profile: str, repo_root: Path, started: float, notebooks_done: float, jobs: int,
                    finished: float | None = None, cached_at_start: int | None = None) -> dict:
    """Record a complete reproduction (every notebook of the profile and the benchmark, all of them passed), as
    run_all.sh calls it at the end: wall-clock start and end (epoch seconds), the notebooks' share, the lanes, cores,
    threads, the commit, and how many cached artifacts (trained θ, generators, ...) were there at the start, so a
    reader can tell a run from scratch (0) from one that reused earlier work. It heads run_times.md until the next
    complete run replaces it."""
    finished = time.time() if finished is None else finished
    stamp = lambda t: datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")    # noqa: E731
    out = repo_root / "results" / profile
    record = {"profile": profile, "started": stamp(started), "finished": stamp(finished),
              "seconds": round(finished - started, 1), "notebooks_seconds": round(notebooks_done - started, 1),
              "bench_seconds": round(finished - notebooks_done, 1), "jobs": jobs, "cached_at_start": cached_at_start,
              "git": git_short_sha(repo_root) or MISSING, "machine": f"{os.cpu_count()} cores, {pin_threads(profile)}"}
    run_ledger.write(out, profile, run_ledger.read(out / run_ledger.FILE), record)
    return record


def report_failures(results: list[RunResult], repo_root: Path) -> None:
    """Name each failed run, its cell and the executed copy to open, on stderr."""
    for r in results:
        if r.status != "ok":
            print(f"FAILED: {r.run.label}{where(r)}: {short(r.error, 300)}\n"
                  f"        open {rel(r.output, repo_root)}", file=sys.stderr)


# command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m llcore.repro.runner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", choices=PROFILES, default="default",
                        help="parameter profile (default: %(default)s)")
    parser.add_argument("--only", metavar="NAME", help="run one notebook, by stem or its prefix (00 or 00_toy)")
    parser.add_argument("--run", metavar="RUN_NAME", dest="run_name",
                        help="only the runs of that name in a params file's runs: list (e.g. --only 01 --run faces)")
    parser.add_argument("-p", nargs=2, action="append", metavar=("KEY", "VALUE"), dest="params",
                        help="override a parameter in every run; VALUE is read as YAML (repeatable)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="notebooks run at once (default: one per core on the default profile, else 1); "
                             "threads per notebook come from the profile")
    parser.add_argument("--prepare-only", action="store_true",
                        help="write parameter-injected notebooks to runs/<profile>/ without executing them")
    parser.add_argument("--write", action="store_true",
                        help="only regenerate the documents (README blocks, results/README.md, CLAIMS.md, SUMMARY.md) "
                             "from the committed results; run nothing")
    parser.add_argument("--record-full-run", nargs=3, type=float, metavar=("STARTED", "NOTEBOOKS_DONE", "CACHED"),
                        help="(run_all.sh, after a complete run and its benchmark) record the run's wall clock, "
                             "epoch seconds, and the number of cached artifacts at its start")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, repo_root: Path = REPO_ROOT) -> int:
    """Plan, validate and execute the runs; return 0, 1 (some run failed) or 2 (usage error)."""
    args = parse_args(argv)
    args.jobs = args.jobs or default_jobs(args.profile)
    if args.write:
        write_documents(repo_root)
        return 0
    if args.record_full_run:
        started, done, cached = args.record_full_run
        rec = record_full_run(args.profile, repo_root, started, done, jobs=args.jobs, cached_at_start=int(cached))
        write_documents(repo_root)                       # the status table names the complete run
        print(run_ledger.full_run_line(rec).replace("**", ""))
        return 0
    notebooks_dir = repo_root / "notebooks"
    runs_dir = repo_root / "runs" / args.profile
    try:
        notebooks = select(discover(notebooks_dir), args.only)
        runs = plan_runs(notebooks, notebooks_dir / "params", args.profile, parse_cli_params(args.params))
        runs = select_runs(runs, args.run_name)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not runs:
        print(f"error: no notebooks matching {NOTEBOOK_GLOB} in {notebooks_dir}", file=sys.stderr)
        return 2
    lacking = assets.missing([(r.notebook.stem, r.label, r.parameters) for r in runs], repo_root)
    if lacking:
        print(f"error: {assets.report(lacking)}", file=sys.stderr)
        return 2
    for r in runs:
        r.parameters = assets.resolve(r.notebook.stem, r.parameters, repo_root)
    if args.prepare_only:
        results = prepare_all(runs, runs_dir, notebooks_dir, repo_root)
        return 1 if any(r.status != "ok" for r in results) else 0
    print(f"{len(runs)} run(s), {args.jobs} at a time, {pin_threads(args.profile)}", flush=True)
    try:
        results = execute_all(runs, runs_dir, notebooks_dir, repo_root, jobs=args.jobs,
                              expected=expected_seconds(args.profile, repo_root),
                              on_done=lambda r: record(r, args.profile, repo_root))
    finally:                                 # once per invocation, also when it is stopped half-way
        write_documents(repo_root)
    print("\n" + format_table(results, args.profile, repo_root))
    report_failures(results, repo_root)
    return 1 if any(r.status != "ok" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
