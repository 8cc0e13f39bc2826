"""Every generated document, written in one place from the committed metrics and the run-time ledger.

    README.md                    the findings block (llcore.repro.findings) and the verdict grid
                                 (llcore.repro.claims_doc), each between its markers
    results/README.md            the results index (llcore.repro.report): the status table (llcore.repro.status) and
                                 the verdict grid first, then every experiment's headline table and figures
    results/CLAIMS.md            each claim's rule and its numbers per experiment (llcore.repro.claims_doc)
    results/SUMMARY.md           the reproduction report (llcore.repro.summary)
    results/<profile>/claims_speedups.png   the speed-up figure (llcore.repro.claims_figure)

The other harness modules build text and write nothing of these; only the runner's entry point imports this module,
once at the end of an invocation (`./run_all.sh`), and `--write` regenerates them without running anything:

    python -m llcore.repro.documents        (or python -m llcore.repro.runner --write)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from . import claims, claims_doc, claims_figure, findings, report, status, summary
from .io import atomic_write_text
from .markdown import replace_between
from .registry import PROFILE

FINDINGS_START, FINDINGS_END = "<!-- findings:start -->", "<!-- findings:end -->"
GRID_START, GRID_END = "<!-- grid:start -->", "<!-- grid:end -->"


def block(start: str, text: str, end: str) -> str:
    """`text` between the markers `start` and `end`, one line each."""
    return f"{start}\n{text.rstrip()}\n{end}"


def findings_block(metrics: dict, claims_link: str) -> str:
    """The README's findings: one bullet a sentence, links to `claims_link`."""
    return block(FINDINGS_START, "\n".join(f"- {s}" for s in findings.sentences(metrics, claims_link)), FINDINGS_END)


def grid_block(metrics: dict, claims_link: str) -> str:
    """The verdict grid, its legend under it, symbols linking to `claims_link`."""
    return block(GRID_START, claims_doc.grid(metrics, claims_link) + "\n" + claims_doc.legend()
                 + f" · numbers and rules: [{claims_doc.FILE}]({claims_link})", GRID_END)


def readme_text(doc: str, metrics: dict, claims_link: str) -> str:
    """`doc` (README.md) with its findings and grid blocks regenerated; raises ValueError when a marker is missing."""
    for start, end, new in ((FINDINGS_START, FINDINGS_END, findings_block(metrics, claims_link)),
                            (GRID_START, GRID_END, grid_block(metrics, claims_link))):
        replaced = replace_between(doc, start, end, new)
        if replaced is None:
            raise ValueError(f"README.md lacks the markers {start} … {end}")
        doc = replaced
    return doc


def index_lead(results_root: Path, profile: str = PROFILE) -> list[str]:
    """What heads results/README.md: the status table, then the verdict grid and links to CLAIMS.md, SUMMARY.md."""
    metrics = claims.load_metrics(Path(results_root) / profile)
    lead = [f"## Status (profile `{profile}`)\n", status.block(status.status_markdown(results_root, f"{profile}/",
                                                                                       profile)) + "\n"]
    if metrics:
        lead += [f"## The paper's claims (profile `{profile}`)\n",
                 f"The report: [{summary.FILE}]({summary.FILE}); each claim's rule and numbers: "
                 f"[{claims_doc.FILE}]({claims_doc.FILE}).\n",
                 grid_block(metrics, claims_doc.FILE) + "\n",
                 f"![speed-ups at 5, 10, 20 and 50 steps per experiment and split]({profile}/{claims.FIGURE})\n"
                 if (Path(results_root) / profile / claims.FIGURE).is_file() else ""]
    return [x for x in lead if x]


def write_if_changed(path: Path, text: str) -> Path:
    """Write `text` to `path` (atomically) unless it already holds exactly that; return the path."""
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        atomic_write_text(path, text)
    return path


def write_results_index(results_root: Path, profile: str = PROFILE) -> Path:
    """Write `<results_root>/README.md`, the results index, its speed-up figure redrawn first; return its path."""
    results_root = Path(results_root)
    try:
        claims_figure.write_speedup_figure(results_root / profile)
    except ImportError:                   # matplotlib missing: the index still comes, with the figure already there
        pass
    return write_if_changed(results_root / "README.md", report.index_text(results_root, index_lead(results_root,
                                                                                                   profile)))


def write_all(repo: Path, profile: str = PROFILE) -> list[Path]:
    """Write every generated document of the repository at `repo` from `results/<profile>/` (the list above); the
    README's blocks only when README.md has their markers. Returns the paths written or checked."""
    repo = Path(repo)
    results_root = repo / "results"
    written = [write_results_index(results_root, profile)]
    metrics = claims.load_metrics(results_root / profile)
    if not metrics:
        return written
    written.append(write_if_changed(results_root / claims_doc.FILE,
                                    claims_doc.claims_document(metrics, f"{profile}/", profile)))
    written.append(write_if_changed(results_root / summary.FILE, summary.summary_document(repo, profile)))
    readme = repo / "README.md"
    doc = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    if FINDINGS_START in doc and GRID_START in doc:
        written.append(write_if_changed(readme, readme_text(doc, metrics, f"results/{claims_doc.FILE}")))
    return written


def main(argv: list[str] | None = None) -> int:
    """Regenerate every document from the committed results of a profile."""
    from .paths import repo_root
    ap = argparse.ArgumentParser(prog="python -m llcore.repro.documents", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default=PROFILE)
    args = ap.parse_args(argv)
    for path in write_all(repo_root(), args.profile):
        print("wrote", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
