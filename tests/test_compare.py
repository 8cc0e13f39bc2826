"""The fair comparison (llcore.compare), per-target L-BFGS (llcore.lbfgs), per-target speed-ups, the probe that
reports the fair comparison's figure while θ trains, with its early stop; and the two options the comparison with an
amortized start needs: refinement in X after k steps in Z (invert's refine_in_x) and roll-outs from a start
function (Trainer's start)."""
import numpy as np
import pytest
import torch
from torch import nn

from llcore import Problem, ResidualMLP, TrainConfig, Trainer, invert
from llcore import compare, metrics
from llcore.probes import SpeedupProbe


def least_squares(dim_x=4, dim_y=12, seed=0):
    """A small well-conditioned linear least-squares F: the problem quasi-Newton methods solve in a few evaluations."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(dim_y, dim_x, generator=g))
    a = q * torch.linspace(1.0, 3.0, dim_x)                                  # singular values 1..3
    F = nn.Linear(dim_x, dim_y, bias=False)
    with torch.no_grad():
        F.weight.copy_(a)
    problem = Problem(forward=F, loss=lambda p, y: (p - y).pow(2).mean(1), x_shape=(dim_x,), y_shape=(dim_y,))
    with torch.no_grad():
        ys = [F(torch.randn(n, dim_x, generator=g)) for n in (16, 16)]
    return problem, ys


def test_the_fair_comparison_picks_lbfgs_where_it_is_best():
    problem, (y_val, y_test) = least_squares()
    ref, rows = compare.strongest(problem, y_val, 10)
    assert ref.family is compare.LBFGS
    assert {r["family"] for r in rows} == {f.label for f in compare.FAMILIES}
    first_order, _ = compare.strongest(problem, y_val, 10, families=compare.FIRST_ORDER)
    assert ref.score < first_order.score


def test_lbfgs_keeps_targets_independent_and_counts_evaluations():
    problem, (y, _) = least_squares()
    few = invert(problem, y[:3], None, "lbfgs", lr=1.0, steps=15)
    more = invert(problem, y, None, "lbfgs", lr=1.0, steps=15)
    assert few.loss.shape == (16, 3) and torch.equal(few.loss, more.loss[:, :3])
    assert torch.equal(few.x, more.x[:3])
    assert (few.loss[1:] <= few.loss[:-1]).all()                             # best so far, per evaluation
    assert float(few.loss[-1].max()) < 1e-6 * float(few.loss[0].min())       # a quadratic: solved in 15 evaluations


def test_lbfgs_runs_in_z_and_is_not_a_training_rule():
    problem, (y, _) = least_squares()
    theta = ResidualMLP(dim_x=4, width=16)
    rec = invert(problem, y, theta, "lbfgs", lr=1.0, steps=5, keep_trajectory=True, snapshot_steps=[5])
    assert rec.trajectory.shape == (6, 16, 4) and torch.allclose(rec.snapshots[5], theta(rec.z).detach())
    with pytest.raises(ValueError, match="per-target solver"):
        TrainConfig(inner_optimizer="lbfgs")


def test_per_target_speedups_read_each_target_against_its_own_value():
    ref = np.array([[4.0, 4.0], [3.0, 1.0], [2.0, 0.5], [1.0, 0.4], [0.5, 0.3]])   # (5 steps, 2 targets)
    land = np.array([[4.0, 4.0], [1.0, 2.0]])
    s, capped = metrics.per_target_speedup(ref, land, n=1, budget=4)
    assert s.tolist() == [3.0, 1.0] and not capped.any()
    s, capped = metrics.per_target_speedup(ref, np.array([[4.0, 4.0], [0.1, 1.0]]), n=1, budget=4)
    assert s.tolist() == [4.0, 1.0] and capped.tolist() == [True, False]
    summary = metrics.per_target_summary(np.array([0.5, 1.0, 2.0, 4.0]))
    assert summary["median"] == 1.5 and summary["fraction_gain"] == 0.5 and summary["fraction_loss"] == 0.25
    lo, hi = summary["median_interval"]
    assert lo <= 1.5 <= hi and (lo, hi) == tuple(metrics.per_target_summary(np.array([0.5, 1.0, 2.0, 4.0]))
                                                 ["median_interval"])
    with pytest.raises(ValueError, match="budget"):
        metrics.per_target_speedup(ref, land, n=1, budget=5)


def trained(problem, y, config, probe_targets=None, **kw):
    torch.manual_seed(0)
    theta = ResidualMLP(dim_x=problem.dim_x, width=32)
    trainer = Trainer(problem, theta, y, config, probe_targets=probe_targets, **kw)
    return theta, trainer, trainer.train(progress=False)


def test_the_probe_reports_the_fair_comparisons_figure():
    problem, (y_train, y_probe) = least_squares()
    cfg = TrainConfig(rounds=2, batch_size=8, inner_steps=5, theta_steps=2, theta_batch=16, probe_every=1,
                      probe_steps=3)
    theta, trainer, history = trained(problem, y_train, cfg, y_probe)
    probe = next(c for c in trainer.callbacks if isinstance(c, SpeedupProbe))
    fair = compare.fair_comparison(problem, y_probe, y_probe, theta, steps=(3,), horizon=30, landscape=probe.landscape,
                                   seed=1)
    outcome = fair.outcomes[3]
    assert outcome.reference == probe.reference
    assert history[-1]["probe_speedup"] == outcome.summary["median"]
    assert history[-1]["probe_speedup_curve"] == outcome.summary["curve"]
    assert history[-1]["stopped"] == "reached rounds=2"


def test_early_stop_ends_training_when_the_probe_is_flat_and_stays_stopped_on_resume(tmp_path):
    problem, (y_train, y_probe) = least_squares()
    cfg = TrainConfig(rounds=30, batch_size=8, inner_steps=5, theta_steps=1, theta_batch=16, theta_lr=1e-12,
                      probe_every=1, probe_steps=3, stop_patience=2)            # θ does not move: a flat probe
    ckpt = tmp_path / "theta.ckpt"
    _, trainer, history = trained(problem, y_train, cfg, y_probe, checkpoint_path=ckpt)
    assert len(history) == 3 and "early stop" in history[-1]["stopped"]
    _, again, resumed = trained(problem, y_train, cfg, y_probe, checkpoint_path=ckpt)
    assert len(resumed) == 3 and again.round == 3
    with pytest.raises(ValueError, match="probe"):
        TrainConfig(stop_patience=2)


def test_fair_comparison_reports_per_target_statistics():
    problem, (y_val, y_test) = least_squares()
    theta = ResidualMLP(dim_x=4, width=16)
    fair = compare.fair_comparison(problem, y_val, y_test, theta, steps=(2, 5), horizon=20,
                                   families=compare.FIRST_ORDER)
    assert set(fair.outcomes) == {2, 5}
    o = fair.outcomes[5]
    assert o.per_target.shape == (16,) and o.reference_record.steps == 20 and o.landscape_record.steps == 5
    assert o.summary["n"] == 16 and o.summary["median_interval"][0] <= o.summary["median"]
    assert "N=5: per-target speed-up median" in str(fair)
    assert {r["method"] for r in fair.rows} == {"reference", "landscape"}


def test_refinement_in_x_after_k_steps_spans_landscape_and_descent_in_x():
    from llcore import InnerOptimizer, RefineInX, starting_point
    problem, (y, _) = least_squares()
    problem.project = lambda x: x.clamp(-2, 2)
    torch.manual_seed(0)
    theta = ResidualMLP(dim_x=4, width=16)
    adam = InnerOptimizer("adam", 0.05)
    plain = invert(problem, y, theta, "adam", 0.1, 12)
    assert torch.equal(invert(problem, y, theta, "adam", 0.1, 12, refine_in_x=RefineInX(12, adam)).loss, plain.loss)
    x0 = theta(starting_point(problem, len(y), theta, torch.Generator().manual_seed(0))).detach()
    in_x = invert(problem, y, None, adam, steps=12, x0=x0)
    assert torch.equal(invert(problem, y, theta, "adam", 0.1, 12, refine_in_x=RefineInX(0, adam)).loss, in_x.loss)
    mixed = invert(problem, y, theta, "adam", 0.1, 12, refine_in_x=RefineInX(4, adam))
    assert torch.equal(mixed.loss[:5], plain.loss[:5]) and not torch.equal(mixed.loss, plain.loss)
    assert mixed.meta["refine_in_x"]["after"] == 4 and mixed.z.shape == (16, 4)
    with pytest.raises(ValueError, match="past the budget"):
        invert(problem, y, theta, "adam", 0.1, 3, refine_in_x=RefineInX(4, adam))


def test_the_e_step_rolls_out_from_the_start_function_and_resumes_bit_exactly(tmp_path):
    problem, (y_train, _) = least_squares()
    far = lambda y: torch.full((len(y), 4), 7.0)                             # noqa: E731  a start far from x_0 = 0
    cfg = TrainConfig(rounds=3, batch_size=8, inner_steps=2, theta_steps=1, theta_batch=8)
    torch.manual_seed(0)
    trainer = Trainer(problem, ResidualMLP(dim_x=4, width=16), y_train, cfg, start=far)
    trainer.e_step()
    z0 = trainer.buffer.sample(8, torch.Generator().manual_seed(0))["z"]
    assert float(z0.abs().max()) > 4                                          # the roll-outs started near 7, not 0
    ckpt = tmp_path / "t.ckpt"
    _, whole, _ = trained(problem, y_train, cfg, start=far)
    part_cfg = TrainConfig(**{**cfg.__dict__, "rounds": 1})
    trained(problem, y_train, part_cfg, start=far, checkpoint_path=ckpt)
    theta, resumed, _ = trained(problem, y_train, cfg, start=far, checkpoint_path=ckpt)
    assert all(torch.equal(a, b) for a, b in zip(whole.mapping.state_dict().values(), theta.state_dict().values()))


def test_the_exact_lift_starts_a_trained_theta_at_the_given_x():
    from llcore.inversion import lift, starting_point
    problem, (y_train, _) = least_squares()
    cfg = TrainConfig(rounds=5, batch_size=8, inner_steps=5, theta_steps=5, theta_batch=16, theta_lr=1e-2)
    theta, _, _ = trained(problem, y_train, cfg)
    x0 = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    rough = theta(theta.initial_z(x0)).detach()
    exact = theta(lift(theta, x0)).detach()
    assert float((rough - x0).abs().max()) > 1e-3                            # training moved θ off the identity
    assert float((exact - x0).abs().max()) < 1e-4
    z0 = starting_point(problem, 6, theta, x0=x0, exact=True)
    assert torch.allclose(theta(z0).detach(), exact)


def test_train_autocast_runs_f_in_bf16_while_theta_trains_and_nowhere_else():
    problem, (y_train, y_probe) = least_squares()
    base = dict(rounds=1, batch_size=8, inner_steps=3, theta_steps=2, theta_batch=16)
    _, t32, h32 = trained(problem, y_train, TrainConfig(**base))
    _, t16, h16 = trained(problem, y_train, TrainConfig(**base, train_autocast="bf16"))
    assert t16.train_problem.autocast == "bf16" and t16.problem.autocast is None and problem.autocast is None
    assert h16[0]["e_loss_T"] != h32[0]["e_loss_T"]                          # F ran in bf16 ...
    assert h16[0]["e_loss_T"] == pytest.approx(h32[0]["e_loss_T"], rel=2e-2)  # ... to bf16's precision
    assert all(p.dtype == torch.float32 for p in t16.mapping.parameters())
    with pytest.raises(ValueError, match="train_autocast"):
        TrainConfig(train_autocast="int8")


def test_lbfgs_stops_a_target_where_its_line_search_breaks_down(monkeypatch):
    # torch's strong-Wolfe search can overflow float32 at a far too large lr (seen on a pendulum at lr 100): the
    # target keeps its best point for the evaluations left, the other targets are unaffected
    problem, (y, _) = least_squares()
    healthy = invert(problem, y[:2], None, "lbfgs", lr=1.0, steps=12)
    step = torch.optim.LBFGS.step
    calls = {"n": 0}

    def breaking(self, closure):
        calls["n"] += 1
        if calls["n"] == 1:                                       # the first target: 3 evaluations, then the overflow
            for _ in range(3):
                closure()
            raise RuntimeError("value cannot be converted to type float without overflow")
        return step(self, closure)

    monkeypatch.setattr(torch.optim.LBFGS, "step", breaking)
    rec = invert(problem, y[:2], None, "lbfgs", lr=1.0, steps=12)
    assert rec.loss.shape == (13, 2) and torch.isfinite(rec.loss).all()
    assert (rec.loss[3:, 0] == rec.loss[2, 0]).all()                # flat after its breakdown
    assert torch.equal(rec.loss[:, 1], healthy.loss[:, 1])
