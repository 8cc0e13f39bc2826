"""Notebook 05's study of the loss landscapes in X and in Z, around held-out targets' solutions.

    analyse(problem, theta, y, seed, lr_x, lr_z, steps, ...)   Adam paths in X and in Z, their measures and slices
    measure_rows(...)                                            one row per (target, space), for the tables
    draw_slices(res, k, ...)                                     the 2 x 2 figure of one target's slices
    draw_measures(per_target, problems, ...)                     the bar chart of the measures, X beside Z
    votes(p, measures)                                           does Z beat X on a group of measures?

The math is the engine's (llcore.landscape); this module runs it the way the notebook reports it.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import landscape as ll
from ..inversion import invert

# the measures tabulated per (problem, space), mean and spread over targets and seeds
MEASURES = ["grad_norm_mean", "hessian_top_start", "hessian_top_end", "abs_hessian_top_start", "abs_hessian_top_end",
            "convex_fraction_random", "convex_fraction_trajectory", "loss_drop_per_length", "loss_start", "loss_end",
            "path_length", "displacement", "pca_explained"]
# the conclusion's two questions: (measure, label, which way is better)
SMOOTHER = [("convex_fraction_random", "convex fraction on random slices", "higher"),
            ("convex_fraction_trajectory", "convex fraction on the path's plane", "higher"),
            ("abs_hessian_top_start", "|top Hessian eigenvalue| at the start", "lower"),
            ("abs_hessian_top_end", "|top Hessian eigenvalue| at the end", "lower")]
STEEPER = [("grad_norm_mean", "mean gradient norm along the path", "higher"),
           ("loss_drop_per_length", "loss drop per unit path length", "higher")]


def analyse(problem, theta, y, s: int, lr_x: float, lr_z: float, steps: int, grid: int, span: float,
            direction_scale: str, trajectory_margin: float, hessian_iters: int) -> dict:
    """Paths in X and Z, their measures (each (B,)) and slices, for targets y (B, ...).
    Returns {space: {"measures", "random", "trajectory", "paths"}} for space X and Z."""
    b = len(y)
    gen = lambda k: torch.Generator().manual_seed(10_000 * s + k)     # noqa: E731
    rx = invert(problem, y, None, "adam", lr_x, steps, keep_trajectory=True, generator=gen(0))
    rz = invert(problem, y, theta, "adam", lr_z, steps, keep_trajectory=True, generator=gen(0))
    path_x = rx.trajectory.reshape(steps + 1, b, -1)                               # (T+1, B, D) x_t
    path_z = rz.trajectory                                                         # (T+1, B, D) z_t
    with torch.no_grad():
        path_zx = theta(path_z.reshape(-1, path_z.shape[-1])).reshape(steps + 1, b, -1)   # θ(z_t), drawn in X
    result = {}
    for space, fn, path, drawn, losses in (("X", ll.objective_fn(problem), path_x, [path_x, path_zx], rx.loss),
                                           ("Z", ll.objective_fn(problem, theta), path_z, [path_z], rz.loss)):
        m = ll.path_measures(fn, y, path, losses, hessian_iters, gen(1))
        end = path[-1]                                                             # (B, D) the solution
        length = m["displacement"] if direction_scale == "displacement" else end.norm(dim=1)
        rnd = ll.slice_2d(fn, y, end, ll.random_plane(end, length, gen(2)), span, grid)
        dirs, explained = ll.trajectory_plane(path)
        coords = [ll.project(p, end, dirs) for p in drawn]                          # each (T+1, B, 2)
        extent = torch.stack([c.abs().amax(0) for c in coords]).amax(0) * trajectory_margin   # (B, 2)
        trj = ll.slice_2d(fn, y, end, dirs, extent.clamp_min(1e-6), grid)
        m["convex_fraction_random"] = ll.convex_fraction(rnd.values)
        m["convex_fraction_trajectory"] = ll.convex_fraction(trj.values)
        m["pca_explained"] = explained.sum(1)
        result[space] = {"measures": {k: v.detach().cpu() for k, v in m.items()}, "random": rnd, "trajectory": trj,
                         "paths": [c.cpu() for c in coords]}
    return result


def measure_rows(res: dict, name: str, s: int) -> list[dict]:
    """One row per target and space of analyse()'s measures."""
    rows = []
    for space in ("X", "Z"):
        m = res[space]["measures"]
        n = len(next(iter(m.values())))
        rows += [{"problem": name, "seed": s, "target": b, "space": space, **{k: float(v[b]) for k, v in m.items()}}
                 for b in range(n)]
    return rows


def summarise(per_target, problems: list):
    """(mean, spread) per (problem, space) of MEASURES, and the ratio Z / X of the means per problem; adds the
    eigenvalues' sizes (abs_hessian_top_*) to per_target."""
    import pandas as pd
    for where in ("start", "end"):      # sharpness: the eigenvalue's size, whatever its sign
        per_target[f"abs_hessian_top_{where}"] = per_target[f"hessian_top_{where}"].abs()
    mean = per_target.groupby(["problem", "space"], sort=False)[MEASURES].mean()
    spread = per_target.groupby(["problem", "space"], sort=False)[MEASURES].std(ddof=0)
    ratio = pd.DataFrame({name: mean.loc[(name, "Z")] / mean.loc[(name, "X")] for name in problems}).T
    ratio.index.name = "problem"
    return mean, spread, ratio


