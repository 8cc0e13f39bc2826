"""llcore.repro.ablations: 04's variant catalogue, how variants resolve, and its verdicts."""
import numpy as np
import pytest

from llcore.repro import ablations

GRIDS = dict(T_grid=[5, 20], dim_z_factors=[0.5, 4], width_grid=[256], depth_grid=[2], buffer_grid=[1, 10],
             K_factors=[0.25, 1])


def cat():
    return ablations.catalogue(**GRIDS, inner_steps=20)


def test_catalogue_names_every_variant_by_its_value():
    c, families = cat()
    assert {"full", "identity_theta", "random_theta", "no_replay", "last_step_loss", "unrolled"} <= set(c)
    assert [n for n, _ in families["T"]] == ["T_5", "T_20"] and [n for n, _ in families["K"]] == ["K_0.25T", "K_1T"]
    assert c["K_0.25T"]["train"] == {"theta_steps": 5} and c["dim_z_4x"]["theta"] == {"dim_z_factor": 4}
    assert c["identity_theta"]["kind"] == "identity" and c["unrolled"]["train"] == {"mode": "unrolled"}


def test_select_expands_families_keeps_full_first_and_rejects_unknown_names():
    c, families = cat()
    assert ablations.select(["no_replay", "T", "T_5"], c, families) == ["full", "no_replay", "T_5", "T_20"]
    with pytest.raises(ValueError, match="unknown variant"):
        ablations.select(["nope"], c, families)
    assert ablations.memory_selection(["full", "unrolled"], c, ["full"]) == ["full"]
    with pytest.raises(ValueError, match="trained variants"):
        ablations.memory_selection(["random_theta"], c, ["full"])


def test_the_families_grids_run_only_on_the_grid_problems():
    c, families = cat()
    per = ablations.select_per_problem(["no_replay", "T", "unrolled"], c, families, ["gan", "pose"], ["gan"])
    assert per == {"gan": ["full", "no_replay", "T_5", "T_20", "unrolled"], "pose": ["full", "no_replay", "unrolled"]}
    with pytest.raises(ValueError, match="not among the problems"):
        ablations.select_per_problem(["T"], c, families, ["gan"], ["pose"])


def test_resolve_overrides_the_full_settings():
    c, _ = cat()
    full_theta, full_train = {"width": 256, "depth": 3, "dim_z_factor": 1}, {"inner_steps": 20, "buffer_rounds": 20}
    assert ablations.resolve(c["full"], full_theta, full_train, 72) == ({"width": 256, "depth": 3, "dim_z": 72},
                                                                       full_train)
    theta, train = ablations.resolve(c["dim_z_0.5x"], full_theta, {**full_train}, 63)
    assert theta["dim_z"] == 32 and train == full_train
    assert ablations.resolve(c["no_replay"], full_theta, full_train, 8)[1]["buffer_rounds"] == 1
    rows = ablations.catalogue_rows(c, ["full", "no_replay"])
    assert rows[1]["overrides of full"] == "buffer_rounds 1"


def test_lr_panel_row_marks_diverged_runs():
    t = np.arange(11.0)
    good = {"curves": [1 / (1 + t)] * 2, "seconds": [t * 0.01] * 2}
    bad = {"curves": [np.full(11, np.nan)] * 2, "seconds": [t * 0.01] * 2}
    row = ablations.lr_panel_row("gan", 0.1, good, good, good, "mse", 10)
    assert row["full speedup_steps vs tuned"] == pytest.approx(1.0) and row["full final"] == pytest.approx(1 / 11)
    row = ablations.lr_panel_row("gan", 0.3, good, good, bad, "mse", 10)
    assert row["full final"] is None and row["full speedup_steps vs baseline at this lr"] is None


def test_compare_finals_calls_noise_noise():
    entry = lambda final, spread, per: {"final": final, "final_spread": spread, "final_per_seed": per,   # noqa: E731
                                        "speedup_steps": 1.0, "speedup_steps_spread": 0.0}
    m = {"problems": {"p": {"metric": "mse", "baseline": entry(1.0, 0.01, [1.0, 1.0])}},
         "variants": {"p/full": entry(0.5, 0.01, [0.5, 0.5]), "p/no_replay": entry(0.51, 0.02, [0.5, 0.52])}}
    assert ablations.compare_finals(m, "p", "full", "baseline")[1] == "held"
    assert ablations.compare_finals(m, "p", "baseline", "full")[1] == "reversed"
    text, verdict = ablations.compare_finals(m, "p", "full", "no_replay")
    assert verdict == "within noise" and "lower on 1 of 2 seeds" in text
