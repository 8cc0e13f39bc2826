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
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .ablations import compare_finals, unrolled_verdict
from .controls import SMALL_STEP
from .markdown import is_number, markdown_table
from .registry import COLUMNS, Column  # noqa: F401  (the columns are the registry's)
from .report import is_capped

HELD, NOT_HELD, NOISE, NOT_MEASURED = "held", "not held", "within noise", "not measured"
VERDICTS = (HELD, NOT_HELD, NOISE, NOT_MEASURED)
PROFILE = "default"                       # the committed profile the table reads
SMALL_BUDGET = SMALL_STEP                 # claim 2 (and 9, 10): the fixed small budget, in steps
ONE_STEP = 1                              # claim 4: landscape's reversal steps
SPEEDUP_NS = ("5", "10", "20", "50")      # the figure: speedup_at[N]
FIGURE = "claims_speedups.png"            # results/<profile>/FIGURE
# claim 6: notebook 05's smoothness measures and the direction in which Z is the smoother space
SMOOTHNESS = (("convex_fraction_random", "convex fraction on random slices", "higher"),
              ("convex_fraction_trajectory", "convex fraction on the plane of the optimizer's path", "higher"),
              ("abs_hessian_top_start", "|top Hessian eigenvalue| at the start", "lower"),
              ("abs_hessian_top_end", "|top Hessian eigenvalue| at the end", "lower"))


def g(x) -> str:
    """A number with 3 significant digits (cells stay short); a dash when missing."""
    return f"{x:.3g}" if is_number(x) else "–"


# the verdict rules: small, named, and each able to say "not held"


def noise(sa, sb) -> float:
    """The noise of a difference of two means: sqrt(sa² + sb²) of their spreads (a missing spread counts as 0)."""
    return math.hypot(sa if is_number(sa) else 0.0, sb if is_number(sb) else 0.0)


def compare(a, sa, b, sb, higher_is_better: bool) -> str:
    """Is `a` (± sa) better than `b` (± sb)? held / not held beyond sqrt(sa² + sb²), else within noise."""
    if not (is_number(a) and is_number(b)):
        return NOT_MEASURED
    gain = (a - b) if higher_is_better else (b - a)           # > 0: a is better
    if abs(gain) <= noise(sa, sb):
        return NOISE
    return HELD if gain > 0 else NOT_HELD


def speedup_verdict(speedup, reached=True, spread=None) -> str:
    """A speed-up s: not held when the target quality was never reached; within noise when |s − 1| <= its spread
    over seeds (when one was recorded); else held when s > 1, not held otherwise."""
    if not is_number(speedup):
        return NOT_MEASURED
    if reached is False:
        return NOT_HELD
    if is_number(spread) and abs(speedup - 1.0) <= spread:
        return NOISE
    return HELD if speedup > 1.0 else NOT_HELD


def combine(*verdicts: str) -> str:
    """All must hold: not held if any is not held, not measured if any is missing, held if all hold, else noise."""
    if NOT_HELD in verdicts:
        return NOT_HELD
    if NOT_MEASURED in verdicts or not verdicts:
        return NOT_MEASURED
    return HELD if all(v == HELD for v in verdicts) else NOISE


def at(split: dict, method: str, step) -> tuple:
    """(mean, spread) of `method` at `step` on a split; None where missing."""
    key = str(step)
    return (split.get("curves", {}).get(method, {}).get(key), split.get("spread", {}).get(method, {}).get(key))


@dataclass
class Cell:
    """One table cell: a verdict, the numbers behind it, and the file they come from (relative to the profile)."""
    verdict: str
    text: str = ""
    links: tuple[str, ...] = ()
    others: list[tuple[str, "Cell"]] = field(default_factory=list)   # the same rule on other splits, shown after
    # the numbers behind the verdict, formatted, for results/CLAIMS.md: the claim's side, the other side, the noise
    ours: str = ""
    theirs: str = ""
    sd: str = ""
    split: str = ""                                                   # the split (or problem) the rule read
    extra: list[tuple[str, "Cell"]] = field(default_factory=list)    # a second comparison on the same split

    def markdown(self, base: str) -> str:
        if self.verdict == NOT_MEASURED and not self.others:
            return NOT_MEASURED
        parts = [f"**{self.verdict}** {self.text}".strip()]
        parts += [f"{name}: {c.verdict}, {c.text}" if c.text else f"{name}: {c.verdict}" for name, c in self.others]
        out = "; ".join(parts)
        return " ".join([out, *(f"[{link_label(x)}]({base}{x})" for x in self.links)])


