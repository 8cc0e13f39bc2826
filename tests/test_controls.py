"""The controls every experiment reports: the strongest descent in X, landscape given the same search, θ's start."""
import numpy as np
import torch

from llcore import Problem, ResidualMLP, invert
from llcore.repro.controls import FAMILIES, SHORT_HORIZON, add_aliases, run_controls, search, theta_start
from llcore.repro.experiment import Method, compare
from llcore.repro.results import split_summary


def quadratic(scales):
    """F = identity, loss Σ s_i (x_i − y_i)²: plain gradient descent with the right lr is hard to beat here."""
    s = torch.tensor(scales)
    return Problem(forward=lambda x: x, loss=lambda pred, y: ((pred - y).pow(2) * s).sum(1), x_shape=(len(scales),))


def test_search_picks_the_family_and_lr_with_the_lowest_objective_at_the_step_compared():
    p = quadratic([1.0, 1.0, 1.0])
    y = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
    method, choice, rows = search(p, y, "strongest_x_10", lambda f: [0.03, 0.1, 0.3], 10, 0, {"zero": None},
                                  horizon=20)
    # on an isotropic quadratic, gradient descent at lr 0.5 lands on the minimum in one step: nothing beats it
    assert choice["family"] == "gradient descent"
    chosen = [r for r in rows if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["score"] == min(r["score"] for r in rows if r["stable"])
    assert {r["family"] for r in rows} == {f.label for f in FAMILIES}
    assert method.steps == 20 and method.optimizer == "sgd" and method.lr_grid == [choice["lr"]]
    rec = invert(p, y, None, method.inner(choice["lr"]), choice["lr"], 10)
    assert float(rec.curve()[-1]) == chosen[0]["final"]          # the Method reruns exactly what was scored


def test_search_keeps_adams_betas():
    p = quadratic([1.0, 100.0])
    y = torch.randn(16, 2, generator=torch.Generator().manual_seed(1))
    _, _, rows = search(p, y, "s", lambda f: [0.01, 0.1], 10, 0, {"zero": None})
    finals = {(r["family"], r["lr"]): r["final"] for r in rows}
    assert finals[("adam", 0.1)] != finals[("adam β₁=0.5", 0.1)] != finals[("adam β₁=0 (RMSprop-like)", 0.1)]


def test_theta_start_begins_where_landscape_begins():
    p = quadratic([1.0, 2.0, 3.0, 4.0])
    p.init = lambda batch, shape, generator: torch.randn(batch, *shape, generator=generator)   # a seeded random start
    theta = ResidualMLP(4, dim_z=4, width=16, depth=1)
    with torch.no_grad():
        for q in theta.parameters():
            q.add_(0.1 * torch.randn_like(q))
    y = torch.randn(8, 4, generator=torch.Generator().manual_seed(2))
    ts = theta_start(p, lambda s: theta, Method("baseline"))
    land = invert(p, y, theta, "adam", 0.1, 0, generator=torch.Generator().manual_seed(3), snapshot_steps=[0])
    torch.testing.assert_close(ts.x0(3, y), land.snapshots[0])
    assert ts.mapping(3) is None and ts.optimizer == "adam"


def test_controls_alias_what_equals_a_method_already_run_and_summaries_take_short_horizons(toy):
    p, y = toy
    base = Method("baseline", lr_grid=[0.1])
    land = Method("landscape", mapping=lambda s: None, lr_grid=[0.1])   # no θ: landscape's search equals the baseline's
    ctl = run_controls(p, y[:16], base, land, {"baseline": 0.1, "landscape": 0.1}, 20, 0, [0.03, 0.1, 0.3])
    evaluated = {m.name for m in ctl.methods}
    assert "theta_start" in evaluated and set(ctl.lrs) == {"strongest_x_10", "strongest_x", "landscape_10",
                                                           "theta_start"}
    assert set(ctl.aliases) | evaluated == set(ctl.lrs)
    lrs = {"baseline": 0.1, "landscape": 0.1, **ctl.lrs}
    res = compare(p, {"a": lambda s: y[16:24]}, [base, land] + ctl.methods, lrs, 20, [0])
    add_aliases(res, ctl)
    for name, twin in ctl.aliases.items():
        assert res.curves["a"][name] is res.curves["a"][twin]
    if "strongest_x_10" in evaluated:
        assert res.curves["a"]["strongest_x_10"][0].shape == (SHORT_HORIZON + 1,)
    s = split_summary(res.curves["a"], res.seconds["a"], "loss", 20, per_target=res.per_target["a"])
    assert set(s["curves"]) == {"baseline", "landscape", *ctl.lrs}
    assert np.isfinite(s["curves"]["theta_start"]["10"]) and "20" in s["curves"]["strongest_x_10"]


def test_a_family_that_never_descends_is_skipped_and_each_family_gets_its_own_grid():
    p = quadratic([1.0, 1.0])
    y = torch.randn(8, 2, generator=torch.Generator().manual_seed(3))
    grids = {"gradient descent": [5.0, 10.0]}          # gradient descent diverges at every lr here (lr > 1)
    method, choice, rows = search(p, y, "s", lambda f: grids.get(f.label, [0.01, 0.1]), 10, 0, {"zero": None})
    assert choice["family"] != "gradient descent"
    skipped = [r for r in rows if r["family"] == "gradient descent"]
    assert len(skipped) == 1 and not skipped[0]["stable"] and "diverged" in skipped[0]["note"]
    assert {r["lr"] for r in rows if r["family"] == "adam"} >= {0.01, 0.1}


def test_the_defense_picks_by_validation_accuracy_with_ties_to_the_smaller_step():
    from llcore.repro.adversarial import best_row
    rows = [{"lr": 0.3, "acc": 0.5}, {"lr": 0.1, "acc": 0.5}, {"lr": 0.03, "acc": 0.4}]
    assert best_row(rows, "acc")["lr"] == 0.1
