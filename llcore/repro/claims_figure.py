"""The claims' speed-up figure (results/<profile>/claims_speedups.png): speedup_at[N] per experiment and split."""
from __future__ import annotations

import math
from pathlib import Path

from .claims import FIGURE, SPEEDUP_NS, load_metrics
from .markdown import is_number
from .registry import COLUMNS
from .markdown import is_capped

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
