"""The status table: one line a notebook, its state and run time read from the run-time ledger.

What each notebook shows and where its results are is written once, in `llcore.repro.registry`; whether its last default run
passed, at which commit, how long it took and on how many threads come from `results/default/run_times.json`
(`llcore.repro.ledger`), and so does the last complete run's wall clock under the table. So no document carries
a hand-typed time, and a test fails when its block differs from what the ledger gives.

The block sits between STATUS_START and STATUS_END at the top of results/README.md; `llcore.repro.documents`
writes it (at the end of every `./run_all.sh` invocation, and `python -m llcore.repro.documents`).
"""
from __future__ import annotations

import re
from pathlib import Path

from llcore.repro import ledger, registry
from llcore.repro.markdown import MISSING, markdown_table
from llcore.repro.registry import PROFILE

STATUS_START, STATUS_END = "<!-- status:start -->", "<!-- status:end -->"


NOTEBOOKS = registry.notebooks()   # what each notebook shows and the experiments it writes


def threads(machine: str) -> str:
    """'1 thread', '2 threads' or "torch's default threads", from a ledger row's machine line."""
    m = re.search(r"OMP_NUM_THREADS=(\d+)", machine or "")
    if not m:
        return "torch's default threads"
    return f"{m.group(1)} thread" + ("s" if m.group(1) != "1" else "")


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else "<1 min"


def run_label(row: dict) -> str:
    return "" if row["run"] == MISSING else f"{row['run']} "


def state_cell(rows: list[dict]) -> str:
    """'ok at <commit> (<date>)' per run, or where it failed; 'not run' without a row."""
    if not rows:
        return "not run"
    parts = []
    for r in rows:
        when = f"{r['git']}, {r['finished'][:10]}"
        parts.append(f"{run_label(r)}ok ({when})" if r["status"] == "ok" else
                     f"{run_label(r)}**{r['status']}** at {r['failed_cell'] or 'an unknown cell'} ({when})")
    return "; ".join(parts)


def time_cell(rows: list[dict]) -> str:
    """Each run's last time and its threads, e.g. 'faces 86 min + mnist 52 min (1 thread)'."""
    if not rows:
        return MISSING
    kinds = sorted({threads(r.get("machine", "")) for r in rows})
    return " + ".join(f"{run_label(r)}{minutes(r['seconds'])}" for r in rows) + f" ({', '.join(kinds)})"


def links_cell(nb: Notebook, rows: list[dict], base: str, profile_dir: Path) -> str:
    """Its results folders, and its executed notebooks where they were kept."""
    links = [f"[{label}]({base}{folder}/)" for label, folder in nb.results]
    executed = [(run_label(r).strip() or "notebook", f"notebooks/{nb.stem}"
                 + ("" if r["run"] == MISSING else f"__{r['run']}") + ".ipynb") for r in rows]
    kept = [f"[{name}]({base}{path})" for name, path in executed if (profile_dir / path).is_file()]
    return ", ".join(links) + ("; executed: " + ", ".join(kept) if kept else "")


def status_markdown(results_root: Path, base: str, profile: str = PROFILE) -> str:
    """The table (links relative to `base`, e.g. 'results/default/') and the complete run's line under it."""
    profile_dir = Path(results_root) / profile
    path = profile_dir / ledger.FILE
    by_notebook: dict[str, list[dict]] = {}
    for row in sorted(ledger.rows(path) or [], key=lambda r: (r["notebook"], r["run"])):
        by_notebook.setdefault(row["notebook"], []).append(row)
    rows = [[f"`{nb.stem}`", nb.shows, state_cell(by_notebook.get(nb.stem, [])),
             time_cell(by_notebook.get(nb.stem, [])), links_cell(nb, by_notebook.get(nb.stem, []), base, profile_dir)]
            for nb in NOTEBOOKS]
    table = markdown_table(["notebook", "what it shows", f"last `{profile}` run", "run time", "results"], rows)
    ok = [r for rs in by_notebook.values() for r in rs if r["status"] == "ok"]
    total = sum(r["seconds"] for r in ok)
    return (f"{table}\n{ledger.full_run_line(ledger.last_full_run(path))} "
            f"The latest runs above add up to {total / 3600:.1f} CPU-hours; where each notebook's time goes, section "
            f"by section: [run_times.md]({base}run_times.md).")


def block(text: str) -> str:
    return f"{STATUS_START}\n{text.rstrip()}\n{STATUS_END}"
