"""Markdown reports built from the files the notebooks write (the results contract: results/<profile>/<experiment>/).

`index_text` is the text of `results/README.md`, the results index, from every
`results/<profile>/<experiment>/metrics.json` of the committed profiles (`default`, `paper`): whatever the caller
puts first (`llcore.repro.documents` puts the status table and the verdict grid there), then per experiment a
provenance line, a headline table with one row per split (the metric at the budget for baseline and landscape, and
the speed-ups), links to its Markdown tables and its figures inline. This module writes nothing;
`llcore.repro.documents` writes the index, which is only ever generated, never edited by hand.

The Markdown helpers live in `llcore.repro.markdown`; `markdown_table` is also importable from here, where
`llcore.repro.results.write_table` and `benchmarks/device_check.py` read it."""

from __future__ import annotations

import json
from pathlib import Path

from llcore.repro import registry
from llcore.repro.markdown import (MISSING, between, fmt, is_capped, is_number, markdown_table,  # noqa: F401
                                   replace_between)

INDEX_PROFILES = ("default", "paper")  # `smoke` is CI-only and git-ignored
HEADLINE_N = "10"  # the `speedup_at` entry shown in the headline table

# one experiment


def value_at_budget(split: dict, method: str) -> str:
    """`curves[method]` at the budget, as 'mean ± spread' when `spread` has the budget step."""
    step = str(split.get("budget_steps"))
    mean = split.get("curves", {}).get(method, {}).get(step)
    sd = split.get("spread", {}).get(method, {}).get(step)
    if mean is None:
        return MISSING
    return f"{fmt(mean)} ± {fmt(sd)}" if is_number(sd) else fmt(mean)


def speedup_at(split: dict, n: str = HEADLINE_N) -> str:
    """`speedup_at[n]`, prefixed with ≥ when capped by the budget."""
    value = split.get("speedup_at", {}).get(n)
    return ("≥ " if is_capped(split, n) else "") + fmt(value)


def provenance_line(metrics: dict) -> str:
    """Git sha, device, start time, wall seconds and seeds of one experiment's run."""
    prov = metrics.get("provenance", {})
    seeds = metrics.get("seeds", prov.get("seeds"))
    seeds_text = ", ".join(map(str, seeds)) if isinstance(seeds, list) else fmt(seeds)
    return (
        f"Provenance: git `{prov.get('git_sha') or MISSING}`, device `{prov.get('device') or MISSING}`, "
        f"started {prov.get('started') or MISSING}, wall {fmt(prov.get('wall_seconds'))} s, seeds {seeds_text}."
    )


def headline_table(splits: dict) -> str:
    """One row per split: the metric at the budget for baseline and landscape, and the speed-ups."""
    headers = ["split", "metric", "higher is better", "budget steps", "baseline", "landscape",
               f"speed-up at {HEADLINE_N}", "speed-up (steps)", "speed-up (seconds)"]
    rows = [
        [name, fmt(s.get("metric")), fmt(s.get("higher_is_better")), fmt(s.get("budget_steps")),
         value_at_budget(s, "baseline"), value_at_budget(s, "landscape"), speedup_at(s),
         fmt(s.get("speedup_steps")), fmt(s.get("speedup_seconds"))]
        for name, s in splits.items()
    ]
    return markdown_table(headers, rows)


def variants_table(variants: dict) -> str:
    """Ablation variants: one row per variant, one column per numeric field any variant has."""
    fields = list(dict.fromkeys(k for v in variants.values() for k, x in v.items() if is_number(x)))
    rows = [[name, *(fmt(v.get(k)) for k in fields)] for name, v in variants.items()]
    return markdown_table(["variant", *fields], rows)


def experiment_section(exp_dir: Path, results_root: Path) -> str:
    """The index section of one experiment; raises ValueError/TypeError/... on a malformed metrics.json."""
    metrics = json.loads((exp_dir / "metrics.json").read_text(encoding="utf-8"))
    if not isinstance(metrics, dict):
        raise TypeError("top level is not a JSON object")
    rel = exp_dir.relative_to(results_root).as_posix()
    parts = [f"### {exp_dir.name}\n", provenance_line(metrics) + "\n"]
    if metrics.get("splits"):
        parts.append(headline_table(metrics["splits"]))
    if metrics.get("variants"):
        parts.append("Ablation variants:\n\n" + variants_table(metrics["variants"]))
    tables = sorted((exp_dir / "tables").glob("*.md"))
    if tables:
        parts.append("Tables: " + ", ".join(f"[{t.stem}]({rel}/tables/{t.name})" for t in tables) + "\n")
    parts += [f"![{f.stem}]({rel}/figures/{f.name})\n" for f in sorted((exp_dir / "figures").glob("*.png"))]
    return "\n".join(parts)


# the index


def experiment_dirs(profile_dir: Path) -> list[Path]:
    """Experiment folders holding a metrics.json, in the order of RESULTS.md, unknown ones last by name."""
    dirs = [p.parent for p in profile_dir.glob("*/metrics.json")]
    rank = {name: i for i, name in enumerate(registry.ORDER)}
    return sorted(dirs, key=lambda d: (rank.get(d.name, len(rank)), d.name))


def profile_section(profile_dir: Path, results_root: Path, errors: list[str]) -> str:
    """All experiments of one profile; unreadable metrics files are appended to `errors` instead."""
    parts = [f"## Profile `{profile_dir.name}`\n"]
    if (profile_dir / "run_times.md").exists():
        parts.append(f"[Notebook run times]({profile_dir.name}/run_times.md)\n")
    executed = sorted((profile_dir / "notebooks").glob("*.ipynb"))
    if executed:
        parts.append("Executed notebooks (with their outputs and figures): "
                     + ", ".join(f"[{nb.stem}]({profile_dir.name}/notebooks/{nb.name})" for nb in executed) + "\n")
    for exp_dir in experiment_dirs(profile_dir):
        try:
            parts.append(experiment_section(exp_dir, results_root))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            rel = (exp_dir / "metrics.json").relative_to(results_root).as_posix()
            errors.append(f"- `{rel}`: {type(exc).__name__}: {exc}")
    return "\n".join(parts)


def index_text(results_root: Path, lead: list[str] = ()) -> str:
    """The text of `<results_root>/README.md`: its title, `lead` (sections the caller puts first: the status table,
    the verdict grid), then every experiment of the committed profiles. Writes nothing."""
    results_root = Path(results_root)
    errors: list[str] = []
    parts = [
        "# Results (generated by llcore.repro.documents — do not edit by hand)\n",
        "Regenerated by `./run_all.sh` (`python -m llcore.repro.runner`) from every "
        "`results/<profile>/<experiment>/metrics.json` of the profiles "
        + ", ".join(f"`{p}`" for p in INDEX_PROFILES) + ". "
        f"Speed-up at {HEADLINE_N}: landscape after {HEADLINE_N} steps is as good as the baseline after that many "
        f"times {HEADLINE_N} steps (≥: the baseline never got there within the budget).\n",
        *lead,
    ]
    profile_dirs = [results_root / p for p in INDEX_PROFILES if (results_root / p).is_dir()]
    parts += [profile_section(d, results_root, errors) for d in profile_dirs]
    if not profile_dirs:
        parts.append("No results yet: run `./run_all.sh`.\n")
    if errors:
        parts.append("## Unreadable metrics files\n\n" + "\n".join(errors) + "\n")
    return "\n".join(parts)
