import torch

from llcore.repro.experiment import Method, choose_lrs, compare, curves_table, speedup_table


def test_compare_runs_every_method_with_its_own_lr_and_start(toy):
    p, y = toy
    p.metric = lambda pred, target: (pred - target).abs().flatten(1).mean(1)        # a second measure
    warm = Method("warm_start", lr_grid=[0.01, 0.1], x0=lambda seed, targets: torch.full((targets.shape[0], 16), 0.1))
    methods = [Method("baseline", lr_grid=[1e-4, 0.1]), Method("landscape", lr_grid=[0.1]), warm]
    lrs, sweep = choose_lrs(p, y, methods, budget=20, seed=0)
    assert lrs["baseline"] == 0.1 and set(sweep["method"]) == {"baseline", "landscape", "warm_start"}
    res = compare(p, {"a": lambda s: y[:8], "b": lambda s: y[8:16]}, methods, lrs, 20, seeds=[0, 1], which="metric")
    assert len(res.curves["a"]["warm_start"]) == 2 and res.curves["a"]["baseline"][0].shape == (21,)
    assert res.last[("a", "warm_start")].loss.shape == (21, 8)
    start = p.objective(torch.full((8, 16), 0.1), y[8:16])       # seed 1's last split was "b"
    torch.testing.assert_close(res.last[("b", "warm_start")].loss[0], start)
    first = res.last[("a", "warm_start")]
    assert first.metric is not None and first.metric.shape == (21, 8)
    splits = res.summary("mae")
    assert set(curves_table(splits, lrs)["method"]) == {"baseline", "landscape", "warm_start"}
    assert list(speedup_table(splits)["split"]) == ["a", "b"]


def test_fixed_start_is_the_one_x_that_fits_all_targets_best():
    # F = identity with a squared loss: the best single x for all targets is their mean
    from llcore import Problem
    from llcore.repro.experiment import fixed_start
    y = torch.randn(32, 5, generator=torch.Generator().manual_seed(0)) + 2.0
    p = Problem(forward=lambda x: x, loss=lambda pred, t: (pred - t).pow(2).mean(1), x_shape=(5,))
    c = fixed_start(p, y, steps=300, lr=0.1)
    assert c.shape == (5,)
    torch.testing.assert_close(c, y.mean(0), atol=1e-3, rtol=0)
    assert p.objective(c.expand(32, 5), y).mean() < p.objective(torch.zeros(32, 5), y).mean()


def test_choose_start_sweeps_and_returns_the_optimizer_it_is_given(toy):
    # with plain gradient descent the useful lr scale differs from Adam's, so the sweep must run the optimizer asked for
    from llcore.repro.experiment import choose_start
    p, y = toy
    starts = {"x0": None, "warm": lambda s, t: torch.full((t.shape[0], 16), 0.1)}
    base, label, table = choose_start(p, y[:8], starts, [0.01, 0.1], budget=10, seed=0, optimizer="sgd")
    assert base.optimizer == "sgd" and label in starts and len(table[~table["added"]]) == 4   # + any grown past an edge
    adam, _, adam_table = choose_start(p, y[:8], starts, [0.01, 0.1], budget=10, seed=0)
    assert adam.optimizer == "adam" and not table["score"].equals(adam_table["score"])


def test_a_per_target_measure_is_averaged_for_the_curves_and_kept_for_the_medians(toy):
    p, y = toy
    per_target = lambda split, seed, targets, rec, mapping: rec.loss.numpy() * 2.0        # (S+1, B)
    res = compare(p, {"a": lambda s: y[:8]}, [Method("baseline"), Method("landscape")], {"baseline": 0.1,
                  "landscape": 0.03}, 10, [0], measures={"twice": per_target})
    assert res.measures["twice"]["a"]["baseline"][0].shape == (11,)
    s = res.summary("twice", measure="twice")["a"]
    loss = res.summary("loss")["a"]
    assert abs(s["curves"]["baseline"]["10"] - 2 * loss["curves"]["baseline"]["10"]) < 1e-6
    assert abs(s["curves_median"]["baseline"]["10"] - 2 * loss["curves_median"]["baseline"]["10"]) < 1e-6
