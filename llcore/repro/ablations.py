"""Notebook 04's ablations: the catalogue of variants, how each resolves to θ and training settings, and the
summaries, figures and verdicts the notebook reports.

A variant is a dict {"kind": "trained" | "identity" | "random", "family", "what", "theta": overrides of the full θ
(width, depth, dim_z_factor), "train": overrides of the full TrainConfig settings}. Families (T, dim_z, width, depth,
buffer, K) are one-factor grids whose variants are named by their value (T_5, dim_z_4x, K_0.25T, ...).
"""
from __future__ import annotations

import numpy as np

from .results import split_summary

# the claims the conclusion checks: (claim, a, b) = "a is better than b" on the final metric
CLAIMS = [("the replay buffer matters", "full", "no_replay"),
          ("a loss over the whole trajectory beats a last-step loss", "full", "last_step_loss"),
          ("even a random θ beats descent in X", "random_theta", "baseline"),
          ("coordinate descent matches back-propagation through the unrolled steps at lower cost", "full", "unrolled")]
FAMILY_COLOURS = {"full": "tab:blue", "untrained θ": "tab:gray", "replay": "tab:red", "loss": "tab:purple",
                  "optimization": "tab:brown", "T": "tab:orange", "dim_z": "tab:green", "width": "tab:olive",
                  "depth": "tab:cyan", "buffer": "tab:pink", "K": "gold"}
KEY_VARIANTS = ("full", "identity_theta", "random_theta", "no_replay", "last_step_loss", "unrolled")


def trained(family: str, what: str, theta: dict | None = None, train: dict | None = None) -> dict:
    return {"kind": "trained", "family": family, "what": what, "theta": theta or {}, "train": train or {}}


def catalogue(T_grid, dim_z_factors, width_grid, depth_grid, buffer_grid, K_factors, inner_steps: int):
    """(CATALOGUE: name -> variant, FAMILIES: family -> [(name, variant)]) for the given grids; K is counted in
    multiples of the full method's T = inner_steps."""
    cat = {
        "full": trained("full", "the unablated method"),
        "identity_theta": {"kind": "identity", "family": "untrained θ", "what": "θ = identity (Adam in X, test lr, x_0)"},
        "random_theta": {"kind": "random", "family": "untrained θ", "what": "untrained random MLP θ"},
        "no_replay": trained("replay", "buffer of 1 round", train={"buffer_rounds": 1}),
        "last_step_loss": trained("loss", "only z_T enters the buffer", train={"trajectory_loss": "last"}),
        "unrolled": trained("optimization", "back-propagation through the T steps", train={"mode": "unrolled"}),
    }
    families = {
        "T": [(f"T_{t}", trained("T", f"T = {t} inner steps", train={"inner_steps": int(t)})) for t in T_grid],
        "dim_z": [(f"dim_z_{f:g}x", trained("dim_z", f"dim Z = {f:g} × dim X", theta={"dim_z_factor": f}))
                  for f in dim_z_factors],
        "width": [(f"width_{w}", trained("width", f"θ width {w}", theta={"width": int(w)})) for w in width_grid],
        "depth": [(f"depth_{d}", trained("depth", f"θ depth {d}", theta={"depth": int(d)})) for d in depth_grid],
        "buffer": [(f"buffer_{b}", trained("buffer", f"buffer of {b} rounds", train={"buffer_rounds": int(b)}))
                   for b in buffer_grid],
        "K": [(f"K_{f:g}T", trained("K", f"K = {f:g} T = {max(1, round(f * inner_steps))} θ updates per round",
                                    train={"theta_steps": max(1, round(f * inner_steps))})) for f in K_factors],
    }
    for members in families.values():
        cat.update(dict(members))
    return cat, families


def select(variants, cat: dict, families: dict) -> list:
    """The variants to run, in order: full first, then each named variant or family's members, once each."""
    selected = ["full"]
    for v in variants:
        names = [n for n, _ in families[v]] if v in families else [v]
        unknown = [n for n in names if n not in cat]
        if unknown:
            raise ValueError(f"unknown variant {v!r}; known: {list(cat)} and the families {list(families)}")
        selected += [n for n in names if n not in selected]
    return selected


def select_per_problem(variants, cat: dict, families: dict, problems, grid_problems) -> dict:
    """problem -> its variants (select's order): the problems in `grid_problems` run every variant and family named,
    the others the named variants only (the one-factor families' grids are left out there)."""
    unknown = sorted(set(grid_problems) - set(problems))
    if unknown:
        raise ValueError(f"grid_problems {unknown} are not among the problems {list(problems)}")
    return {p: select(variants if p in grid_problems else [v for v in variants if v not in families], cat, families)
            for p in problems}


