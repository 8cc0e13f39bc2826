"""The verdict rules of the claims table: small, named, and each able to say "not held".

Each rule reads one number (or a pair) from a split of an experiment's metrics.json (docs/results.md) and returns a
`Cell`: its verdict (held / not held / within noise / not measured), the two sides and the noise. `llcore.repro.claims`
lays them out as the table, one rule per claim and column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from . import scaling
from .ablations import compare_finals, unrolled_verdict
from .controls import SMALL_STEP
from .markdown import is_number

HELD, NOT_HELD, NOISE, NOT_MEASURED = "held", "not held", "within noise", "not measured"
VERDICTS = (HELD, NOT_HELD, NOISE, NOT_MEASURED)
SMALL_BUDGET = SMALL_STEP                 # claim 2 (and 9, 10): the fixed small budget, in steps
ONE_STEP = 1                              # claim 4: landscape's reversal steps
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


def link_label(path: str) -> str:
    """`gan_inversion/tables/mse.md` -> `mse`; a metrics file -> `<experiment> metrics.json`."""
    p = Path(path)
    return f"{p.parent.name} metrics.json" if p.name == "metrics.json" else p.stem


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


def grows_with_compute(study: dict, problem: str) -> Cell:
    """Claim 11: does landscape's gain at 10 steps over the strongest descent in X (the study's reference, test_in)
    grow with θ's training roll-outs? `scaling.trend` on the θ-compute study's metrics: held when the slope of log
    gain per doubling lies above 0 at its 95% interval ("grows"), not held when below ("falls"), within noise
    otherwise ("flat"); not measured where the study has fewer than 2 levels of that problem."""
    entry = (study.get("problems") or {}).get(problem)
    fit = scaling.trend({"problems": {problem: entry}}).get(problem) if isinstance(entry, dict) else None
    if fit is None:
        return Cell(NOT_MEASURED)
    xs, gs = scaling.trend_points(entry)
    mean_at = lambda r: sum(x for x, q in zip(gs, xs) if q == r) / xs.count(r)        # noqa: E731
    lo, hi = (math.exp(b) for b in fit["interval"])
    band = f"[{g(lo)}, {g(hi)}]"
    text = (f"gain ×{g(fit['factor_per_doubling'])} per doubling of θ's roll-outs {band}, {fit['n']} θ over "
            f"{min(xs):,}–{max(xs):,} roll-outs, gain at {scaling.SMALL_STEP} {g(mean_at(min(xs)))} → "
            f"{g(mean_at(max(xs)))}")
    verdict = {scaling.GROWS: HELD, scaling.FALLS: NOT_HELD, scaling.FLAT: NOISE}[fit["verdict"]]
    return Cell(verdict, text, ours=f"×{g(fit['factor_per_doubling'])} per doubling", theirs="×1 (flat)",
                sd=f"{fit['level']:.0%} interval {band}")


def ratio_verdict(interval) -> str:
    """A paired per-target ratio (this / the alternative, < 1: this is better) by its bootstrap interval: held when
    the interval lies below 1, not held when above, within noise when it holds 1."""
    if not (isinstance(interval, (list, tuple)) and len(interval) == 2 and all(is_number(b) for b in interval)):
        return NOT_MEASURED
    return HELD if interval[1] < 1 else NOT_HELD if interval[0] > 1 else NOISE


def ratio_text(o: dict) -> str:
    """'×0.41 [0.33, 0.52]': a method's paired ratio to the alternative, median [interval]."""
    v = o["versus"]
    return f"×{g(v['median'])} [{g(v['interval'][0])}, {g(v['interval'][1])}]"


AMORTIZED_WORDS = {"landscape": "landscape", "landscape_then_x": "landscape then X",
                   "landscape_from_amortized": "landscape from E(y)", "strongest_x": "strongest X",
                   "amortized_then_x": "E(y) then X"}


def amortized_step(section: dict, split: str, step) -> tuple[dict, dict, str] | None:
    """(methods' numbers, their settings, the alternative) of the `amortized` section at `step` on `split`."""
    by = ((section.get("splits") or {}).get(split) or {}).get(str(step))
    settings = (section.get("settings") or {}).get(str(step))
    alternative = (section.get("alternative") or {}).get(str(step))
    return None if not (isinstance(by, dict) and isinstance(settings, dict) and alternative) else (by, settings,
                                                                                                     alternative)


def adds_to_amortized(section: dict, split: str, step: int = SMALL_BUDGET) -> Cell:
    """Claim 12: with an amortized start E(y) available, does landscape beat the strongest alternative a user would
    pick (the better on validation of the strongest descent in X and the same search from E(y))? Landscape's variant
    is the one better on validation of plain landscape and landscape from the lifted E(y); its paired per-target
    ratio to the alternative at `step` decides (ratio_verdict); plain landscape's ratio is shown beside it."""
    got = amortized_step(section, split, step)
    if got is None:
        return Cell(NOT_MEASURED)
    by, settings, alt = got
    mine = min(("landscape", "landscape_from_amortized"), key=lambda m: settings[m]["score"])
    verdict = ratio_verdict(by[mine]["versus"].get("interval"))
    text = (f"{AMORTIZED_WORDS[mine]} {g(by[mine]['mean'])} vs {AMORTIZED_WORDS[alt]} {g(by[alt]['mean'])} at "
            f"{step}, per-target ratio {ratio_text(by[mine])}")
    if mine != "landscape":
        text += f"; plain landscape {ratio_text(by['landscape'])}"
    return Cell(verdict, text, ours=f"{AMORTIZED_WORDS[mine]} {g(by[mine]['mean'])}",
                theirs=f"{AMORTIZED_WORDS[alt]} {g(by[alt]['mean'])}", sd=f"ratio {ratio_text(by[mine])}")


def no_plateau(section: dict, split: str) -> Cell:
    """Claim 13: at the budget (the section's last step), does landscape then X (k steps in Z, then descent in X
    from θ(z_k), k and the X optimizer chosen on validation) beat the strongest alternative? Its paired per-target
    ratio decides (ratio_verdict); plain landscape's ratio at the budget (its plateau) is shown beside it."""
    steps = section.get("steps") or []
    got = amortized_step(section, split, steps[-1]) if steps else None
    if got is None:
        return Cell(NOT_MEASURED)
    by, settings, alt = got
    k = settings["landscape_then_x"].get("k")
    text = (f"landscape then X ({k} steps in Z) {g(by['landscape_then_x']['mean'])} vs {AMORTIZED_WORDS[alt]} "
            f"{g(by[alt]['mean'])} at {steps[-1]}, per-target ratio {ratio_text(by['landscape_then_x'])}; plain "
            f"landscape {ratio_text(by['landscape'])}")
    return Cell(ratio_verdict(by["landscape_then_x"]["versus"].get("interval")), text,
                ours=f"landscape then X {g(by['landscape_then_x']['mean'])}",
                theirs=f"{AMORTIZED_WORDS[alt]} {g(by[alt]['mean'])}", sd=f"ratio {ratio_text(by['landscape_then_x'])}")


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