def fewer_steps(split: dict) -> Cell:
    """Claim 1: `speedup_steps` (steps the baseline needs for its own value at the budget over the steps landscape
    needs for it); not held when landscape never reaches it (`speedup_steps_reached` false)."""
    s, reached = split.get("speedup_steps"), split.get("speedup_steps_reached", True)
    if not is_number(s):
        return Cell(NOT_MEASURED)
    text = f"{g(s)}×" if reached is not False else f"never reached ({g(s)}×)"
    return Cell(speedup_verdict(s, reached), text, ours=text, theirs="1×")


def versus(split: dict, a: tuple, b: tuple, words: str) -> Cell:
    """Method a[0] at step a[1] against method b[0] at step b[1], each mean ± its spread over seeds, compared beyond
    the noise; words formats the cell's text from (value a, value b)."""
    (va, sa), (vb, sb) = at(split, *a), at(split, *b)
    verdict = compare(va, sa, vb, sb, bool(split.get("higher_is_better")))
    if verdict == NOT_MEASURED:
        return Cell(NOT_MEASURED)
    return Cell(verdict, words.format(a=g(va), b=g(vb)) + f" (noise {g(noise(sa, sb))})", ours=g(va), theirs=g(vb),
                sd=g(noise(sa, sb)))


def better_at(split: dict, step: int = SMALL_BUDGET) -> Cell:
    """Claim 2: landscape vs baseline at a fixed step."""
    return versus(split, ("landscape", step), ("baseline", step), "{a} vs {b}")


def ood(split: dict, step: int = SMALL_BUDGET) -> Cell:
    """Claim 3: claims 1 and 2 on an out-of-distribution split; held only when both hold."""
    one, two = fewer_steps(split), better_at(split, step)
    if NOT_MEASURED in (one.verdict, two.verdict):
        return Cell(NOT_MEASURED)
    return Cell(combine(one.verdict, two.verdict), f"{one.text}; at {step} steps {two.text}",
                ours=f"{one.ours}; {two.ours} at {step}", theirs=f"{one.theirs}; {two.theirs} at {step}", sd=two.sd)


def one_step_defense(split: dict, step: int = ONE_STEP) -> Cell:
    """Claim 4: landscape after `step` reversal steps vs the baseline's reversal at its full budget."""
    budget = split.get("budget_steps")
    return versus(split, ("landscape", step), ("baseline", budget), f"{{a}} at {step} vs {{b}} at {budget} steps")


def random_theta_helps(split: dict) -> Cell:
    """Claim 5: an untrained random θ vs the baseline, at the budget (04's rule, on the final value)."""
    budget = split.get("budget_steps")
    return versus(split, ("random_theta", budget), ("baseline", budget), f"random θ {{a}} vs {{b}} at {budget}")


def smoother_in_z(problem: dict, measures=SMOOTHNESS) -> Cell:
    """Claim 6: 05's smoothness measures, Z against X. Each measure votes for Z, for X, or neither (within noise:
    sqrt(se_X² + se_Z²), se the standard error of the mean over the targets and seeds); held when Z gets more votes
    than X, within noise when no measure votes, not held otherwise."""
    n_targets, n_seeds = problem.get("setup", {}).get("n_targets") or 0, max(1, problem.get("n_seeds", 1))
    n = n_targets * n_seeds
    z_votes = x_votes = ties = 0
    for key, _, better in measures:
        x, z = problem.get("X", {}).get(key), problem.get("Z", {}).get(key)
        sx, sz = (problem.get("spread", {}).get(sp, {}).get(key) for sp in ("X", "Z"))
        se = (lambda s: s / math.sqrt(n) if is_number(s) and n > 0 else None)
        v = compare(z, se(sz), x, se(sx), better == "higher")
        if v == NOT_MEASURED:
            return Cell(NOT_MEASURED)
        z_votes, x_votes, ties = z_votes + (v == HELD), x_votes + (v == NOT_HELD), ties + (v == NOISE)
    verdict = HELD if z_votes > x_votes else (NOISE if z_votes == x_votes == 0 else NOT_HELD)
    return Cell(verdict, f"Z smoother on {z_votes}, X on {x_votes}, within noise {ties} of {len(measures)} measures "
                         f"({n_targets} targets, {n_seeds} seed{'s' if n_seeds > 1 else ''})",
                ours=f"{z_votes} of {len(measures)} measures", theirs=f"{x_votes} of {len(measures)} measures",
                sd=f"{ties} within noise")


