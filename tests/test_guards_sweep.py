"""sweep_lr's guards: a bad step budget or criterion fails before any run, an int criterion scores that step, and a
forward model that returns NaN is reported as such instead of widening the grid onto a tiny lr."""
import math

import pytest
import torch

from llcore import Problem
from llcore.sweep import score_curve, sweep_lr
from llcore.tasks.toy import mse_loss


def nan_problem():
    """F(x) = x in 2-D, except NaN wherever x[:, 0] > 0.5: a forward model with a hole in its domain."""
    def forward(x):
        return torch.where(x[:, :1] > 0.5, torch.full_like(x, float("nan")), x)
    return Problem(forward=forward, loss=mse_loss, x_shape=(2,), name="nan_hole")


def half_beyond_the_hole():
    """8 targets from x_0 = 0: four at x = (1, 0), past the NaN hole, four at (0.2, 0.3), inside the domain."""
    return torch.tensor([[1.0, 0.0]] * 4 + [[0.2, 0.3]] * 4)


def counting(problem):
    """The problem with a forward that counts its calls (calls[0])."""
    calls = [0]
    f = problem.forward

    def forward(x):
        calls[0] += 1
        return f(x)
    problem.forward = forward
    return problem, calls


@pytest.mark.parametrize("steps", [0, -3, 2.5, "10", True])
def test_a_bad_step_budget_fails_before_any_run(toy, steps):
    p, y = toy
    p, calls = counting(p)
    with pytest.raises(ValueError, match="steps"):
        sweep_lr(p, y, [0.01, 0.1], steps=steps)
    assert calls[0] == 0


@pytest.mark.parametrize("criterion", [-1, 31, "median", 2.0])
def test_a_bad_criterion_fails_before_any_run(toy, criterion):
    p, y = toy
    p, calls = counting(p)
    with pytest.raises(ValueError, match="criterion"):
        sweep_lr(p, y, [0.01, 0.1], steps=30, criterion=criterion)
    assert calls[0] == 0


def test_score_curve_reads_an_int_criterion_as_that_step():
    c = torch.tensor([4.0, 3.0, 2.0, 1.0])
    assert score_curve(c, 2) == 2.0 and score_curve(c, 0) == 4.0 and score_curve(c, 3) == score_curve(c, "final")
    with pytest.raises(ValueError, match="N=4"):
        score_curve(c, 4)


def test_an_int_criterion_picks_the_best_lr_at_that_step(toy):
    p, y = toy
    grid = [0.01, 0.03, 0.1, 0.3]
    lr, rows = sweep_lr(p, y, grid, steps=30, criterion=5, extend=0, reject_unstable=False)
    at5 = {r["lr"]: r["score"] for r in rows}
    assert lr == min(at5, key=at5.get)
    # the scores are the curves at step 5: the same as sweeping 5 steps with "final"
    _, rows5 = sweep_lr(p, y, grid, steps=5, criterion="final", extend=0, reject_unstable=False)
    assert at5 == pytest.approx({r["lr"]: r["final"] for r in rows5})


def test_a_nan_forward_model_raises_instead_of_widening_the_grid():
    # before: every grid lr ran into the hole, all rows were "unstable", the smallest one counted as best, the grid
    # grew downward to 0.0033, too small to reach x[:, 0] = 0.5 in 100 steps, and that lr was returned as the best
    p, y = nan_problem(), half_beyond_the_hole()
    grid = [0.01, 0.03, 0.1, 0.3]
    with pytest.raises(FloatingPointError, match="NaN") as err:
        sweep_lr(p, y, grid, steps=100)
    msg = str(err.value)
    assert "check F" in msg and all(f"{lr:g}" in msg for lr in grid)
    assert "0.00333" not in msg                      # no lr below the grid was tried
    assert "too large" not in msg                    # the runs were descending when they hit the hole


def test_an_overflowing_run_is_told_apart_from_a_nan_of_f():
    # F and the loss are finite everywhere; gradient descent at lr 1e3 on s = 100 grows x until the loss overflows
    p = Problem(forward=lambda x: x, loss=lambda pred, y: ((pred - y).pow(2) * torch.tensor([1.0, 100.0])).sum(1),
                x_shape=(2,))
    y = torch.randn(8, 2, generator=torch.Generator().manual_seed(3))
    with pytest.raises(FloatingPointError, match="lr 10, 100, 1000, 10000 rose above their start.*too large"):
        sweep_lr(p, y, [1e3, 1e4], optimizer="sgd", steps=30)         # grown downward twice, still overflowing


def test_a_grid_that_overflows_everywhere_grows_downward_to_a_descending_lr():
    # the same F, finite everywhere: only lr < 2/200 descends; the grid 1, 10 grows down to 1e-3
    p = Problem(forward=lambda x: x, loss=lambda pred, y: ((pred - y).pow(2) * torch.tensor([1.0, 100.0])).sum(1),
                x_shape=(2,))
    y = torch.randn(8, 2, generator=torch.Generator().manual_seed(3))
    with pytest.warns(UserWarning, match="edge of the grid"):
        lr, rows = sweep_lr(p, y, [1.0, 10.0], optimizer="sgd", steps=30, extend=3)
    assert lr == pytest.approx(1e-3) and sum(r["added"] for r in rows) == 3


def test_nonfinite_rows_are_flagged_and_never_chosen():
    # only the two large lrs reach the hole: the best finite lr (0.003) is inside the grid, so nothing is added,
    # and the NaN lrs above it keep it off the edge
    p, y = nan_problem(), half_beyond_the_hole()
    lr, rows = sweep_lr(p, y, [0.0003, 0.001, 0.003, 0.03, 0.1], steps=100)
    flags = {r["lr"]: r["nonfinite"] for r in rows}
    assert flags == {0.0003: False, 0.001: False, 0.003: False, 0.03: True, 0.1: True}
    assert lr == 0.003 and not any(r["added"] for r in rows)
    assert all(math.isinf(r["score"]) for r in rows if r["nonfinite"])


def test_finite_sweeps_flag_no_row(toy):
    p, y = toy
    lr, rows = sweep_lr(p, y, [1e-4, 0.1, 1e6], steps=30)
    assert lr == 0.1 and all(r["nonfinite"] is False for r in rows)
