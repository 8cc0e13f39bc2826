"""The amortized start E(y) (llcore.amortized) and the comparison that uses it (llcore.compare_amortized):
E trains by the problem's own objective, deterministically; the comparison chooses every method's settings on the
validation targets, starts descent in Z at the exact lift of E(y), and spans plain landscape at k = N. (invert's
refine_in_x itself is tested in test_compare.py.)"""
import pytest
import torch
from torch import nn

from llcore import Problem, Regressor, RefineInX, ResidualMLP, amortized_comparison, as_start, invert, train_amortized
from llcore import compare, compare_amortized

SMALL = dict(families=(compare.FIRST_ORDER[0], compare.FIRST_ORDER[3]), grid=(0.1, 1.0))   # Adam, gradient descent


def linear(dim_x=4, dim_y=12, seed=0):
    """F(x) = A x (singular values 1..3), MSE; solutions x ~ N(0, I): (problem, [(x, y) for train, val, test, test2])."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(dim_y, dim_x, generator=g))
    F = nn.Linear(dim_x, dim_y, bias=False)
    with torch.no_grad():
        F.weight.copy_(q * torch.linspace(1.0, 3.0, dim_x))
    problem = Problem(forward=F, loss=lambda p, y: (p - y).pow(2).mean(1), x_shape=(dim_x,), y_shape=(dim_y,))
    with torch.no_grad():
        data = [(x, F(x)) for x in (torch.randn(n, dim_x, generator=g) for n in (64, 8, 8, 8))]
    return problem, data


def bent_theta(dim_x=4):
    """A θ that is not the identity, so that θ's rough initial_z and the exact lift differ."""
    torch.manual_seed(0)
    theta = ResidualMLP(dim_x=dim_x, width=16)
    nn.init.normal_(theta.g[-1].weight, std=0.05)
    return theta


def test_training_lowers_the_objective_and_is_bit_identical_for_a_seed():
    problem, ((_, y_train), (_, y_val), *_) = linear()

    def train(seed):
        torch.manual_seed(0)
        net = Regressor((12,), (4,), width=32, depth=2)
        held_out = lambda: float(problem.objective(as_start(net)(y_val), y_val).mean())     # noqa: E731
        before = held_out()
        out = train_amortized(problem, y_train, net, steps=80, lr=2e-2, batch_size=16, seed=seed)
        return out, before, held_out()

    out, before, after = train(0)
    assert after < 0.1 * before and out["history"][-1] < 0.1 * out["history"][0]     # held-out objective too
    assert len(out["history"]) == 80 and out["f_evaluations"] == 80 * 16 and out["seconds"] > 0
    again, _, _ = train(0)
    assert again["history"] == out["history"]
    assert all(torch.equal(a, b) for a, b in zip(out["state"].values(), again["state"].values()))
    assert train(1)[0]["history"] != out["history"]                                   # the seed draws the batches


def test_bad_settings_and_inputs_get_clear_errors():
    problem, ((_, y), *_) = linear()
    net = Regressor((12,), (4,), width=8, depth=2)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        train_amortized(problem, y, net, steps=0)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        train_amortized(problem, y, net, steps=1, batch_size=0)
    with pytest.raises(ValueError, match=r"net expects targets of shape \(N, \*\(11,\)\)"):
        train_amortized(problem, y, Regressor((11,), (4,), width=8), steps=1)
    with pytest.raises(ValueError, match="each target must have shape"):
        train_amortized(problem, y[:, :11], net, steps=1)
    with pytest.raises(ValueError, match="net returned shape"):
        train_amortized(problem, y, Regressor((12,), (3,), width=8), steps=1)
    # F is undefined for |x| > 1: a far too large lr throws E's prediction there after its first step
    edge = Problem(forward=lambda x: torch.sqrt(1 - x.pow(2)), loss=lambda p, y: p.pow(2).mean(1), x_shape=(4,))
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"at step [1-9]\d*: lr=100 may be too large"):
        train_amortized(edge, y, Regressor((12,), (4,), width=8, norm=False), steps=20, lr=100.0)