# the ablations (notebook 04's claims cell, recomputed from metrics.json)


VARIANT_WORDS = {"random_theta": "random θ", "no_replay": "no replay"}
FROM_04 = {"held": HELD, "within noise": NOISE, "reversed": NOT_HELD}      # 04's words for its verdicts


def variant(ablations: dict, problem: str, name: str) -> dict | None:
    """A variant of 04's metrics; `baseline` is the tuned descent in X (speed-up 1 by definition)."""
    if name == "baseline":
        base = ablations.get("problems", {}).get(problem, {}).get("baseline")
        return {**base, "speedup_steps": 1.0, "speedup_steps_spread": 0.0} if isinstance(base, dict) else None
    return ablations.get("variants", {}).get(f"{problem}/{name}")


def compare_variants(ablations: dict, problem: str, a: str, b: str) -> Cell:
    """Is variant `a` better (lower) than `b` on the final metric, beyond sqrt(sa² + sb²)? 04's own rule
    (ablations.compare_finals), its "reversed" read as not held."""
    va, vb = variant(ablations, problem, a), variant(ablations, problem, b)
    if va is None or vb is None or not all(is_number(v.get("final")) for v in (va, vb)):
        return Cell(NOT_MEASURED)
    _, verdict = compare_finals(ablations, problem, a, b)
    sd = g(noise(va.get('final_spread'), vb.get('final_spread')))
    return Cell(FROM_04[verdict], f"{VARIANT_WORDS.get(a, a)} {g(va['final'])} vs {VARIANT_WORDS.get(b, b)} "
                                  f"{g(vb['final'])} (noise {sd})", ours=g(va["final"]), theirs=g(vb["final"]), sd=sd)


def ablation_fewer_steps(ablations: dict, problem: str) -> Cell:
    """Claim 1 in the 04 columns: the full variant's speedup_steps, within noise of 1 by its spread over seeds."""
    v = variant(ablations, problem, "full")
    if v is None or not is_number(v.get("speedup_steps")):
        return Cell(NOT_MEASURED)
    s, sd, reached = v["speedup_steps"], v.get("speedup_steps_spread"), v.get("speedup_steps_reached", True)
    text = f"{g(s)} ± {g(sd)}×" if is_number(sd) else f"{g(s)}×"
    text += "" if reached is not False else " never reached"
    return Cell(speedup_verdict(s, reached, sd), text, ours=f"{g(s)}×" + ("" if reached is not False else
                                                                         " (never reached)"), theirs="1×", sd=g(sd))


def coordinate_vs_unrolled(ablations: dict, problem: str) -> Cell:
    """Claim 8, 04's rule (ablations.unrolled_verdict): coordinate descent at least as good as unrolled
    back-propagation on the final metric, not slower to train beyond noise, and not more memory; else not held."""
    vf, vu = variant(ablations, problem, "full"), variant(ablations, problem, "unrolled")
    if vf is None or vu is None or not all(is_number(v.get(k)) for v in (vf, vu) for k in ("final", "train_seconds")):
        return Cell(NOT_MEASURED)
    _, quality = compare_finals(ablations, problem, "full", "unrolled")
    _, verdict = unrolled_verdict(ablations, problem, quality)
    mf, mu = vf.get("peak_memory_mib"), vu.get("peak_memory_mib")
    text = (f"{verdict.split(': ', 1)[-1]} (final {g(vf['final'])} vs {g(vu['final'])}, training "
            f"{g(vf['train_seconds'])} vs {g(vu['train_seconds'])} s"
            + ("" if not (is_number(mf) and is_number(mu)) else f", peak memory {g(mf)} vs {g(mu)} MiB") + ")")
    side = lambda v, mib: (f"final {g(v['final'])}, {g(v['train_seconds'])} s"           # noqa: E731
                           + (f", {g(mib)} MiB" if is_number(mib) else ""))
    return Cell(HELD if verdict.startswith("held") else NOT_HELD, text, ours=side(vf, mf), theirs=side(vu, mu),
                sd=g(noise(vf.get("final_spread"), vu.get("final_spread"))))


