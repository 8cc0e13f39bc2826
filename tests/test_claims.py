"""The claims at a glance (llcore.repro.claims): every claim and column gets a verdict, each verdict rule can say
held, not held, within noise and not measured, and every link of the verdict grid leads to a file."""
import csv
import json
import re
from pathlib import Path

import pytest

from llcore.repro import claims as C
from llcore.repro import verdicts as V
from llcore.repro.claims import HELD, NOISE, NOT_HELD, NOT_MEASURED

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
HINT = "regenerate with: python -m llcore.repro.documents"


def split(base=None, land=None, rnd=None, spread=0.0, hib=False, budget=200, **extra):
    """A synthetic split: curves {step: value} of baseline, landscape (and random_theta), one spread for all."""
    curves = {k: v for k, v in (("baseline", base), ("landscape", land), ("random_theta", rnd)) if v is not None}
    return {"metric": "m", "higher_is_better": hib, "budget_steps": budget, "curves": curves,
            "spread": {m: {s: spread for s in c} for m, c in curves.items()}, **extra}


# (a) every claim and column gets a verdict (the committed documents: tests/test_documents.py)


def test_every_claim_has_a_row_and_every_column_a_verdict():
    metrics = C.load_metrics(RESULTS / C.PROFILE)
    rows = C.cells(metrics)
    assert len(rows) == len(C.CLAIMS) == 13 and all(len(r) == len(C.COLUMNS) for r in rows)
    assert all(c.verdict in C.VERDICTS for r in rows for c in r)
    for row in rows[8:]:       # claims 9 and 10: measured only where a notebook runs the controls
        assert all(c.verdict == NOT_MEASURED for col, c in zip(C.COLUMNS, row)
                   if not (col.strongest_baseline or col.start_control))
    for rule in C.rules_text().splitlines():       # the rules under the table come from the same constants
        assert "{" not in rule
    assert f"step {C.SMALL_BUDGET}" in C.rules_text() and f"{C.ONE_STEP} reversal step" in C.rules_text()


def test_the_ablation_verdicts_are_04s():
    # claims 5, 7 and 8 in the 04 columns give the verdicts notebook 04 wrote to its claims table
    path = RESULTS / C.PROFILE / "ablations" / "tables" / "claims.csv"
    if not path.is_file():
        pytest.skip("no committed ablations")
    ours = {"the replay buffer matters": "full/no_replay", "even a random θ beats descent in X": "random/base",
            "coordinate descent matches back-propagation through the unrolled steps at lower cost": "unrolled"}
    ablations = json.loads((RESULTS / C.PROFILE / "ablations" / "metrics.json").read_text())
    as_ours = {"reversed": NOT_HELD, "partly held": NOT_HELD}
    for row in csv.DictReader(path.open(encoding="utf-8")):
        which = ours.get(row["claim"])
        if which is None:
            continue
        p = row["problem"]
        mine = {"full/no_replay": lambda: C.compare_variants(ablations, p, "full", "no_replay"),
                "random/base": lambda: C.compare_variants(ablations, p, "random_theta", "baseline"),
                "unrolled": lambda: C.coordinate_vs_unrolled(ablations, p)}[which]().verdict
        theirs = row["verdict"].split(":")[0]
        assert mine == as_ours.get(theirs, theirs), (p, row["claim"])


# (b) each rule on small synthetic splits


def test_compare_and_noise():
    assert C.noise(3.0, 4.0) == 5.0 and C.noise(None, 2.0) == 2.0
    assert C.compare(1.0, 0.1, 2.0, 0.1, higher_is_better=False) == HELD
    assert C.compare(2.0, 0.1, 1.0, 0.1, higher_is_better=False) == NOT_HELD
    assert C.compare(2.0, 0.1, 1.0, 0.1, higher_is_better=True) == HELD
    assert C.compare(1.0, 0.3, 1.4, 0.4, higher_is_better=False) == NOISE      # |0.4| <= 0.5
    assert C.compare(1.0, 0.3, 1.6, 0.4, higher_is_better=False) == HELD       # |0.6| > 0.5
    assert C.compare(None, 0.1, 1.0, 0.1, higher_is_better=False) == NOT_MEASURED


