import numpy as np
import pytest

from llcore.metrics import reach, speedup_at, speedup_seconds, speedup_steps
from llcore.repro.results import split_summary, validate_metrics, variant_summary

# baseline halves the loss every 2 steps, landscape every step: landscape is twice as fast
B = 0.5 ** (np.arange(201) / 2)
L = 0.5 ** np.arange(201.0)


def test_reach_counts_step_zero_as_one():
    assert reach([1.0, 0.5, 0.2], 0.5) == 1
    assert reach([1.0, 0.5, 0.2], 2.0) == 1
    assert reach([1.0, 0.5, 0.2], 0.1) is None
    assert reach([0.1, 0.5, 0.9], 0.8, higher_is_better=True) == 2


def test_speedups_of_a_twice_as_fast_method():
    s, reached = speedup_steps(B, L, 200)
    assert reached and s == pytest.approx(2.0)
    sa, capped = speedup_at(B, L, [5, 10, 50], 200)
    assert sa == {"5": 2.0, "10": 2.0, "50": 2.0} and not capped
    sa, capped = speedup_at(B, L, [150], 200)
    assert sa == {"150": 200 / 150} and capped           # the baseline would need 300 > 200 steps
    secs = np.arange(201) * 1.0
    assert speedup_seconds(B, L, secs, 3 * secs, 200) == pytest.approx(2.0 / 3)   # 3x dearer steps


def test_speedup_steps_below_one_when_landscape_never_reaches_the_baseline():
    worse = np.maximum(0.5 ** (np.arange(201) / 4), 0.01)   # slower, and stalls at 0.01 > baseline's final value
    s, reached = speedup_steps(B, worse, 200)
    assert not reached and s < 1


def test_higher_is_better_metrics():
    acc_b = np.linspace(0, 0.5, 41)
    acc_l = np.minimum(np.linspace(0, 1.0, 41), 0.9)
    s, reached = speedup_steps(acc_b, acc_l, 40, higher_is_better=True)
    assert reached and s == pytest.approx(2.0)


def test_split_summary_follows_the_contract():
    curves = {"baseline": [B, B * 1.1, B * 0.9], "landscape": [L, L, L]}
    secs = {m: [np.arange(201) * 0.01] * 3 for m in curves}
    s = split_summary(curves, secs, "mse", 200)
    assert s["curves"]["baseline"]["200"] == pytest.approx(B[200])
    assert s["spread"]["baseline"]["200"] == pytest.approx(np.std([1, 1.1, 0.9]) * B[200])
    assert s["speedup_at"]["10"] == 2.0
    m = {"experiment": "x", "profile": "smoke", "seeds": [0], "splits": {"test_in": s},
         "provenance": {"git_sha": "", "packages": {}, "device": "cpu", "started": "", "wall_seconds": 0}}
    validate_metrics(m)
    del m["splits"]["test_in"]["curves"]["landscape"]["10"]
    with pytest.raises(ValueError, match="lacks a finite value at step 10"):
        validate_metrics(m)


def test_variant_summary_pairs_seeds_and_reports_spreads():
    secs = [np.arange(201) * 0.01] * 2
    base = {"curves": [B, B], "seconds": secs}
    v = variant_summary(base, {"curves": [L, 0.5 ** (np.arange(201) / 2)], "seconds": secs}, "mse", 200)
    # seed 0 twice as fast, seed 1 as fast as the baseline
    assert v["speedup_steps_per_seed"] == [pytest.approx(2.0), pytest.approx(1.0)]
    assert v["speedup_steps_spread"] == pytest.approx(0.5)
    assert v["final"] == pytest.approx((L[200] + B[200]) / 2) and v["final_spread"] == pytest.approx(abs(B[200] - L[200]) / 2)
    assert v["speedup_at_spread"]["10"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="seeds"):
        variant_summary(base, {"curves": [L], "seconds": secs[:1]}, "mse", 200)