def draw_slices(res: dict, k: int, title: str, direction_scale: str):
    """The slices of target k: rows random plane / plane of the Adam path, columns X / Z; returns the figure."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(12, 10))
    for row, kind in enumerate(("random", "trajectory")):
        logs = {sp: np.log10(res[sp][kind].values[k].cpu().double().numpy() + 1e-12) for sp in ("X", "Z")}
        levels = np.linspace(min(v.min() for v in logs.values()), max(v.max() for v in logs.values()) + 1e-9, 31)
        for col, sp in enumerate(("X", "Z")):
            ax, sl = axes[row, col], res[sp][kind]
            im = ax.contourf(sl.alpha[k].cpu(), sl.beta[k].cpu(), logs[sp].T, levels=levels, cmap="viridis")
            fig.colorbar(im, ax=ax, label="log10 loss")
            cf = float(ll.convex_fraction(sl.values[k]))
            where = "L(F(x), y) over X" if sp == "X" else "L(F(θ(z)), y) over Z"
            if kind == "random":
                unit = "distance travelled" if direction_scale == "displacement" else "norm of the solution"
                ax.set_xlabel(f"α along d₁ (units of ‖d₁‖ = {unit} in {sp})")
                ax.set_ylabel("β along d₂ (units of ‖d₂‖)")
                ax.set_title(f"{sp}: {where}, random plane\nconvex fraction {cf:.2f}", fontsize=10)
            else:
                labels = ["baseline x_t (Adam in X)", "landscape θ(z_t) (Adam in Z, mapped by θ)"] if sp == "X" \
                    else ["landscape z_t (Adam in Z)"]
                colors = ["white", "tab:red"] if sp == "X" else ["tab:red"]
                for c, lab, color in zip(res[sp]["paths"], labels, colors):
                    ax.plot(c[:, k, 0], c[:, k, 1], "o-", ms=2, lw=1, color=color, label=lab)
                    ax.plot(c[0, k, 0], c[0, k, 1], "s", ms=7, color=color, mec="black")
                share = float(res[sp]["measures"]["pca_explained"][k])
                ax.set_xlabel(f"PC 1 of the {sp} path ({sp} units)"); ax.set_ylabel(f"PC 2 of the {sp} path ({sp} units)")
                ax.set_title(f"{sp}: {where}, plane of the Adam path (PC 1, 2: {100 * share:.0f}% of its spread)\n"
                             f"convex fraction {cf:.2f}; paths projected; squares: step 0", fontsize=10)
            ax.plot(0, 0, "*", color="yellow", mec="black", ms=14, label=f"centre: end of Adam in {sp}")
            ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


PANELS = [("grad_norm_mean", "mean ‖∇ℓ‖ along the path", True),
          ("abs_hessian_top_start", "|top Hessian eigenvalue| at the start", True),
          ("abs_hessian_top_end", "|top Hessian eigenvalue| at the end", True),
          ("convex_fraction_random", "convex fraction, random slices", False),
          ("convex_fraction_trajectory", "convex fraction, path-plane slices", False),
          ("loss_drop_per_length", "loss drop per unit path length", True)]


def draw_measures(per_target, problems: list, title: str):
    """Bars of the measures per problem, X beside Z (error bars: std over targets and seeds); returns the figure."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    xs = np.arange(len(problems))
    for ax, (key, label, log) in zip(axes.flat, PANELS):
        for j, (space, color) in enumerate((("X", "tab:gray"), ("Z", "tab:blue"))):
            vals = per_target[per_target.space == space].groupby("problem", sort=False)[key]
            mu, sd = vals.mean().reindex(problems), vals.std(ddof=0).reindex(problems)
            ax.bar(xs + (j - 0.5) * 0.38, mu, 0.38, yerr=sd, color=color, capsize=3,
                   label="X (Adam on x)" if space == "X" else "Z (Adam on z, x = θ(z))")
        ax.set_xticks(xs, problems); ax.set_title(label, fontsize=10); ax.grid(alpha=0.3, axis="y")
        if log:
            ax.set_yscale("log")
        else:
            ax.set_ylim(0, 1.05)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def votes(p: dict, measures: list) -> tuple[int, list[str]]:
    """+1 where Z beats X in the measure's direction, -1 where X does, 0 on a tie; and the sentence parts.
    p: one problem's entry of metrics.json (p["X"][measure], p["Z"][measure])."""
    score, parts = 0, []
    for key, label, better in measures:
        x, z = p["X"][key], p["Z"][key]
        sign = 0 if np.isclose(x, z, rtol=1e-3, atol=1e-12) else (1 if (z > x) == (better == "higher") else -1)
        score += sign
        parts.append(f"{label} {z:.3g} in Z vs {x:.3g} in X")
    return score, parts