def test_speedup_verdict():
    assert C.speedup_verdict(2.0) == HELD
    assert C.speedup_verdict(0.8) == NOT_HELD and C.speedup_verdict(1.0) == NOT_HELD
    assert C.speedup_verdict(3.0, reached=False) == NOT_HELD, "never reaching the baseline's value is not a speed-up"
    assert C.speedup_verdict(1.2, spread=0.3) == NOISE and C.speedup_verdict(1.5, spread=0.3) == HELD
    assert C.speedup_verdict(0.5, spread=0.3) == NOT_HELD
    assert C.speedup_verdict(None) == NOT_MEASURED


def test_claim_1_fewer_steps():
    assert C.fewer_steps({"speedup_steps": 2.5, "speedup_steps_reached": True}).verdict == HELD
    assert C.fewer_steps({"speedup_steps": 0.6, "speedup_steps_reached": False}).verdict == NOT_HELD
    assert C.fewer_steps({}).verdict == NOT_MEASURED
    v = {"speedup_steps": 1.1, "speedup_steps_spread": 0.2, "speedup_steps_reached": True}
    assert C.ablation_fewer_steps({"variants": {"gan/full": v}}, "gan").verdict == NOISE
    v = {**v, "speedup_steps": 1.5}
    assert C.ablation_fewer_steps({"variants": {"gan/full": v}}, "gan").verdict == HELD
    assert C.ablation_fewer_steps({"variants": {}}, "gan").verdict == NOT_MEASURED


def test_claim_2_better_at_a_small_budget():
    assert C.better_at(split({"10": 0.5}, {"10": 0.1}, spread=0.05)).verdict == HELD
    assert C.better_at(split({"10": 0.1}, {"10": 0.5}, spread=0.05)).verdict == NOT_HELD
    assert C.better_at(split({"10": 0.50}, {"10": 0.45}, spread=0.05)).verdict == NOISE
    assert C.better_at(split({"10": 0.5}, {"10": 0.6}, spread=0.01, hib=True)).verdict == HELD   # accuracy
    assert C.better_at(split({"20": 0.5}, {"20": 0.1})).verdict == NOT_MEASURED                # no step 10


def test_claim_3_ood_needs_both():
    good = dict(speedup_steps=2.0, speedup_steps_reached=True)
    assert C.ood(split({"10": 0.5}, {"10": 0.1}, spread=0.01, **good)).verdict == HELD
    assert C.ood(split({"10": 0.5}, {"10": 0.48}, spread=0.05, **good)).verdict == NOISE
    never = dict(speedup_steps=0.7, speedup_steps_reached=False)
    assert C.ood(split({"10": 0.5}, {"10": 0.1}, spread=0.01, **never)).verdict == NOT_HELD     # early win alone
    assert C.ood(split({"10": 0.5}, {"10": 0.1}, spread=0.01)).verdict == NOT_MEASURED          # no speed-up
    assert C.combine(HELD, NOISE) == NOISE and C.combine(NOT_HELD, NOT_MEASURED) == NOT_HELD


def test_claim_4_one_step_against_the_whole_budget():
    s = split({"1": 0.1, "40": 0.4}, {"1": 0.5, "40": 0.5}, spread=0.02, hib=True, budget=40)
    assert C.one_step_defense(s).verdict == HELD
    s = split({"1": 0.1, "40": 0.7}, {"1": 0.5, "40": 0.5}, spread=0.02, hib=True, budget=40)
    assert C.one_step_defense(s).verdict == NOT_HELD
    s = split({"1": 0.1, "40": 0.51}, {"1": 0.5, "40": 0.5}, spread=0.02, hib=True, budget=40)
    assert C.one_step_defense(s).verdict == NOISE
    assert C.one_step_defense(split({"40": 0.7}, {"40": 0.5}, hib=True, budget=40)).verdict == NOT_MEASURED


