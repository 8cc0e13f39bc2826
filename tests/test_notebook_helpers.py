"""llcore.repro.notebook (what every notebook does around its experiment), the builders' cached θ and the
band plots (llcore.repro.experiment.plot_grid / plot_curves)."""
import json

import numpy as np
import pytest
import torch

from llcore import TrainConfig, Trainer
from llcore.repro.builders import gan_setup, pose_setup, random_theta, toy_setup
from llcore.repro.cache import cache_key
from llcore.repro.experiment import Comparison, plot_curves, plot_grid
from llcore.repro.notebook import check_curves, start, trained_theta
from llcore.repro.results import validate_metrics
from llcore.seeding import set_seed

TRAIN = dict(rounds=2, batch_size=8, inner_steps=3, inner_lr=0.1, theta_steps=2, theta_batch=16, theta_lr=1e-3)


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LLCORE_CACHE", str(tmp_path / "cache"))


def split(baseline_1=1.0, baseline_end=0.5, budget=10):
    curve = lambda a, b: {str(t): a + (b - a) * t / budget for t in (1, 5, 10)}    # noqa: E731
    return {"metric": "mse", "higher_is_better": False, "budget_steps": budget,
            "curves": {"baseline": curve(baseline_1, baseline_end), "landscape": curve(0.8, 0.2)},
            "spread": {"baseline": {str(budget): 0.0}, "landscape": {str(budget): 0.0}},
            "speedup_steps": 1.0, "speedup_seconds": 1.0, "speedup_at": {"5": 1.0}}


def test_start_makes_the_results_folder_and_the_seeds(tmp_path, capsys):
    run = start("toy", "smoke", 3, 2, "cpu", str(tmp_path / "out"), note="hello")
    assert run.seeds == [3, 4] and run.device == torch.device("cpu") and run.experiment == "toy"
    assert (run.out / "tables").is_dir() and (run.out / "figures").is_dir()
    assert "seeds [3, 4]" in capsys.readouterr().out
    prov = run.provenance()
    assert prov["seeds"] == [3, 4] and prov["wall_seconds"] >= 0


def test_run_writes_tables_figures_and_validated_metrics(tmp_path):
    import matplotlib.pyplot as plt
    import pandas as pd
    run = start("toy", "smoke", 0, 1, "cpu", str(tmp_path))
    run.table(pd.DataFrame({"a": [1.0]}), "t", note="a note", show=False)
    assert (tmp_path / "tables" / "t.csv").is_file() and (tmp_path / "tables" / "t.md").read_text().startswith("a note")
    fig, _ = plt.subplots()
    assert run.figure(fig, "f.png", show=False).is_file()
    m = run.write_metrics(splits={"test_in": split()}, extra={"x": 1})
    assert m["experiment"] == "toy" and m["extra"] == {"x": 1} and "wall_seconds" in m["provenance"]
    assert json.loads((tmp_path / "metrics.json").read_text()) == m
    with pytest.raises(ValueError, match="splits"):
        run.write_metrics(extra={})                       # an experiment with curves needs its splits


def test_landscape_metrics_need_no_splits_but_others_do():
    prov = {"git_sha": "", "packages": {}, "device": "cpu", "started": "", "wall_seconds": 0}
    validate_metrics({"experiment": "landscape", "profile": "smoke", "seeds": [0], "provenance": prov, "problems": {}})
    with pytest.raises(ValueError, match="non-empty dict"):
        validate_metrics({"experiment": "toy", "profile": "smoke", "seeds": [0], "provenance": prov})
    bad = split()
    del bad["spread"]
    for experiment in ("landscape", "toy"):        # a splits entry, where there is one, must follow the contract
        with pytest.raises(ValueError, match="missing 'spread'"):
            validate_metrics({"experiment": experiment, "profile": "smoke", "seeds": [0], "provenance": prov,
                              "splits": {"test_in": bad}})


def test_check_curves():
    check_curves({"splits": {"a": split(), "a_objective": split()}}, 10)
    with pytest.raises(AssertionError, match="descends"):
        check_curves({"splits": {"a": split(0.5, 1.0)}}, 10)
    check_curves({"splits": {"a": split(0.5, 1.0), "a_objective": split()}}, 10,
                 descends=lambda k: k.endswith("_objective"))
    nan = split()
    nan["curves"]["landscape"]["5"] = float("nan")
    with pytest.raises(AssertionError):
        check_curves({"splits": {"a": nan}}, 10)


def test_trained_theta_trains_as_the_notebooks_did_then_loads_from_the_cache():
    s = toy_setup(n_train=64, n_val=8, n_test=8)
    theta, art = trained_theta("t", {"k": 1}, lambda: s.theta(8, 2), s.problem, s.y_train, TRAIN, 0, "cpu",
                               progress=False)
    set_seed(0)                                    # what every notebook wrote out by hand
    by_hand = s.theta(8, 2)
    Trainer(s.problem, by_hand, s.y_train, TrainConfig(**TRAIN, seed=0)).train(progress=False)
    for k, v in by_hand.state_dict().items():
        assert torch.equal(v, theta.state_dict()[k]), k
    calls = []
    again, art2 = trained_theta("t", {"k": 1}, lambda: calls.append(1) or s.theta(8, 2), s.problem,
                                lambda: pytest.fail("targets are built only to train"), TRAIN, 0, "cpu")
    assert art2["seconds"] == art["seconds"] and len(calls) == 1       # loaded: made once, to load the state into
    assert not again.training