# the table: columns (experiments) × claims


def link_label(path: str) -> str:
    """`gan_inversion/tables/mse.md` -> `mse`; a metrics file -> `<experiment> metrics.json`."""
    p = Path(path)
    return f"{p.parent.name} metrics.json" if p.name == "metrics.json" else p.stem


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


# the figure


def write_speedup_figure(profile_dir: Path) -> Path | None:
    """speedup_at[N] for N in SPEEDUP_NS, one panel per experiment, one line per split, log axes, a 1x line;
    a point capped by the budget (the baseline never got there) is drawn hollow. None without any speed-ups."""
    profile_dir = Path(profile_dir)
    metrics = load_metrics(profile_dir)
    panels = []
    for exp in dict.fromkeys(c.experiment for c in COLUMNS):
        splits = (metrics.get(exp) or {}).get("splits") or {}
        series = []
        for name, s in splits.items():
            pts = [(int(n), s["speedup_at"][n], is_capped(s, n)) for n in SPEEDUP_NS
                   if is_number((s.get("speedup_at") or {}).get(n))]
            if pts:
                series.append((name, pts))
        if series:
            title = next(c.title for c in COLUMNS if c.experiment == exp)
            panels.append(("ablations (04)" if exp == "ablations" else title, series))
    if not panels:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = 3
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.3 * nrows), sharey=True, squeeze=False)
    values = [v for _, series in panels for _, pts in series for _, v, _ in pts if v > 0]
    lo, hi = min(values + [1.0]) / 1.6, max(values + [1.0]) * 4     # head room above for the legend
    markers, styles = "osD^vP*X", ("-", "--", "-.", ":")
    ticks = [t for t in (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200) if lo <= t <= hi]
    for ax, (title, series) in zip(axes.flat, panels):
        ax.axhline(1.0, color="black", lw=1.2, ls="--", label="1× (no speed-up)")
        for k, (name, pts) in enumerate(series):
            shift = 1 + 0.045 * (k - (len(series) - 1) / 2)          # splits with equal values stay visible
            xs, ys = [p[0] * shift for p in pts], [max(p[1], lo) for p in pts]
            line, = ax.plot(xs, ys, ls=styles[k % len(styles)], marker=markers[k % len(markers)], ms=7, lw=1.6,
                            label=name)
            capped = [(x, y) for x, y, p in zip(xs, ys, pts) if p[2]]
            if capped:
                ax.plot(*zip(*capped), ls="none", marker=markers[k % len(markers)], ms=7, mfc="white",
                        mec=line.get_color(), mew=1.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        ax.set_xlim(int(SPEEDUP_NS[0]) / 1.25, int(SPEEDUP_NS[-1]) * 1.25)
        ax.set_xticks([int(n) for n in SPEEDUP_NS], SPEEDUP_NS)
        ax.minorticks_off()
        ax.set_yticks(ticks, [f"{t:g}×" for t in ticks])
        ax.grid(alpha=0.3)
        ax.set_title(title, fontsize=12)
        ax.set_xlabel("N: landscape's steps")
        ax.legend(fontsize=8, loc="upper right", ncol=2, framealpha=0.9)
    for ax in axes[:, 0]:
        ax.set_ylabel("speedup_at[N] (log)")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("speedup_at[N] per experiment and split: landscape after N steps is as good as the baseline after "
                 f"speedup·N steps (results/{profile_dir.name})\nhollow marker: capped at budget / N, the baseline "
                 "never got there within its budget (the true factor is at least that); "
                 "below 1×: the baseline is ahead",
                 fontsize=11)
    fig.tight_layout()
    path = profile_dir / FIGURE
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


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