def memory_selection(memory_variants, cat: dict, selected: list) -> list:
    """The memory_variants that run (they must name trained variants)."""
    unknown = [v for v in memory_variants if v not in cat or cat[v]["kind"] != "trained"]
    if unknown:
        raise ValueError(f"memory_variants must name trained variants, got {unknown}")
    return [v for v in memory_variants if v in selected]     # measured only when the variant runs


def resolve(spec: dict, full_theta: dict, full_train: dict, dim_x: int) -> tuple[dict, dict]:
    """(θ settings, TrainConfig settings) of a trained variant on a problem with x in R^dim_x."""
    th = {**full_theta, **spec["theta"]}
    theta_kw = {"width": th["width"], "depth": th["depth"], "dim_z": max(1, round(th["dim_z_factor"] * dim_x))}
    return theta_kw, {**full_train, **spec["train"]}


def catalogue_rows(cat: dict, selected: list) -> list[dict]:
    """One row per selected variant: its family, what changes, and its overrides of full."""
    overrides = lambda spec: ", ".join(f"{k} {v}" for k, v in {**spec.get("theta", {}),               # noqa: E731
                                                               **spec.get("train", {})}.items())
    return [{"variant": n, "family": cat[n]["family"], "what": cat[n]["what"], "overrides of full": overrides(cat[n])}
            for n in selected]


def lr_panel_row(problem: str, lr: float, tuned: dict, base_at: dict, full_at: dict, metric: str, budget: int) -> dict:
    """One row of the learning-rate panel: the baseline and full at test lr `lr` (evaluations {"curves",
    "seconds"}), each against the tuned baseline, and full against the baseline at the same lr; None where a run
    diverged (non-finite)."""
    row = {"problem": problem, "lr": lr}
    for label, ev in (("baseline", base_at), ("full", full_at)):
        finals = [float(c[budget]) for c in ev["curves"]]
        ok = all(np.isfinite(np.asarray(c)).all() for c in ev["curves"])
        vs = split_summary({"baseline": tuned["curves"], "landscape": ev["curves"]},
                           {"baseline": tuned["seconds"], "landscape": ev["seconds"]}, metric, budget) if ok else None
        row.update({f"{label} final": float(np.mean(finals)) if ok else None,
                    f"{label} final ±": float(np.std(finals)) if ok else None,
                    f"{label} speedup_steps vs tuned": vs["speedup_steps"] if ok else None,
                    f"{label} speedup_at[10] vs tuned": vs["speedup_at"].get("10") if ok else None})
    same = split_summary({"baseline": base_at["curves"], "landscape": full_at["curves"]},
                         {"baseline": base_at["seconds"], "landscape": full_at["seconds"]}, metric, budget) \
        if row["full final"] is not None and row["baseline final"] is not None else None
    row["full speedup_steps vs baseline at this lr"] = same["speedup_steps"] if same else None
    return row


def plot_variants(results: dict, base_final: dict, metrics: dict, title: str):
    """Per problem, each variant's speedup_steps and final metric over the baseline's (bars, error bars = std over
    seeds). results: problem -> variant -> entry; base_final: problem -> per-seed finals; metrics: problem -> name."""
    import matplotlib.pyplot as plt
    problems = list(results)
    n = max(len(r) for r in results.values())
    fig, axes = plt.subplots(len(problems), 2, figsize=(13, 0.32 * n * len(problems) + 2), squeeze=False)
    for row, p in enumerate(problems):
        names = list(results[p])
        ys = np.arange(len(names))[::-1]
        colours = [FAMILY_COLOURS.get(results[p][v]["family"], "black") for v in names]
        get = lambda k: np.array([results[p][v][k] for v in names])          # noqa: E731
        base = np.mean(base_final[p])
        for ax, vals, sds, label in ((axes[row, 0], get("speedup_steps"), get("speedup_steps_spread"),
                                      "speedup_steps vs the tuned baseline (log)"),
                                     (axes[row, 1], get("final") / base, get("final_spread") / base,
                                      f"final {metrics[p]} / baseline's (lower is better)")):
            ax.barh(ys, vals, xerr=sds, color=colours, capsize=2, alpha=0.85)
            ax.axvline(1.0, color="black", lw=1, ls="--")
            ax.set_yticks(ys, names, fontsize=8); ax.grid(alpha=0.3, axis="x")
            ax.set_title(f"{p}: {label}", fontsize=9)
        axes[row, 0].set_xscale("log")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def plot_lr_sensitivity(lr_table, metrics: dict, inner_lr: float, budget: int):
    """Final metric and speed-ups against the test-time lr, per problem (columns); returns the figure."""
    import matplotlib.pyplot as plt
    problems = list(metrics)
    fig, axes = plt.subplots(2, len(problems), figsize=(6 * len(problems), 7.5), squeeze=False)
    for col, p in enumerate(problems):
        d = lr_table[lr_table.problem == p]
        for label, colour in (("baseline", "tab:gray"), ("full", "tab:blue")):
            axes[0, col].errorbar(d["lr"], d[f"{label} final"], yerr=d[f"{label} final ±"], marker="o", color=colour,
                                  capsize=3, label=f"{label} (Adam in {'X' if label == 'baseline' else 'Z'})")
            axes[1, col].plot(d["lr"], d[f"{label} speedup_steps vs tuned"], "o-", color=colour,
                              label=f"{label} vs tuned baseline")
        axes[1, col].plot(d["lr"], d["full speedup_steps vs baseline at this lr"], "s--", color="tab:blue", alpha=0.6,
                          label="full vs baseline at the same lr")
        axes[1, col].axhline(1.0, color="black", ls="--", lw=1)
        for ax in axes[:, col]:
            ax.axvline(inner_lr, color="tab:blue", ls=":", lw=1)
            ax.set_xscale("log"); ax.set_yscale("log"); ax.grid(alpha=0.3); ax.set_xlabel("test-time Adam lr")
            ax.legend(fontsize=7)
        axes[0, col].set_ylabel(f"final {metrics[p]} at step {budget}")
        axes[1, col].set_ylabel("speedup_steps")
        axes[0, col].set_title(f"{p}: dotted line = full θ's training lr", fontsize=9)
    fig.tight_layout()
    return fig