def test_setups_keep_their_notebooks_cache_keys():
    toy = toy_setup(n_train=64, n_val=None, n_test=4)
    assert toy.theta_key(8, 2, TRAIN, 1, None) == {
        "problem": {"dim_x": 16, "condition": 100.0, "manifold_dim": 4, "n_train": 64}, "train": TRAIN,
        "rounds": 2, "seed": 1, "width": 8, "depth": 2}
    toy2 = toy_setup(dim_x=2, condition=3.0, manifold_dim=1, n_train=64, n_val=None, n_test=16, gain=3.0,
                     test_seed=3)
    assert toy2.theta_key(8, 2, TRAIN, 0, 5)["problem"]["gain"] == 3.0 and toy2.theta_key(8, 2, TRAIN, 0, 5)["rounds"] == 5
    assert torch.equal(toy2.test_targets(0), toy2.test_targets(1)), "the 2-D picture's targets do not move with seeds"
    assert toy_setup(n_train=64, n_val=None, n_test=4).theta_kind == "toy_theta"
    gan = gan_setup(gan_steps=2, n_val=4, n_test=5, log=lambda msg: None)
    key = gan.theta_key(8, 2, TRAIN, 0, None)
    assert gan.theta_kind == "gan_inversion_theta" and key["loss"] == "pixel MSE" and key["custom"] == ""
    assert set(key) == {"generator", "gen", "custom", "nz", "loss", "init", "n_train", "width", "depth", "train", "seed"}
    assert list(gan.splits) == ["test_in", "test_ood"] and gan.extras["perceptual"] is None
    pose = pose_setup(n_train=32, n_val=4, n_test=5)
    assert pose.theta_kind == "human_pose_theta" and list(pose.splits) == ["test_in", "test_partial", "test_ood"]
    y = pose.splits["test_partial"](0)
    assert ("test_partial", 0) in pose.extras["truth"] and (y[..., 2] == 0).any(), "hidden keypoints"
    assert cache_key(pose.theta_kind, pose.theta_key(8, 2, TRAIN, 0, None)).startswith("human_pose_theta-")


def test_random_theta_is_seeded():
    z = torch.randn(3, 5)
    assert torch.equal(random_theta(5, 8, 2, 7, "cpu")(z), random_theta(5, 8, 2, 7, "cpu")(z))


def test_band_plots(tmp_path):
    curves = {"baseline": [np.linspace(1, 0.1, 11), np.linspace(1, 0.2, 11)], "landscape": [np.linspace(1, 0.01, 11)] * 2,
              "other": [np.linspace(1, 0.5, 11)] * 2}
    comp = Comparison(10, [0, 1], {"baseline": 0.1, "landscape": 0.3}, curves={"test_in": curves})
    assert plot_curves(comp, tmp_path / "a.png", "mse").is_file()
    p = plot_grid({"robust accuracy": {"b1": curves}, "clean accuracy": {"b1": curves}}, tmp_path / "b" / "c.png",
                  lrs={"b1": {"baseline": 0.1}}, log=False, xscale="symlog", first=0,
                  hlines={("robust accuracy", "b1"): {"no defense": 0.5}}, higher_is_better=True)
    assert p.is_file()


def test_per_target_notes_speak_only_where_targets_and_the_mean_curve_disagree():
    from llcore.repro.notebook import per_target_notes
    pt = lambda med: {"n": 10, "median": med, "median_interval": [med - 0.1, med + 0.1], "mean": med,  # noqa: E731
                      "fraction_gain": 0.4, "fraction_loss": 0.6, "fraction_capped": 0.0, "level": 0.95}
    split = lambda curve, med: {"speedup_at": {"10": curve}, "speedup_per_target": {"baseline": {"10": pt(med)}}}  # noqa: E731
    m = {"splits": {"agree": split(2.0, 1.8), "sides": split(1.4, 0.9), "apart": split(4.0, 2.0)}}
    notes = per_target_notes(m)
    assert [n.split(",")[0] for n in notes] == ["**sides", "**apart"]
    assert "median 0.9 [0.8, 1]" in notes[0] and "against 1.4 on the mean curves" in notes[0]


def test_the_cpu_is_named_by_its_model_not_only_its_architecture():
    from pathlib import Path
    from llcore.repro.results import device_name
    name = device_name("cpu")
    assert name.startswith("cpu: ") and name.endswith(" threads")
    info = Path("/proc/cpuinfo")
    models = [ln.split(":", 1)[1].strip() for ln in (info.read_text().splitlines() if info.exists() else [])
              if ln.startswith("model name")]
    if models:
        assert models[0] in name
