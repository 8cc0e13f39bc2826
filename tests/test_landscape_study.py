"""llcore.repro.landscapes: notebook 05's paths, measures, tables and verdicts, on a tiny toy problem."""
import pandas as pd
import pytest

from llcore.repro import landscapes as study
from llcore.repro.builders import toy_setup


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LLCORE_CACHE", str(tmp_path))


def test_analyse_tables_and_figures():
    import matplotlib.pyplot as plt
    s = toy_setup(dim_x=4, manifold_dim=2, n_train=16, n_val=None, n_test=3)
    theta = s.theta(8, 2)
    res = study.analyse(s.problem, theta, s.test_targets(0), 0, 0.1, 0.1, steps=5, grid=5, span=1.0,
                        direction_scale="displacement", trajectory_margin=1.25, hessian_iters=2)
    assert set(res) == {"X", "Z"} and res["X"]["random"].values.shape == (3, 5, 5)
    assert len(res["X"]["paths"]) == 2 and len(res["Z"]["paths"]) == 1         # x_t and θ(z_t) in X; z_t in Z
    per_target = pd.DataFrame(study.measure_rows(res, "toy", 0))
    assert len(per_target) == 6
    mean, spread, ratio = study.summarise(per_target, ["toy"])
    assert list(mean.columns) == study.MEASURES and list(ratio.index) == ["toy"]
    assert ((mean["convex_fraction_random"] >= 0) & (mean["convex_fraction_random"] <= 1)).all()
    plt.close(study.draw_slices(res, 0, "t", "displacement"))
    plt.close(study.draw_measures(per_target, ["toy"], "t"))


def test_votes():
    p = {"X": {"a": 1.0, "b": 2.0, "c": 3.0}, "Z": {"a": 2.0, "b": 1.0, "c": 3.0}}
    score, parts = study.votes(p, [("a", "A", "higher"), ("b", "B", "higher"), ("c", "C", "lower")])
    assert score == 0 and parts[0] == "A 2 in Z vs 1 in X"
    assert study.votes(p, [("a", "A", "higher"), ("b", "B", "lower")])[0] == 2
