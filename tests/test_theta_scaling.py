"""notebooks/studies/theta_scaling.py: the smoke study on the toy (structure, a rerun that trains and measures
nothing, a resumption that redoes exactly what is missing with the same numbers, the figure) and its level table;
the grows / flat / falls rule it uses is tested in test_scaling.py."""
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("theta_scaling", ROOT / "notebooks" / "studies" / "theta_scaling.py")
ts = importlib.util.module_from_spec(_spec)
sys.modules["theta_scaling"] = ts        # its dataclasses look their module up
_threads = torch.get_num_threads()
_spec.loader.exec_module(ts)            # the study pins torch to one thread (its cache keys hold the count)
torch.set_num_threads(_threads)


def files(folder: Path) -> set:
    """Every file under `folder`, relative, with its size and modification time."""
    return {(p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def run(out: Path, log: list, **kw) -> dict:
    torch.set_num_threads(1)
    try:
        return ts.study(["toy"], "smoke", out=out, log=log.append, **kw)
    finally:
        torch.set_num_threads(_threads)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke study on the toy, run once into a tmp folder with its own artifact cache:
    (out, cache, metrics, log lines)."""
    tmp = tmp_path_factory.mktemp("theta_scaling")
    out, cache = tmp / "out", tmp / "cache"
    mp = pytest.MonkeyPatch()
    mp.setenv("LLCORE_CACHE", str(cache))
    log = []
    try:
        metrics = run(out, log)
        yield out, cache, metrics, log
    finally:
        mp.undo()


def test_smoke_metrics_structure(smoke):
    out, _, m, log = smoke
    assert json.loads((out / "metrics.json").read_text()) == m
    assert m["experiment"] == "theta_scaling" and m["profile"] == "smoke" and m["seeds"] == list(ts.SEEDS)
    assert {"git_sha", "packages", "device", "started", "wall_seconds"} <= set(m["provenance"])
    toy = m["problems"]["toy"]
    assert toy["settings"]["families"] == [f.label for f in ts.compare.FAMILIES]       # toy: L-BFGS searched too
    levels = toy["levels"]
    assert list(levels) == list(ts.LEVELS) and len(levels) >= 4
    r = [lv["rollouts"] for lv in levels.values()]
    assert all(isinstance(x, int) for x in r) and max(r) / min(r) >= 16
    assert [name for name, lv in levels.items() if lv["default"]] == [ts.DEFAULT_LEVEL]
    assert levels[ts.DEFAULT_LEVEL]["train"] == toy["settings"]["train_default"]
    budget = str(toy["settings"]["budget"])
    for lv in levels.values():
        assert lv["rollouts"] == lv["rounds"] * lv["batch_size"]
        assert [s["seed"] for s in lv["seeds"]] == list(ts.SEEDS)
        for s in lv["seeds"]:
            t = lv["train"]
            assert s["f_evaluations"] == t["rounds"] * (t["inner_steps"] * t["batch_size"]
                                                        + t["theta_steps"] * t["theta_batch"])
            assert s["train_seconds"] > 0
            assert set(s["splits"]) == {"test_in", "test_ood"}
            for split in s["splits"].values():
                land, ref = split["landscape"]["metric_at"], split["against"]["reference"]
                assert set(land) == {"10", budget}
                for n in ("10", budget):
                    assert math.isclose(ref["gain_at"][n], ref["metric_at"][n] / land[n])
                sp = ref["speedup_10"]
                assert sp["median_interval"][0] <= sp["median"] <= sp["median_interval"][1]
                assert sp["n"] == toy["settings"]["n_test"]
    assert set(toy["references"]) == {str(s) for s in ts.SEEDS}
    assert m["trend"]["toy"]["verdict"] in ("grows", "flat", "falls")
    assert sum("toy_theta: built" in line for line in log) == len(ts.LEVELS) * len(ts.SEEDS)


def test_figure_written(smoke):
    out = smoke[0]
    png = out / "figures" / "toy.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_with_everything_cached_trains_and_measures_nothing(smoke):
    out, cache, m, _ = smoke
    before, parts = files(cache), files(out / "parts")
    log = []
    again = run(out, log)
    assert files(cache) == before and files(out / "parts") == parts           # nothing trained, nothing rewritten
    assert sum("measured already" in line for line in log) == len(ts.LEVELS) * len(ts.SEEDS)
    assert not any("built" in line or "loaded from cache" in line for line in log)
    assert again["problems"]["toy"]["levels"] == m["problems"]["toy"]["levels"]


def test_resume_redoes_only_what_is_missing_with_the_same_numbers(smoke):
    out, cache, m, _ = smoke
    part = ts.part_path(out, "toy", "x4", 1)
    old = json.loads(part.read_text())
    theta_file = cache / f"{old['numbers']['theta_cache_key']}.pt"
    assert theta_file.is_file()
    part.unlink()                 # as if the run had stopped while θ (x4, seed 1) trained
    theta_file.unlink()
    log = []
    again = run(out, log)
    assert sum("toy_theta: built" in line for line in log) == 1                 # that θ only
    assert sum("measured already" in line for line in log) == len(ts.LEVELS) * len(ts.SEEDS) - 1
    new = json.loads(part.read_text())["numbers"]
    drop = ("train_seconds", "measure_seconds")                                # wall clock, not numbers
    assert {k: v for k, v in new.items() if k not in drop} == {k: v for k, v in old["numbers"].items() if k not in drop}
    assert again["problems"]["toy"]["levels"]["x4"]["seeds"][1]["splits"] == new["splits"]


def test_level_table_and_training_count():
    base = {"rounds": 150, "batch_size": 64, "inner_steps": 20, "theta_steps": 20, "theta_batch": 256, "inner_lr": 0.1}
    trains = {lv: ts.level_train(base, lv) for lv in ts.LEVELS}
    assert trains[ts.DEFAULT_LEVEL] == base
    r = sorted(ts.rollouts(t) for t in trains.values())
    assert len(r) >= 4 and r[-1] / r[0] >= 16 and ts.rollouts(base) in r
    assert ts.f_evaluations(base) == 150 * (20 * 64 + 20 * 256)
    assert ts.f_evaluations(base, rounds=3) == 3 * (20 * 64 + 20 * 256)
    with pytest.raises(ValueError, match="unknown level 'x3'.*x1/4"):
        ts.level_train(base, "x3")


def test_smoke_table_spans_sixteen_fold_for_every_problem():
    for name, smoke in ts.SMOKE.items():
        base = {"rounds": smoke["rounds"], "batch_size": smoke["batch_size"]}
        r = [ts.rollouts(ts.level_train(base, lv)) for lv in ts.LEVELS]
        assert len(set(r)) >= 4 and max(r) / min(r) >= 16, name


def test_unknown_problem_or_level_is_a_clear_error(capsys):
    with pytest.raises(ValueError, match="unknown problem.*'cifar'.*mnist, faces, pose, toy"):
        ts.check_names(["toy", "cifar"], ["x1"])
    with pytest.raises(ValueError, match="unknown level"):
        ts.check_names(["toy"], ["x2"])
    with pytest.raises(ValueError, match="≥ 2 seeds"):
        ts.study(["toy"], "smoke", seeds=[0])
    assert ts.main(["cifar"]) == 2 and "unknown problem" in capsys.readouterr().err


def test_theta_is_the_notebooks_and_resumes_from_its_checkpoint(tmp_path, monkeypatch, capfd):
    """The study's θ is the artifact the notebooks' trained_theta builds (same kind, key and weights), and a θ whose
    training stopped after 2 rounds resumes from its checkpoint to the same weights."""
    from llcore.config import TrainConfig
    from llcore.repro.cache import cache_key
    from llcore.repro.notebook import trained_theta
    from llcore.seeding import set_seed
    from llcore.trainer import Trainer
    torch.set_num_threads(1)
    try:
        p = ts.parameters("toy", "smoke")
        setup = ts.build_setup("toy", p)
        train = ts.level_train(ts.notebook_train("toy", p), "x4")
        key = setup.theta_key(p["theta_width"], p["theta_depth"], train, 1, None)
        monkeypatch.setenv("LLCORE_CACHE", str(tmp_path / "notebook"))
        mine_nb, art_nb = trained_theta(setup.theta_kind, key, lambda: setup.theta(p["theta_width"], p["theta_depth"]),
                                        setup.problem, setup.y_train, train, 1, "cpu", progress=False)
        monkeypatch.setenv("LLCORE_CACHE", str(tmp_path / "study"))
        name = cache_key(setup.theta_kind, key)
        set_seed(1)                           # an interrupted run: 2 of the rounds, checkpointed
        Trainer(setup.problem, setup.theta(p["theta_width"], p["theta_depth"]), setup.y_train,
                TrainConfig(**{**train, "rounds": 2}, seed=1, checkpoint_every=ts.CHECKPOINT_EVERY),
                checkpoint_path=ts.checkpoint_path(name)).train(progress=False)
        capfd.readouterr()
        theta, art, got = ts.trained_theta(setup, p, train, 1, log=lambda line: None)
        err = capfd.readouterr().err
        assert "resuming θ training" in err and "at round 2 of" in err
    finally:
        torch.set_num_threads(_threads)
    assert got == name
    assert (tmp_path / "study" / f"{name}.pt").is_file() and (tmp_path / "notebook" / f"{name}.pt").is_file()
    assert not ts.checkpoint_path(name).exists()                               # removed once θ is cached
    assert len(art["history"]) == train["rounds"] == len(art_nb["history"])
    assert all(torch.equal(a, b) for a, b in zip(theta.state_dict().values(), mine_nb.state_dict().values()))


def test_estimate_scales_the_default_seconds_by_the_f_evaluations():
    e = ts.estimate("mnist", 100.0, seeds=2)                 # 01's mnist: T·batch = K·theta_batch = 1280 per round
    assert math.isclose(e[ts.DEFAULT_LEVEL], 200.0)
    assert math.isclose(e["x16"], 200.0 * 4 * (20 * 256 + 20 * 64) / (20 * 64 + 20 * 64))
    assert math.isclose(e["total"], sum(v for k, v in e.items() if k != "total"))
