"""The paper's claims at a glance: one verdict per claim and experiment, computed from the committed metrics.

Every cell of the table is `verdict(rule(metrics))`: a small named rule reads one number (or a pair) from
`results/<profile>/<experiment>/metrics.json` (docs/results.md) and says whether the claim held there:

    held          the claim's direction, by more than the noise
    not held      the other direction by more than the noise, or the claim's condition failed (e.g. never reached)
    within noise  |a − b| <= sqrt(sa² + sb²), sa and sb the two means' standard deviations over seeds at that step
    not measured  no experiment reads this claim here (yet)

The rules are written once, below, and the plain-words rules printed under the table are built from the same
constants (`SMALL_BUDGET`, `ONE_STEP`, `SMOOTHNESS`, the columns' splits), so the two cannot drift. The ablation
rules (claims 5, 7, 8 in the 04 columns) are those of notebook 04's claims cell, recomputed here from metrics.json
(04's "reversed" is "not held" here, and its "partly held" is "not held").

    python -m llcore.repro.claims            print the table and the rules

The documents built on it (results/CLAIMS.md, the README's verdict grid and findings, results/SUMMARY.md, the
figure) are laid out by `llcore.repro.claims_doc`, `llcore.repro.findings` and `llcore.repro.summary`, and written
by `python -m llcore.repro.documents`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..compare_amortized import K_GRID
from .markdown import markdown_table
from .registry import COLUMNS, PROFILE, Column  # noqa: F401  (the columns and the profile are the registry's)
from .verdicts import (  # noqa: F401  (the rules; the documents read them through this module)
    HELD, NOT_HELD, NOISE, NOT_MEASURED, VERDICTS, SMALL_BUDGET, ONE_STEP, SMOOTHNESS, g, noise, compare,
    speedup_verdict, combine, at, Cell, fewer_steps, versus, better_at, ood, one_step_defense, random_theta_helps,
    smoother_in_z, grows_with_compute, adds_to_amortized, no_plateau, link_label, VARIANT_WORDS, FROM_04, variant, compare_variants, ablation_fewer_steps, coordinate_vs_unrolled)

SPEEDUP_NS = ("5", "10", "20", "50")      # the figure: speedup_at[N]
FIGURE = "claims_speedups.png"            # results/<profile>/FIGURE


# the table: columns (experiments) × claims


def on_splits(metrics: dict | None, col: Column, names: tuple, rule: Callable[[dict], Cell], *tables: str) -> Cell:
    """`rule` on the first split (the verdict), the others listed after it; linked to `tables` of the experiment."""
    splits = (metrics or {}).get("splits") or {}
    present = [n for n in names if n and isinstance(splits.get(n), dict)]
    if not present or not names[0] or names[0] not in present:
        return Cell(NOT_MEASURED)
    cell = rule(splits[present[0]])
    cell.split = present[0]
    cell.others = [(n, rule(splits[n])) for n in present[1:]]
    if cell.verdict != NOT_MEASURED or any(c.verdict != NOT_MEASURED for _, c in cell.others):
        cell.links = tuple(dict.fromkeys(f"{col.experiment}/{t}" for t in tables))
    return cell


def linked(cell: Cell, *links: str, split: str = "") -> Cell:
    """`cell` with its source files (when it measured something) and the split or problem it read."""
    if cell.verdict != NOT_MEASURED:
        cell.links = links
        cell.split = split
    return cell


def cell_fewer_steps(col: Column, m: dict) -> Cell:
    if col.ablation_problem:
        return linked(ablation_fewer_steps(m.get("ablations") or {}, col.ablation_problem),
                      "ablations/tables/ablations.md",
                      split=f"{col.ablation_problem} (04)")
    return on_splits(m.get(col.experiment), col, (col.main, *col.also), fewer_steps, col.speedups_table)


def cell_small_budget(col: Column, m: dict) -> Cell:
    return on_splits(m.get(col.experiment), col, (col.main, *col.also), better_at, col.curves_table)


def cell_ood(col: Column, m: dict) -> Cell:
    if not col.ood:
        return Cell(NOT_MEASURED)
    return on_splits(m.get(col.experiment), col, (col.ood, *col.ood_also), ood, col.speedups_table, col.curves_table)


def cell_one_step(col: Column, m: dict) -> Cell:
    if col.experiment != "adversarial_defense":
        return Cell(NOT_MEASURED)
    return on_splits(m.get(col.experiment), col, (col.main, *col.also), one_step_defense, col.curves_table)


def cell_random_theta(col: Column, m: dict) -> Cell:
    if col.ablation_problem:
        return linked(compare_variants(m.get("ablations") or {}, col.ablation_problem, "random_theta", "baseline"),
                      "ablations/tables/ablations.md",
                      split=f"{col.ablation_problem} (04)")
    return on_splits(m.get(col.experiment), col, (col.main,), random_theta_helps, col.curves_table)


def cell_smoother(col: Column, m: dict) -> Cell:
    problem = ((m.get("landscape") or {}).get("problems") or {}).get(col.landscape_problem or "")
    if not isinstance(problem, dict):
        return Cell(NOT_MEASURED)
    seeds = (m.get("landscape") or {}).get("seeds")
    cell = smoother_in_z({**problem, "n_seeds": len(seeds) if isinstance(seeds, list) else 1})
    if cell.verdict != NOT_MEASURED:
        cell.text = "05: " + cell.text
    return linked(cell, "landscape/tables/measures.md", split=f"{col.landscape_problem} (05)")


def cell_replay(col: Column, m: dict) -> Cell:
    if not col.ablation_problem:
        return Cell(NOT_MEASURED)
    return linked(compare_variants(m.get("ablations") or {}, col.ablation_problem, "full", "no_replay"),
                  "ablations/tables/ablations.md",
                      split=f"{col.ablation_problem} (04)")


def cell_unrolled(col: Column, m: dict) -> Cell:
    if not col.ablation_problem:
        return Cell(NOT_MEASURED)
    return linked(coordinate_vs_unrolled(m.get("ablations") or {}, col.ablation_problem),
                  "ablations/tables/ablations.md",
                      split=f"{col.ablation_problem} (04)")


def cell_not_measured(col: Column, m: dict) -> Cell:
    return Cell(NOT_MEASURED)


def strongest(split: dict, step: int = SMALL_BUDGET) -> Cell:
    """Claim 9: landscape against the strongest descent in X, both searched over the same optimizer families and
    learning rates on validation targets for step `step` (controls `landscape_10`, `strongest_x_10`); the same
    comparison at the budget (`landscape` against `strongest_x`, chosen for the budget) is shown after it."""
    curves = split.get("curves") or {}
    if "strongest_x_10" not in curves:
        return Cell(NOT_MEASURED)
    mine = "landscape_10" if "landscape_10" in curves else "landscape"
    cell = versus(split, (mine, step), ("strongest_x_10", step), "{a} vs {b}")
    budget = split.get("budget_steps")
    if cell.verdict != NOT_MEASURED and "strongest_x" in curves:
        at_budget = versus(split, ("landscape", budget), ("strongest_x", budget), f"{{a}} vs {{b}} at {budget}")
        cell.text += f"; at the budget {at_budget.verdict}: {at_budget.text}"
        cell.extra = [(f"at the budget ({budget} steps)", at_budget)]
    return cell


def cell_strongest(col: Column, m: dict) -> Cell:
    if not col.strongest_baseline:
        return Cell(NOT_MEASURED)
    return on_splits(m.get(col.experiment), col, (col.main, col.ood), strongest, col.curves_table)


def beyond_start(method: str, step: int = SMALL_BUDGET) -> Callable[[dict], Cell]:
    """Claim 10: landscape against descent in X from landscape's own start θ(z₀), at `step`."""
    return lambda split: versus(split, ("landscape", step), (method, step), "{a} vs {b} from θ(z₀)")


