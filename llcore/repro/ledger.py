"""The run-time ledger of a profile: `results/<profile>/run_times.json`, and `run_times.md` written from it.

One row per notebook and run (its latest run: status, seconds, when, at which commit, on which machine and threads,
and the seconds of each of its sections), and the record of the last complete reproduction (`full_run`: wall clock
from the first notebook to the end of the benchmark, lanes, threads, commit, and how many cached artifacts it found
at its start). The runner writes it as runs end (`llcore.repro.runner.merge_ledger`, `record_full_run`); the
README's status table reads it (`llcore.repro.status`), so no run time is typed by hand anywhere.

    rows(path)                      its rows, read only (None when unreadable)
    read(path)                      {(notebook, run): row} to merge into; an unreadable file is set aside, not fatal
    last_full_run(path)             the complete run's record, or None
    write(out, profile, rows, full) run_times.json and run_times.md
    full_run_line(record)           the sentence that heads run_times.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from llcore.repro.io import atomic_write_json, atomic_write_text
from llcore.repro.markdown import markdown_table

FILE = "run_times.json"        # results/<profile>/FILE


def rows(path: Path) -> list[dict] | None:
    """The rows of a run_times.json as they are ([] without the file); None when it is unreadable. Reads only."""
    if not path.exists():
        return []
    try:
        found = json.loads(path.read_text())["rows"]
    except (ValueError, KeyError, TypeError):
        return None
    fields = {"notebook", "run", "status", "seconds"}
    return found if isinstance(found, list) and all(isinstance(r, dict) and fields <= r.keys() for r in found) else None


def read(path: Path) -> dict:
    """The earlier runs' rows, {(notebook, run): row}, to merge new rows into; an unreadable ledger is set aside
    (renamed *.json.corrupt, so the next write cannot overwrite it), not fatal."""
    found = rows(path)
    if found is None:
        path.replace(path.with_suffix(".json.corrupt"))
        print(f"warning: {path} was unreadable; kept as {path.name}.corrupt, starting a new ledger", file=sys.stderr)
        return {}
    return {(r["notebook"], r["run"]): r for r in found}


def last_full_run(path: Path) -> dict | None:
    """The record of the last complete invocation (record_full_run) in a run_times.json, or None."""
    try:
        return json.loads(path.read_text()).get("full_run")
    except (OSError, ValueError, AttributeError):
        return None


def full_run_line(record: dict | None) -> str:
    """run_times.md's first paragraph: the last complete run's total, or that none was recorded."""
    if not record:
        return ("No complete run recorded yet (`./run_all.sh` with no --only, --run or -p records one when every "
                "notebook and the benchmark pass).")
    command = f"./run_all.sh --profile {record['profile']} --jobs {record['jobs']}"
    return (f"**Last complete run** (`{command}`, every notebook and the benchmark): "
            f"**{record['seconds'] / 60:.1f} min** wall clock ({record['notebooks_seconds'] / 60:.1f} min notebooks, "
            f"{record['bench_seconds'] / 60:.1f} min benchmark), {record['started']} → {record['finished']}, "
            f"git {record['git']}, {record['jobs']} notebook(s) at a time on {record['machine']}"
            f"; {cache_note(record)}.")


def cache_note(record: dict) -> str:
    """How much earlier work a recorded complete run could reuse: its artifact cache at the start."""
    n = record.get("cached_at_start")
    if n is None:
        return "the artifact cache at the start was not recorded"
    if n == 0:
        return "from scratch (an empty artifact cache)"
    return f"{n} cached artifact(s) at the start, reused where they matched"


def write(out: Path, profile: str, ledger: dict, full_run: dict | None = None) -> None:
    """Write a ledger {(notebook, run): row} as out/run_times.json and out/run_times.md (rows from runs made in
    different checkouts can be merged into one ledger and written here), headed by the last complete run."""
    rows = [ledger[k] for k in sorted(ledger)]
    atomic_write_json(out / FILE, {"profile": profile, "rows": rows, **({"full_run": full_run} if full_run else {})})
    table = markdown_table(["notebook", "run", "status", "seconds", "finished (UTC)", "git", "failed cell"],
                           [[r["notebook"], r["run"], r["status"], f"{r['seconds']:.1f}", r["finished"], r["git"],
                             r["failed_cell"]] for r in rows])
    total = sum(r["seconds"] for r in rows if r["status"] == "ok")
    where = "\n".join(f"- {r['notebook']} ({r['run']}, {r.get('machine', 'machine not recorded')}): "
                       + (" · ".join(f"{h} {t:.0f} s" for h, t in r["sections"]) if r.get("sections") else
                          "not recorded (run before sections were timed)") for r in rows)
    atomic_write_text(out / "run_times.md",
                      f"# Notebook run times: profile `{profile}`\n\n"
                      f"{full_run_line(full_run)}\n\n"
                      f"## Each notebook's latest run\n\n"
                      f"{table}\nSum of the ok rows: {total:.1f} s over {len(rows)} row(s).\n\n"
                      f"## Where the time goes (seconds per notebook section, from papermill's cell timings)\n\n"
                      f"{where}\n")