def compare_finals(m: dict, p: str, a: str, b: str) -> tuple[str, str]:
    """(sentence, verdict) for 'a is better than b' on problem p's final metric, from metrics.json m; verdict is
    'held', 'reversed' or 'within noise' (|difference| <= sqrt(sa² + sb²) of the seeds' standard deviations)."""
    def entry(name):
        if name == "baseline":
            return {**m["problems"][p]["baseline"], "speedup_steps": 1.0, "speedup_steps_spread": 0.0}
        return m["variants"][f"{p}/{name}"]
    va, vb = entry(a), entry(b)
    diff, noise = vb["final"] - va["final"], float(np.hypot(va["final_spread"], vb["final_spread"]))
    wins = sum(x < y for x, y in zip(va["final_per_seed"], vb["final_per_seed"]))
    verdict = "within noise" if abs(diff) <= noise else ("held" if diff > 0 else "reversed")
    metric = m["problems"][p]["metric"]
    text = (f"{a} {va['final']:.4g} ± {va['final_spread']:.2g} vs {b} {vb['final']:.4g} ± {vb['final_spread']:.2g} "
            f"final {metric} (difference {diff:+.3g}, noise {noise:.2g}; {a} lower on {wins} of "
            f"{len(va['final_per_seed'])} seeds); speedup_steps {va['speedup_steps']:.2f} ± "
            f"{va['speedup_steps_spread']:.2f} vs {vb['speedup_steps']:.2f} ± {vb['speedup_steps_spread']:.2f}")
    return text, verdict


def unrolled_verdict(m: dict, p: str, verdict: str) -> tuple[str, str]:
    """The coordinate-vs-unrolled claim: as good or better, and cheaper. Returns (the cost sentence, the verdict)."""
    vf, vu = m["variants"][f"{p}/full"], m["variants"][f"{p}/unrolled"]
    quality = {"held": "better", "within noise": "as good (within noise)", "reversed": "worse"}[verdict]
    t_noise = float(np.hypot(vf["train_seconds_spread"], vu["train_seconds_spread"]))
    t_diff = vu["train_seconds"] - vf["train_seconds"]
    faster = "within noise" if abs(t_diff) <= t_noise else ("faster" if t_diff > 0 else "slower")
    cost = (f"; training time {vf['train_seconds']:.1f} ± {vf['train_seconds_spread']:.1f} s (coordinate, "
            f"{vf['config']['theta_updates']} θ updates) vs {vu['train_seconds']:.1f} ± {vu['train_seconds_spread']:.1f} s "
            f"(unrolled, {vu['config']['theta_updates']} θ updates, same {vu['config']['train']['rounds']} roll-out rounds)")
    smaller = None
    if "peak_memory_mib" in vf and "peak_memory_mib" in vu:
        ratio = vu["peak_memory_mib"] / max(vf["peak_memory_mib"], 1e-9)
        smaller = ratio > 1
        cost += (f"; peak training memory {vf['peak_memory_mib']:.0f} MiB vs {vu['peak_memory_mib']:.0f} MiB "
                 f"(unrolled {ratio:.1f}x; {vf['memory']['method']}, one measurement each)")
    verdict = (("held" if verdict != "reversed" and faster != "slower" and smaller is not False else "partly held")
               + f": coordinate descent {quality} on quality, {faster} to train"
               + ("" if smaller is None else f", {'less' if smaller else 'more'} memory"))
    return cost, verdict