def test_claim_5_random_theta():
    assert C.random_theta_helps(split({"200": 0.5}, {"200": 0.1}, {"200": 0.2}, 0.01)).verdict == HELD
    assert C.random_theta_helps(split({"200": 0.1}, {"200": 0.1}, {"200": 0.5}, 0.01)).verdict == NOT_HELD
    assert C.random_theta_helps(split({"200": 0.1}, {"200": 0.1}, {"200": 0.11}, 0.01)).verdict == NOISE
    assert C.random_theta_helps(split({"200": 0.1}, {"200": 0.1})).verdict == NOT_MEASURED


def landscape_problem(z_better: int, x_better: int, n_targets=16, spread=0.1):
    """05-shaped measures: the first `z_better` favour Z clearly, the next `x_better` favour X, the rest tie."""
    X, Z, S = {}, {}, {}
    for i, (key, _, better) in enumerate(C.SMOOTHNESS):
        gap = 1.0 if i < z_better else (-1.0 if i < z_better + x_better else 0.0)
        X[key] = 2.0
        Z[key] = 2.0 + gap if better == "higher" else 2.0 - gap
        S[key] = spread
    return {"X": X, "Z": Z, "spread": {"X": S, "Z": S}, "setup": {"n_targets": n_targets}}


def test_claim_6_smoother_in_z():
    assert C.smoother_in_z(landscape_problem(3, 1)).verdict == HELD
    assert C.smoother_in_z(landscape_problem(1, 2)).verdict == NOT_HELD
    assert C.smoother_in_z(landscape_problem(2, 2)).verdict == NOT_HELD, "a split vote does not show a smoother Z"
    assert C.smoother_in_z(landscape_problem(0, 0)).verdict == NOISE
    # the noise is the standard error over targets: a spread of 8 over 16 targets is 2 per mean, larger than the gap
    assert C.smoother_in_z(landscape_problem(3, 0, spread=8.0)).verdict == NOISE
    assert C.smoother_in_z({"X": {}, "Z": {}}).verdict == NOT_MEASURED


def ablations(full=None, no_replay=None, unrolled=None, base=None):
    vs = {f"gan/{k}": v for k, v in (("full", full), ("no_replay", no_replay), ("unrolled", unrolled)) if v}
    return {"variants": vs, "problems": {"gan": {"metric": "mse", **({"baseline": base} if base else {})}}}


def test_claim_7_replay():
    f = lambda x: {"final": x, "final_spread": 0.01, "final_per_seed": [x] * 3,       # noqa: E731
                   "speedup_steps": 1.0, "speedup_steps_spread": 0.0}
    assert C.compare_variants(ablations(f(0.1), f(0.2)), "gan", "full", "no_replay").verdict == HELD
    assert C.compare_variants(ablations(f(0.2), f(0.1)), "gan", "full", "no_replay").verdict == NOT_HELD
    assert C.compare_variants(ablations(f(0.1), f(0.11)), "gan", "full", "no_replay").verdict == NOISE
    assert C.compare_variants(ablations(f(0.1)), "gan", "full", "no_replay").verdict == NOT_MEASURED
    assert C.compare_variants(ablations(f(0.1), base=f(0.3)), "gan", "full", "baseline").verdict == HELD


def test_claim_8_coordinate_vs_unrolled():
    def v(final, seconds, mib=None):
        return {"final": final, "final_spread": 0.01, "final_per_seed": [final] * 3, "speedup_steps": 1.0,
                "speedup_steps_spread": 0.0, "train_seconds": seconds, "train_seconds_spread": 1.0,
                "config": {"theta_updates": 10, "train": {"rounds": 5}},
                **({"peak_memory_mib": mib, "memory": {"method": "rss"}} if mib else {})}
    assert C.coordinate_vs_unrolled(ablations(v(0.1, 10, 5), unrolled=v(0.2, 20, 50)), "gan").verdict == HELD
    assert C.coordinate_vs_unrolled(ablations(v(0.1, 10, 5), unrolled=v(0.105, 10.5, 50)), "gan").verdict == HELD
    assert C.coordinate_vs_unrolled(ablations(v(0.3, 10, 5), unrolled=v(0.1, 20, 50)), "gan").verdict == NOT_HELD
    assert C.coordinate_vs_unrolled(ablations(v(0.1, 30, 5), unrolled=v(0.2, 10, 50)), "gan").verdict == NOT_HELD
    assert C.coordinate_vs_unrolled(ablations(v(0.1, 10, 60), unrolled=v(0.2, 20, 50)), "gan").verdict == NOT_HELD
    assert C.coordinate_vs_unrolled(ablations(v(0.1, 10)), "gan").verdict == NOT_MEASURED


