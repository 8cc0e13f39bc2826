"""What a runner invocation records as each run ends: its row in the run-time ledger (results/<profile>/run_times.*),
its executed notebook kept beside the results it wrote, and, at the end, the table of the invocation's runs, the
complete-run line and the documents (written once, by `llcore.repro.documents`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from llcore.checkpoint import atomic_write_bytes
from llcore.repro import ledger as run_ledger
from llcore.repro.markdown import MISSING, markdown_table
from llcore.repro.plan import RunResult, pin_threads, rel, short, where


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