def test_as_start_gives_detached_starts_of_x_shape():
    problem, ((_, y), *_) = linear()
    net = Regressor((12,), (2, 2), width=8)
    x0 = as_start(net)(y[:5])
    assert x0.shape == (5, 2, 2) and not x0.requires_grad and x0.grad_fn is None
    assert torch.equal(invert(problem, y[:5], None, steps=0, x0=x0.reshape(5, 4)).x, x0.reshape(5, 4))


def test_a_perfect_amortized_start_wins_from_step_one_and_the_lift_is_exact():
    problem, (_, (x_val, y_val), (x_test, y_test), _) = linear()
    xs, ys = torch.cat([x_val, x_test]), torch.cat([y_val, y_test])
    perfect = lambda y: xs[(y[:, None] - ys[None]).abs().sum(-1).argmin(1)]       # noqa: E731  E(y) = the true x
    theta = bent_theta()
    result = amortized_comparison(problem, y_val, y_test, theta, perfect, steps=(1,), k_grid=(1.0,), **SMALL)
    out = result.outcomes[1]
    assert set(out) == set(compare_amortized.AMORTIZED_METHODS) and result.alternative[1] == "amortized_then_x"
    best = out["amortized_then_x"]
    assert best.median < 1e-10 and all(best.median <= o.median for o in out.values())
    assert out["strongest_x"].versus["against"] == "amortized_then_x" and out["strongest_x"].versus["median"] > 1
    lifted = out["landscape_from_amortized"].record.loss[0]                              # θ(z_0) ≈ E(y) = x*
    rough = problem.objective(theta(theta.initial_z(x_test)).detach(), y_test)
    assert float(lifted.max()) < 1e-6 < float(rough.min())


@pytest.fixture(scope="module")
def two_test_sets():
    """The same comparison (N = 4, k ∈ {0, 2, 4}) on one set of validation targets and two sets of test targets."""
    problem, ((_, y_train), (_, y_val), (_, y_test), (_, y_test2)) = linear()
    torch.manual_seed(0)
    net = Regressor((12,), (4,), width=16, depth=2)
    train_amortized(problem, y_train, net, steps=30, lr=1e-2, batch_size=16)
    runs = [amortized_comparison(problem, y_val, y, bent_theta(), as_start(net), steps=(4,), k_grid=(0.0, 0.5, 1.0),
                                 **SMALL) for y in (y_test, y_test2)]
    return problem, y_val, runs


def test_settings_are_chosen_on_the_validation_targets_only(two_test_sets):
    _, _, (a, b) = two_test_sets
    for name in compare_amortized.AMORTIZED_METHODS:
        assert a.outcomes[4][name].settings == b.outcomes[4][name].settings, name
        assert a.outcomes[4][name].per_target.tolist() != b.outcomes[4][name].per_target.tolist()
    assert a.alternative == b.alternative and a.rows == b.rows
    assert {r["method"] for r in a.rows} == set(compare_amortized.AMORTIZED_METHODS)
    assert {r["k"] for r in a.rows if "k" in r} == {0, 2}                  # X searched after k = 0 and 2 Z steps


def test_landscape_then_x_is_chosen_by_its_own_refine_in_x_run(two_test_sets):
    # the X part is searched as descent in X from x_k = θ(z_k): its score must be invert(refine_in_x)'s at N
    problem, y_val, (a, _) = two_test_sets
    s = a.outcomes[4]["landscape_then_x"].settings
    fam = {f.label: f for f in SMALL["families"]}
    z_opt = fam[s["family"]].inner(s["lr"])
    x_opt = z_opt if s["x_family"] is None else fam[s["x_family"]].inner(s["x_lr"])
    rec = invert(problem, y_val, bent_theta(), z_opt, steps=4, refine_in_x=RefineInX(s["k"], x_opt))
    assert s["k"] in (0, 2, 4) and float(rec.loss[4].mean()) == pytest.approx(s["score"], rel=1e-6)


def test_k_equal_to_the_budget_is_the_landscape_curve():
    problem, (_, (_, y_val), (_, y_test), _) = linear()
    result = amortized_comparison(problem, y_val, y_test, bent_theta(), lambda y: torch.zeros(len(y), 4), steps=(3,),
                                  k_grid=(1.0,), **SMALL)
    land, then_x = result.outcomes[3]["landscape"], result.outcomes[3]["landscape_then_x"]
    assert then_x.settings["k"] == 3 and then_x.settings["x_family"] is None
    assert torch.equal(then_x.record.loss, land.record.loss)
    assert "N=3 landscape_then_x" in str(result)