def test_a_cell_names_its_verdict_numbers_and_source():
    cell = C.Cell(HELD, "2×", ("toy/tables/speedups.md",), [("test_ood", C.Cell(NOT_HELD, "0.5×"))])
    assert cell.markdown("results/default/") == \
        "**held** 2×; test_ood: not held, 0.5× [speedups](results/default/toy/tables/speedups.md)"
    assert C.Cell(NOT_MEASURED).markdown("x/") == NOT_MEASURED


def test_a_profile_without_metrics_measures_nothing_and_malformed_metrics_do_not_raise(tmp_path):
    assert C.load_metrics(tmp_path / "default") == {}
    (tmp_path / "default" / "toy").mkdir(parents=True)
    (tmp_path / "default" / "toy" / "metrics.json").write_text(json.dumps({"splits": {"test_in": {"curves": 3}}}))
    assert {c.verdict for row in C.cells(C.load_metrics(tmp_path / "default")) for c in row} == {NOT_MEASURED}


def test_figure_and_index_from_synthetic_metrics(tmp_path):
    exp = tmp_path / "default" / "toy"
    exp.mkdir(parents=True)
    s = split({"10": 0.5, "200": 0.1}, {"10": 0.1, "200": 0.05}, spread=0.01, speedup_steps=2.0,
              speedup_steps_reached=True, speedup_at={"5": 4.0, "10": 3.0, "20": 2.0, "50": 4.0},
              speedup_at_capped={"50": True})
    (exp / "metrics.json").write_text(json.dumps({"experiment": "toy", "splits": {"test_in": s}}))
    from llcore.repro.documents import GRID_START, write_results_index
    text = write_results_index(tmp_path).read_text(encoding="utf-8")
    assert (tmp_path / "default" / C.FIGURE).stat().st_size > 10_000
    assert text.index(GRID_START) < text.index("### toy")
    assert f"]({'default/' + C.FIGURE})" in text and "[✓](CLAIMS.md#c1-toy-00)" in text


# (c) every link of the verdict grid leads to a file


@pytest.mark.parametrize("doc", ["README.md", "results/README.md"])
def test_every_link_in_the_grid_exists(doc):
    from llcore.repro.documents import GRID_END, GRID_START
    from llcore.repro.markdown import between
    path = ROOT / doc
    block = between(path.read_text(encoding="utf-8"), GRID_START, GRID_END)
    assert block is not None, HINT
    links = re.findall(r"\]\(([^)\s]+)\)", block)
    assert len(links) >= 20
    missing = [x for x in links if not (path.parent / x.split("#")[0]).is_file()]
    assert not missing, missing


def test_claims_9_and_10_read_the_controls():
    split = {"higher_is_better": False, "budget_steps": 100,
             "curves": {"landscape": {"10": 0.1}, "baseline": {"10": 0.5}, "theta_start": {"10": 0.4}},
             "spread": {"landscape": {"10": 0.01}, "baseline": {"10": 0.01}, "theta_start": {"10": 0.01}}}
    assert C.better_at(split).verdict == HELD
    assert C.beyond_start("theta_start")(split).verdict == HELD
    split["curves"]["theta_start"]["10"] = 0.1                     # the learned start alone does as well
    assert C.beyond_start("theta_start")(split).verdict == NOISE