def test_git_sha_is_dirty_for_code_changes_but_not_for_results(tmp_path):
    import subprocess
    from llcore.repro.results import git_sha
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)
    run("init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "m.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("# r\n")
    run("add", "-A")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    assert not git_sha(tmp_path).endswith("+dirty")
    (tmp_path / "results" / "m.json").write_text('{"a": 1}')
    (tmp_path / "README.md").write_text("# r, with a regenerated claims block\n")
    assert not git_sha(tmp_path).endswith("+dirty")
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_sha(tmp_path).endswith("+dirty") and len(git_sha(tmp_path)) == 40 + 6


def test_a_baseline_that_rises_again_no_longer_manufactures_a_speedup():
    # the baseline reaches 0.2 by step 3, then drifts back up to 0.8; landscape descends steadily to 0.3.
    # On the raw curves the baseline's budget value (0.8) is what landscape must reach: a "2x speed-up".
    # Read on the running best, landscape must reach the baseline's best, 0.2, which it never does.
    from llcore.metrics import best_so_far, speedup_at, speedup_steps
    budget = 10
    baseline = np.array([1.0, 0.9, 0.5, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8])
    landscape = np.array([1.0, 0.75, 0.7, 0.6, 0.5, 0.45, 0.4, 0.37, 0.34, 0.32, 0.3])
    raw, raw_reached = speedup_steps(baseline, landscape, budget, best_so_far=False)
    robust, robust_reached = speedup_steps(baseline, landscape, budget)
    assert raw > 1 and raw_reached                     # the raw rule rewards the baseline's rise
    assert robust < 1 and not robust_reached           # the best-so-far rule does not
    assert np.allclose(best_so_far(baseline)[-3:], 0.2)
    sa, capped = speedup_at(baseline, landscape, [5, 10], budget, per_step_capped=True)
    assert sa["10"] <= 1 and capped == {"5": False, "10": False}
    # for monotone curves the two rules agree
    mono_b, mono_l = best_so_far(baseline), best_so_far(landscape)
    assert speedup_steps(mono_b, mono_l, budget) == speedup_steps(mono_b, mono_l, budget, best_so_far=False)


def test_quantiles_and_fraction_reaching_read_per_target_curves():
    from llcore.metrics import fraction_reaching, quantile_curves
    per_target = np.array([[1.0, 1.0, 1.0, 100.0],                # step 0: four targets, one far off
                           [0.1, 0.2, 0.3, 100.0]])              # step 1
    q = quantile_curves(per_target, qs=(0.5,))
    assert q["0.5"][1] == pytest.approx(0.25)                   # the median ignores the outlier; the mean (25.15) not
    assert fraction_reaching(per_target, 0.25).tolist() == [0.0, 0.5]


def test_split_summary_reports_medians_quantiles_and_per_step_caps():
    rng = np.random.default_rng(0)
    per_target = {m: [np.outer(c, rng.uniform(0.5, 1.5, 8)) for _ in range(2)] for m, c in (("baseline", B), ("landscape", L))}
    per_target["baseline"][0][:, 0] = 1e6                            # one target far off: the mean moves, the median not
    curves = {m: [a.mean(1) for a in v] for m, v in per_target.items()}
    seconds = {m: [np.arange(201.0)] * 2 for m in curves}
    s = split_summary(curves, seconds, "mse", 200, per_target=per_target, robust=True)
    assert s["speedup_rule"] == "best_so_far" and isinstance(s["speedup_at_capped"], dict)
    assert set(s["curves_quantiles"]) == {"0.25", "0.5", "0.75", "0.9"}
    assert s["curves_median"]["baseline"]["10"] < 1 < s["curves"]["baseline"]["10"]
    assert s["fraction_reaching"]["landscape"]["200"] >= s["fraction_reaching"]["baseline"]["200"]
    assert s["median_over"] == "targets"
    per_seed = split_summary(curves, seconds, "mse", 200)                # a measure known per seed only
    assert per_seed["median_over"] == "seeds" and "curves_quantiles" not in per_seed
    assert per_seed["curves_median"]["baseline"]["10"] == pytest.approx(np.median([c[10] for c in curves["baseline"]]))