def test_a_plan_is_the_comparison_split_in_two_and_applies_to_another_theta():
    problem, ((_, y_train), (_, y_val), (_, y_test), _) = linear()
    torch.manual_seed(0)
    net = Regressor((12,), (4,), width=16, depth=2)
    train_amortized(problem, y_train, net, steps=30, lr=1e-2, batch_size=16)
    kw = dict(steps=(4,), k_grid=(0.0, 1.0), **SMALL)
    whole = amortized_comparison(problem, y_val, y_test, bent_theta(), as_start(net), **kw)
    plan = compare_amortized.amortized_plan(problem, y_val, bent_theta(), as_start(net), **kw)
    parts = plan.apply(problem, y_test, bent_theta(), as_start(net))
    for name, o in whole.outcomes[4].items():
        assert parts[4][name].per_target.tolist() == o.per_target.tolist() and parts[4][name].versus == o.versus
    torch.manual_seed(1)
    other = ResidualMLP(dim_x=4, width=16)                    # another seed's θ: the same settings, its own numbers
    moved = plan.apply(problem, y_test, other, as_start(net))
    assert moved[4]["landscape"].settings == parts[4]["landscape"].settings
    assert moved[4]["landscape"].per_target.tolist() != parts[4]["landscape"].per_target.tolist()
    assert moved[4]["strongest_x"].per_target.tolist() == parts[4]["strongest_x"].per_target.tolist()


def test_narrow_searches_later_steps_around_the_first_steps_best():
    problem, (_, (_, y_val), _, _) = linear()
    plan = compare_amortized.amortized_plan(problem, y_val, bent_theta(), lambda y: torch.zeros(len(y), 4),
                                            steps=(4, 2), k_grid=(0.0, 1.0), narrow=3.0, families=SMALL["families"],
                                            grid=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0))
    first = {(r["method"], r["family"]): r["lr"] for r in plan.rows if r["steps"] == 2 and r.get("best_of_family")
             and r.get("k") is None}
    for r in plan.rows:
        key = (r["method"], r["family"])
        if r.get("k") is None and r["steps"] == 4 and key in first and r["stable"]:
            assert any(r["lr"] == pytest.approx(first[key] * f, rel=1e-5) for f in (1 / 3, 1, 3, 1 / 9, 9, 27, 1 / 27))
    n_wide = sum(r["steps"] == 2 for r in plan.rows if r.get("k") is None)
    assert sum(r["steps"] == 4 for r in plan.rows if r.get("k") is None) < n_wide        # 3 lrs a family, not 6


def test_searches_made_elsewhere_are_reused_not_repeated():
    problem, (_, (_, y_val), _, _) = linear()
    adam = SMALL["families"][0]
    odd = compare.Choice(adam, 0.1234, "the problem's x₀", 2, 9.0)          # no search would pick lr 0.1234
    rows = [{"family": adam.label, "start": odd.start, "steps": 2, "lr": 0.1234, "score": 9.0, "stable": True,
             "chosen": True, "best_of_family": True}]
    plan = compare_amortized.amortized_plan(problem, y_val, bent_theta(), lambda y: torch.zeros(len(y), 4),
                                            steps=(2,), k_grid=(1.0,), searched={("strongest_x", 2): (odd, rows)},
                                            **SMALL)
    assert plan.steps[2].sx == odd and plan.steps[2].ax.lr != 0.1234
    assert [r["reused"] for r in plan.rows if r["method"] == "strongest_x"] == [True]
    with pytest.raises(ValueError, match="starts from"):
        compare_amortized.amortized_plan(problem, y_val, bent_theta(), lambda y: torch.zeros(len(y), 4), steps=(2,),
                                         k_grid=(1.0,), searched={("strongest_x", 2): (
                                             compare.Choice(adam, 0.1, "elsewhere", 2, 1.0), rows)}, **SMALL)