def test_claim_9_compares_the_step_10_searches_and_shows_the_budget():
    split = {"higher_is_better": False, "budget_steps": 100,
             "curves": {"landscape": {"10": 0.3, "100": 0.05}, "landscape_10": {"10": 0.1},
                        "strongest_x_10": {"10": 0.2}, "strongest_x": {"100": 0.01}, "baseline": {"10": 0.5}},
             "spread": {"landscape": {"10": 0.01, "100": 0.001}, "landscape_10": {"10": 0.01},
                        "strongest_x_10": {"10": 0.01}, "strongest_x": {"100": 0.001}, "baseline": {"10": 0.01}}}
    cell = C.strongest(split)
    assert cell.verdict == HELD and "0.1 vs 0.2" in cell.text            # landscape_10, not landscape's 0.3
    assert "at the budget not held" in cell.text                          # 0.05 against strongest_x's 0.01
    split["curves"]["strongest_x_10"]["10"] = 0.05                         # the strongest X descent wins at 10
    assert C.strongest(split).verdict == NOT_HELD
    del split["curves"]["strongest_x_10"]
    assert C.strongest(split).verdict == NOT_MEASURED                      # a notebook without the controls


def amortized(ratios: dict, scores=None, alternative="amortized_then_x", steps=(10, 200)):
    """A synthetic `amortized` section: {(step, method): (median ratio, lo, hi)} on test_in; validation scores."""
    scores = scores or {"landscape": 1.0, "landscape_from_amortized": 2.0}
    by_step = {}
    for (n, m), (med, lo, hi) in ratios.items():
        by_step.setdefault(str(n), {})[m] = {"mean": med, "versus": {"against": alternative, "median": med,
                                                                      "interval": [lo, hi]}}
    for n in by_step:
        by_step[n].setdefault(alternative, {"mean": 1.0, "versus": {"median": 1.0, "interval": [1.0, 1.0]}})
    settings = {str(n): {m: {"score": scores.get(m, 0.0), "k": 50} for m in
                         ("landscape", "landscape_from_amortized", "landscape_then_x")} for n in steps}
    return {"steps": list(steps), "alternative": {str(n): alternative for n in steps}, "settings": settings,
            "splits": {"test_in": by_step}}


def test_claims_12_and_13_read_the_paired_ratio_interval():
    assert [V.ratio_verdict(i) for i in ([0.5, 0.9], [1.1, 2.0], [0.9, 1.1], None)] == [HELD, NOT_HELD, NOISE,
                                                                                        NOT_MEASURED]
    sec = amortized({(10, "landscape"): (0.5, 0.4, 0.6), (10, "landscape_from_amortized"): (2.0, 1.5, 2.5)})
    assert C.adds_to_amortized(sec, "test_in").verdict == HELD             # plain landscape: better on validation
    sec = amortized({(10, "landscape"): (0.5, 0.4, 0.6), (10, "landscape_from_amortized"): (2.0, 1.5, 2.5)},
                    scores={"landscape": 3.0, "landscape_from_amortized": 2.0})
    cell = C.adds_to_amortized(sec, "test_in")                             # the lifted start, chosen on validation
    assert cell.verdict == NOT_HELD and "plain landscape ×0.5" in cell.text
    sec = amortized({(200, "landscape_then_x"): (0.95, 0.8, 1.05), (200, "landscape"): (3.0, 2.5, 3.5)})
    cell = C.no_plateau(sec, "test_in")
    assert cell.verdict == NOISE and "plain landscape ×3" in cell.text
    assert C.no_plateau(amortized({(200, "landscape_then_x"): (1.5, 1.2, 1.9), (200, "landscape"): (3, 2, 4)}),
                        "test_in").verdict == NOT_HELD
    assert C.adds_to_amortized(sec, "test_ood").verdict == NOT_MEASURED    # a split the section lacks
    col = C.Column("t", "exp", "test_in", ood="test_ood")
    assert C.amortized_cells(C.no_plateau)(col, {"exp": {}}).verdict == NOT_MEASURED    # no section: not measured
    assert C.amortized_cells(C.no_plateau)(col, {"exp": {"amortized": sec}}).links == ("exp/metrics.json",)