def cell_start(col: Column, m: dict) -> Cell:
    if not col.start_control:
        return Cell(NOT_MEASURED)
    return on_splits(m.get(col.experiment), col, (col.main, col.ood), beyond_start(col.start_control),
                     col.curves_table)


STUDY = "theta_scaling"                   # claim 11: the θ-compute study's folder (notebooks/studies/theta_scaling.py)


def cell_compute(col: Column, m: dict) -> Cell:
    study = m.get(STUDY)
    if not col.scaling_problem or not isinstance(study, dict):
        return Cell(NOT_MEASURED)
    return linked(grows_with_compute(study, col.scaling_problem), f"{STUDY}/metrics.json",
                  f"{STUDY}/figures/{col.scaling_problem}.png", split=f"{col.scaling_problem} (θ-compute study)")


def amortized_cells(rule: Callable[[dict, str], Cell]) -> Callable[[Column, dict], Cell]:
    """A claim on an experiment's `amortized` section: `rule` on the in-distribution split, then the OOD split."""
    def cell(col: Column, m: dict) -> Cell:
        section = (m.get(col.experiment) or {}).get("amortized")
        if not isinstance(section, dict) or not col.main:
            return Cell(NOT_MEASURED)
        out = linked(rule(section, col.main), f"{col.experiment}/metrics.json", split=col.main)
        out.others = [(n, rule(section, n)) for n in (col.ood,) if n and n in (section.get("splits") or {})]
        return out
    return cell


