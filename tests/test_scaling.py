"""llcore.repro.scaling: the grows / flat / falls rule of the θ-compute study on synthetic levels, its
extrapolation, and the claims-table cell built on it."""
import math

import pytest

from llcore.repro import scaling
from llcore.repro.registry import COLUMNS
from llcore.repro.verdicts import HELD, NOISE, NOT_HELD, NOT_MEASURED, grows_with_compute


# the rule

def levels(gain_of, seeds=(0, 1, 2), rollouts=(64, 256, 1024, 4096)) -> dict:
    """A synthetic problem entry: gain_of(rollouts, seed) at each level and seed."""
    def seed_entry(r, s):
        g = gain_of(r, s)
        return {"seed": s, "splits": {"test_in": {"against": {"reference": {
            "gain_at": {"10": g}, "speedup_10": {"median": 1.5 * g}}}}}}
    return {"levels": {f"L{r}": {"rollouts": r, "seeds": [seed_entry(r, s) for s in seeds]} for r in rollouts}}


def noise(r, s):
    """A fixed ±5% wobble per (level, seed): deterministic, no mean trend."""
    return 1 + 0.05 * math.sin(3.1 * s + math.log2(r))


def test_trend_grows_flat_falls_on_synthetic_levels():
    m = {"problems": {
        "up": levels(lambda r, s: 1.2 ** math.log2(r) * noise(r, s) / 4),            # ×1.2 per doubling
        "down": levels(lambda r, s: 0.8 ** math.log2(r) * noise(r, s) * 50),
        "level": levels(lambda r, s: 2.0 * noise(r, s)),
        "one_level": {"levels": {"L64": levels(lambda r, s: 2.0)["levels"]["L64"]}}}}
    t = scaling.trend(m)
    assert set(t) == {"up", "down", "level"}                   # one level: no slope to fit
    assert t["up"]["verdict"] == "grows" and math.isclose(t["up"]["factor_per_doubling"], 1.2, rel_tol=0.03)
    assert t["down"]["verdict"] == "falls" and math.isclose(t["down"]["factor_per_doubling"], 0.8, rel_tol=0.03)
    assert t["level"]["verdict"] == "flat" and t["level"]["interval"][0] < 0 < t["level"]["interval"][1]
    for v in t.values():
        lo, hi = v["interval"]
        assert lo < v["slope_per_doubling"] < hi and v["n"] == 12 and v["se"] > 0
    same = scaling.trend(m, measure="speedup_median_10")             # 1.5 × gain: the same slope, the same verdicts
    assert {k: v["verdict"] for k, v in same.items()} == {k: v["verdict"] for k, v in t.items()}
    assert math.isclose(same["up"]["slope_per_doubling"], t["up"]["slope_per_doubling"])
    with pytest.raises(ValueError, match="unknown measure"):
        scaling.trend(m, measure="gain_at_200")


def test_fit_trend_exact_slope_and_refusals():
    r = [2 ** k for k in range(4) for _ in range(2)]
    fit = scaling.fit_trend(r, [3.0 * 1.5 ** math.log2(x) for x in r])
    assert math.isclose(fit["factor_per_doubling"], 1.5) and fit["se"] < 1e-12 and fit["verdict"] == "grows"
    noisy = scaling.fit_trend([1, 1, 2, 2, 4, 4], [1.0, 2.0, 2.0, 1.0, 1.0, 2.0])   # no trend, wide spread
    assert noisy["verdict"] == "flat" and math.isclose(noisy["slope_per_doubling"], 0.0, abs_tol=1e-12)
    wider = scaling.fit_trend([1, 1, 2, 2, 4, 4], [1.0, 2.0, 2.0, 1.0, 1.0, 2.0], level=0.99)
    assert wider["interval"][1] - wider["interval"][0] > noisy["interval"][1] - noisy["interval"][0]
    with pytest.raises(ValueError, match="≥ 3 points at ≥ 2"):
        scaling.fit_trend([8, 8, 8], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="> 0"):
        scaling.fit_trend([1, 2, 4], [1.0, 0.0, 2.0])




