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
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from llcore.repro import assets
from llcore.repro import ledger as run_ledger
from llcore.repro.paths import repo_root
from llcore.repro.recording import (  # noqa: F401  (as each run ends; tests read it from here)
    EXECUTED_LIMIT, keep_executed, git_short_sha, format_table, section_seconds, machine_line, record,
    write_documents, merge_ledger, record_full_run, report_failures)
from llcore.repro.plan import (  # noqa: F401  (the runner's planning; tests and studies read it from here)
    NOTEBOOK_GLOB, THREADS, Run, RunResult, UsageError, pin_threads, rel, short, where, declared_parameters,
    discover, load_param_sets, notebook_parameters, parse_cli_params, plan_runs, select, select_runs, validate)

PROFILES = ("smoke", "default", "paper")
REPO_ROOT = repo_root()
# Kernel log noise: ipykernel >= 7 warns on every start that its local TCP sockets are unencrypted, and the
# interrupt jupyter_client sends on shutdown can log a spurious KeyboardInterrupt error. Cell errors and dead
# kernels reach papermill as messages, not as these logs, so nothing is lost.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


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