@dataclass(frozen=True)
class Claim:
    title: str
    rule: str                                  # in plain words, printed under the table
    cell: Callable[[Column, dict], Cell]
    sentence: str = ""                         # the rule in one sentence (results/CLAIMS.md)
    sides: tuple[str, str] = ("landscape", "baseline")   # what Cell.ours and Cell.theirs measure


def splits_in_words(attr: str, also: str) -> str:
    """'toy (00): test_in; ...' for the columns that read a split, from COLUMNS itself."""
    parts = []
    for c in COLUMNS:
        name = getattr(c, attr)
        if name:
            extra = getattr(c, also)
            shown = f" (also shown: {', '.join(f'`{e}`' for e in extra)})" if extra else ""
            parts.append(f"{c.title}: `{name}`{shown}")
    return "; ".join(parts)


CLAIMS = (
    Claim("1. fewer steps to the same quality",
          "`speedup_steps` (steps the baseline needs to reach its own value at the budget, over the steps landscape "
          "needs to reach it, docs/results.md) on the in-distribution split. Not held when landscape never reaches "
          "that value (`speedup_steps_reached` false) or the ratio is at most 1; within noise when |speed-up − 1| is "
          "at most its standard deviation over seeds (recorded only by the ablations, 04); held otherwise.",
          cell_fewer_steps,
          "held when landscape reaches the baseline's own value at the budget in fewer steps than the baseline "
          "needs for it, beyond the spread over seeds.", ("landscape's speed-up", "baseline")),
    Claim(f"2. better result at a small fixed budget ({SMALL_BUDGET} steps)",
          f"landscape against the baseline at step {SMALL_BUDGET} of the in-distribution split, each the mean over "
          "targets and seeds, compared beyond the noise.", cell_small_budget,
          f"held when landscape's mean at step {SMALL_BUDGET} is better than the baseline's by more than the noise.",
          (f"landscape at {SMALL_BUDGET}", f"baseline at {SMALL_BUDGET}")),
    Claim("3. out-of-distribution generalization",
          f"rules 1 and 2 on the out-of-distribution split ({splits_in_words('ood', 'ood_also')}): held when both "
          "hold, not held when either is not held, else within noise.", cell_ood,
          "held when claims 1 and 2 both hold on the out-of-distribution split.", ("landscape", "baseline")),
    Claim("4. one-step adversarial defense beats multi-step reversal",
          f"robust accuracy of landscape after {ONE_STEP} reversal step against the baseline's reversal after its "
          "whole budget, compared beyond the noise (defense only).", cell_one_step,
          f"held when robust accuracy after {ONE_STEP} landscape reversal step beats the baseline's reversal after its "
          "whole budget by more than the noise.", (f"landscape after {ONE_STEP} step", "baseline after its budget")),
    Claim("5. a random θ already helps",
          "an untrained random θ (descent in Z, x = θ(z)) against the baseline at the budget, compared beyond the "
          "noise (04's rule for 'even a random θ beats descent in X').", cell_random_theta,
          "held when descent in Z through an untrained random θ ends better than the baseline by more than the noise.",
          ("random θ at the budget", "baseline at the budget")),
    Claim("6. a smoother landscape in Z",
          "05's smoothness measures, Z against X (" + "; ".join(f"{label}: {better} is smoother"
                                                              for _, label, better in SMOOTHNESS)
          + "). Each measure votes for Z, for X, or for neither when the difference is within sqrt(se_X² + se_Z²), "
          "se the standard error of the mean over the targets and seeds (05 ran one seed, so θ's own variation is "
          "not in this noise). Held when Z gets more votes than X, within noise when no measure votes, not held "
          "otherwise.", cell_smoother,
          "held when more of 05's smoothness measures favour Z than X, each beyond its noise.",
          ("measures favouring Z", "measures favouring X")),
    Claim("7. the replay buffer matters",
          "04's final metric of the full method against the variant without replay (a buffer of one round), "
          "compared beyond the noise (04's rule).", cell_replay,
          "held when the full method ends better than the variant without replay by more than the noise.",
          ("full method", "no replay")),
    Claim("8. coordinate descent vs back-propagation through the unrolled steps",
          "04's rule: held when coordinate descent is not worse beyond noise on the final metric, not slower to "
          "train beyond the noise of the training times, and uses no more peak memory; not held otherwise.",
          cell_unrolled,
          "held when coordinate descent is no worse, no slower to train and no hungrier for memory than "
          "back-propagation through the unrolled steps.", ("coordinate descent", "unrolled")),
    Claim("9. against the strongest baseline in X (any optimizer family, tuned)",
          f"landscape against the strongest descent in X a user could pick (llcore/repro/controls.py): optimizer "
          f"family (Adam, Adam with β₁ = 0.5 or 0, plain gradient descent), learning rate and start searched on the "
          f"validation targets for step {SMALL_BUDGET} (`strongest_x_10`), landscape given the same search in Z "
          f"(`landscape_10`), compared at step {SMALL_BUDGET} beyond the noise, in and out of distribution; the "
          "comparison at the budget (landscape against `strongest_x`, searched for the budget) is shown after it. "
          "Not measured where a notebook does not run these controls.",
          cell_strongest,
          f"held when landscape beats the strongest tuned descent in X at step {SMALL_BUDGET} by more than the noise.",
          ("landscape", "strongest descent in X")),
    Claim("10. beyond the learned start (descent in X from θ(z₀))",
          f"landscape against descent in X started at landscape's own starting point θ(z₀) (`theta_start`: the "
          f"baseline's optimizer, its own tuned learning rate) at step {SMALL_BUDGET}, beyond the noise: how much of "
          "the lead is the learned landscape rather than the learned start. Not measured where a notebook does not "
          "run that control.", cell_start,
          f"held when landscape beats descent in X started from θ(z₀) at step {SMALL_BUDGET} by more than the "
          "noise.",
          (f"landscape at {SMALL_BUDGET}", f"from θ(z₀) at {SMALL_BUDGET}")),
    Claim("11. the gain grows with θ's training compute (beyond the paper)",
          f"the θ-compute study (notebooks/studies/theta_scaling.py, results/<profile>/{STUDY}/) trains θ at several "
          f"compute levels (roll-outs = rounds × batch size, the default among them) and seeds; at each, landscape's "
          f"gain at step {SMALL_BUDGET} over the strongest descent in X (claim 9's search, the strongest X metric "
          "over landscape's) on the in-distribution split. A least-squares line of log gain against log2 roll-outs "
          "over every (level, seed): held when its slope's 95% interval lies above 0 (the gain grows with compute), "
          "not held when below (it falls), within noise when the interval holds 0 (flat). Not measured where the "
          "study has not run that problem at 2 or more levels.", cell_compute,
          f"held when the gain at step {SMALL_BUDGET} over the strongest descent in X rises with θ's training "
          "roll-outs, the slope per doubling above 0 at its 95% interval.",
          ("gain per doubling of θ's roll-outs", "no trend")),
    Claim("12. landscape adds to an amortized start (beyond the paper)",
          "an amortized start E: y → x (01's encoder; elsewhere a small regressor trained on θ's own targets by the "
          "problem's objective, llcore.train_amortized) is available. Five methods are searched on validation "
          "(llcore.compare_amortized; families × starts × lrs): landscape, landscape then X, landscape from the "
          "lifted E(y), the strongest descent in X and the same search from E(y); the last two's better on "
          "validation is the alternative. Landscape's variant better on validation (plain or from E(y)) against "
          f"it at step {SMALL_BUDGET} on the in-distribution split, by the paired per-target ratio: held when its "
          "95% bootstrap interval lies below 1, not held when above, within noise when it holds 1.",
          amortized_cells(adds_to_amortized),
          f"held when landscape (plain or from E(y)) beats the better of descent in X and descent from E(y) at step "
          f"{SMALL_BUDGET}, per target, beyond the bootstrap interval.", ("landscape", "strongest alternative")),
    Claim("13. no plateau with refinement in X (beyond the paper)",
          "the same section at the budget: landscape then X (k steps in Z, then descent in X from θ(z_k); k = "
          f"round(f·N) for f in {', '.join(f'{f:g}' for f in K_GRID)} and the X optimizer chosen on validation) "
          "against the alternative of "
          "claim 12, by the paired per-target ratio on the in-distribution split: held when its 95% interval lies "
          "below 1, not held when above, within noise when it holds 1. Plain landscape's ratio (its plateau) is "
          "shown beside it.", amortized_cells(no_plateau),
          "held when k steps in Z then descent in X beats the strongest alternative at the budget, per target, "
          "beyond the bootstrap interval.", ("landscape then X", "strongest alternative")),
)