def test_extrapolate_follows_the_line_and_widens_away_from_the_data():
    r = [2 ** k for k in range(4) for _ in range(2)]
    fit = scaling.fit_trend(r, [3.0 * 1.5 ** math.log2(x) * (1.1 if i % 2 else 0.9) for i, x in enumerate(r)])
    near, far = scaling.extrapolate(fit, 4), scaling.extrapolate(fit, 4 * 2 ** 6)
    assert math.isclose(far["gain"] / near["gain"], fit["factor_per_doubling"] ** 6)
    width = lambda e: math.log(e["interval"][1] / e["interval"][0])          # noqa: E731
    assert near["interval"][0] < near["gain"] < near["interval"][1] and width(far) > 2 * width(near)


def study_of(**problems) -> dict:
    return {"problems": problems}


def test_the_claims_cell_reads_the_study_verdict_per_problem():
    study = study_of(up=levels(lambda r, s: 1.2 ** math.log2(r) * noise(r, s)),
                     down=levels(lambda r, s: 0.8 ** math.log2(r) * noise(r, s) * 50),
                     level=levels(lambda r, s: 2.0 * noise(r, s)),
                     one_level={"levels": {"L64": levels(lambda r, s: 2.0)["levels"]["L64"]}})
    assert grows_with_compute(study, "up").verdict == HELD
    assert grows_with_compute(study, "down").verdict == NOT_HELD
    assert grows_with_compute(study, "level").verdict == NOISE
    assert grows_with_compute(study, "one_level").verdict == NOT_MEASURED
    assert grows_with_compute(study, "absent").verdict == NOT_MEASURED
    cell = grows_with_compute(study, "up")
    assert "×1.2 per doubling" in cell.text and "64–4,096 roll-outs" in cell.text and "12 θ" in cell.text


def test_every_scaling_column_names_a_problem_of_the_study():
    from pathlib import Path
    source = (Path(__file__).resolve().parents[1] / "notebooks" / "studies" / "theta_scaling.py").read_text()
    named = [c.scaling_problem for c in COLUMNS if c.scaling_problem]
    assert named and len(set(named)) == len(named)
    for name in named:                                   # PROBLEMS = {"mnist": Spec(...), ...} in the study
        assert f'"{name}": Spec(' in source, name


def test_the_findings_sentence_names_what_grew_what_did_not_and_what_is_missing():
    from llcore.repro import findings
    m = {"theta_scaling": study_of(toy=levels(lambda r, s: 1.2 ** math.log2(r) * noise(r, s)),
                                   pose=levels(lambda r, s: 2.0 * noise(r, s)))}
    (sentence,) = findings.sentences(m, "CLAIMS.md")           # no other claim is measured in these metrics
    assert "grew in toy (00)" in sentence and "stayed flat in pose (03)" in sentence
    assert "not yet measured in MNIST GAN (01), faces GAN (01)" in sentence and "CLAIMS.md#claim-11" in sentence


def test_read_study_names_the_command_when_missing_and_refuses_another_file(tmp_path):
    import json
    with pytest.raises(FileNotFoundError, match="theta_scaling.py"):
        scaling.read_study(tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps({"experiment": "toy", "splits": {}}))
    with pytest.raises(ValueError, match="not the θ-compute study"):
        scaling.read_study(tmp_path)


def test_notebook_rows_and_sentences_follow_the_fits():
    study = {"experiment": "theta_scaling", "problems": {"toy": levels(lambda r, s: 1.2 ** math.log2(r) * noise(r, s))}}
    rows = scaling.levels_rows({"problems": {"toy": {"levels": {
        k: {**v, "f_evaluations": 1, "seeds": [{**s, "train_seconds": 1.0} for s in v["seeds"]]}
        for k, v in study["problems"]["toy"]["levels"].items()}}}})
    assert [r["roll-outs"] for r in rows] == [64, 256, 1024, 4096] and all(r["seeds"] == 3 for r in rows)
    fits = scaling.fits(study)
    assert list(fits) == [("toy", "reference")]                # no encoder side measured
    (row,) = scaling.trend_rows(fits, 4096 * 4)
    assert row["verdict"] == "grows"
    assert math.isclose(row["× per doubling"], fits[("toy", "reference")]["factor_per_doubling"])
    (sentence,) = scaling.sentences(fits, 4096 * 4)
    assert "**grows**" in sentence and "Extrapolation, not a result" in sentence and "2.0 doublings beyond" in sentence
    assert "mnist" in scaling.not_run(study)[0] and "toy" not in scaling.not_run(study)[0].split(":")[1]