def load_metrics(profile_dir: Path) -> dict:
    """experiment name -> its metrics.json (unreadable or missing files are left out)."""
    out = {}
    for path in sorted(Path(profile_dir).glob("*/metrics.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            out[path.parent.name] = data
    return out


MALFORMED = (TypeError, KeyError, AttributeError, ValueError, ZeroDivisionError)   # a metrics file a rule cannot read


def cells(metrics: dict) -> list[list[Cell]]:
    """One row per claim, one Cell per column."""
    rows = []
    for claim in CLAIMS:
        row = []
        for col in COLUMNS:
            try:
                row.append(claim.cell(col, metrics))
            except MALFORMED:
                row.append(Cell(NOT_MEASURED))        # a malformed metrics file measures nothing
        rows.append(row)
    return rows


def verdict_lines(experiment: str, metrics: dict) -> list[str]:
    """One experiment's column(s) of the table, as Markdown lines for its notebook's conclusion: the claims its own
    metrics decide (claims that need another experiment's metrics, such as 05's landscapes, are left to the table),
    each with its verdict and numbers, without links."""
    cols = [c for c in COLUMNS if c.experiment == experiment]
    lines = []
    for col in cols:
        for claim in CLAIMS:
            try:
                cell = claim.cell(col, {experiment: metrics})
            except MALFORMED:
                continue
            if all(c.verdict == NOT_MEASURED for c in (cell, *(c for _, c in cell.others))):
                continue
            cell.links = ()
            where = f"{col.title}, " if len(cols) > 1 else ""
            lines.append(f"- *{where}{claim.title}*: {cell.markdown('')}")
    return lines


def claims_table(metrics: dict, base: str) -> str:
    """The Markdown table; links are `base` + a path relative to the profile's folder."""
    rows = [[claim.title, *(c.markdown(base) for c in row)] for claim, row in zip(CLAIMS, cells(metrics))]
    return markdown_table(["claim", *(c.title for c in COLUMNS)], rows)


def rules_text() -> str:
    """The verdict rules in plain words, built from the same constants as the rules."""
    lines = [
        "How each cell is decided (`llcore/repro/claims.py`; every number is read from the linked file's metrics):",
        "",
        f"- Verdicts: **{HELD}**, **{NOT_HELD}**, **{NOISE}**, **{NOT_MEASURED}**. Two means a ± sa and b ± sb "
        "(standard deviations over seeds at the same step) differ *within noise* when |a − b| ≤ sqrt(sa² + sb²).",
        "- Numbers in a cell: landscape's (or the named variant's) first, then the baseline's (or the other "
        "variant's), then the noise; speed-ups as ratios (×).",
        f"- Splits: in-distribution claims read {splits_in_words('main', 'also')}. Other splits are shown after the "
        "verdict with their own verdict; they do not change it. The 04 columns read 04's reduced-scale runs against "
        "its own tuned baseline.",
    ]
    lines += [f"- Claim {claim.title.split('.')[0]}: {claim.rule}" for claim in CLAIMS]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the table and the rules for a profile's committed metrics (the documents are written by
    `python -m llcore.repro.documents`)."""
    from llcore.repro.paths import repo_root
    ap = argparse.ArgumentParser(prog="python -m llcore.repro.claims", description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default=PROFILE)
    args = ap.parse_args(argv)
    metrics = load_metrics(repo_root() / "results" / args.profile)
    if not metrics:
        print(f"no metrics under results/{args.profile}/")
        return 0
    print(claims_table(metrics, f"results/{args.profile}/") + "\n" + rules_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
