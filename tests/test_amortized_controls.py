"""llcore.repro.amortized_controls: E is cached per seed, the searches run once (first seed) and apply to every split
and seed, the pooled numbers are over every (seed, target), and the table has one row per split, step and method."""
import torch

from llcore import compare
from llcore.compare_amortized import AMORTIZED_METHODS
from llcore.repro import amortized_controls as A
from test_amortized import bent_theta, linear


def test_the_section_pools_seeds_and_keeps_the_first_seeds_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("LLCORE_CACHE", str(tmp_path))
    problem, ((_, y_train), (_, y_val), (_, y_a), (_, y_b)) = linear()
    splits = {"test_in": lambda s: y_a if s == 0 else y_b, "test_ood": lambda s: 2 * (y_a if s == 0 else y_b)}
    torch.manual_seed(1)
    thetas = {0: bent_theta(), 1: bent_theta()}
    kw = dict(families=(compare.FIRST_ORDER[0],), grid=(0.1,), regressor=dict(width=16, depth=2, steps=20))
    section = A.amortized_section(problem, y_train, y_val, splits, thetas, [0, 1], (2, 4), "lin", {"p": 1}, **kw)
    assert set(section["splits"]) == {"test_in", "test_ood"} and set(section["settings"]) == {"2", "4"}
    assert len(section["regressor"]["train_seconds"]) == 2 and section["regressor"]["f_evaluations"] == 20 * 64
    for by_step in section["splits"].values():
        for n, by_method in by_step.items():
            assert set(by_method) == set(AMORTIZED_METHODS)
            alt = by_method[section["alternative"][n]]["versus"]
            assert alt["median"] == 1.0 and alt["fraction_better"] == 0.0      # the alternative against itself
    again = A.amortized_section(problem, y_train, y_val, splits, thetas, [0, 1], (2, 4), "lin", {"p": 1}, **kw)
    strip = lambda sec: {k: {n: {m: {f: v for f, v in o.items() if f != "seconds"} for m, o in bm.items()}  # noqa: E731
                             for n, bm in bs.items()} for k, bs in sec["splits"].items()}
    assert strip(again) == strip(section)                     # E loaded from the cache: the same numbers
    table = A.amortized_table(section)
    assert len(table) == 2 * 2 * len(AMORTIZED_METHODS) and table["mean"].notna().all()


def test_the_controls_searches_are_reused_when_their_families_match(tmp_path, monkeypatch):
    import pandas as pd
    from llcore.repro.controls import Controls
    monkeypatch.setenv("LLCORE_CACHE", str(tmp_path))
    problem, ((_, y_train), (_, y_val), (_, y_a), _) = linear()
    adam = compare.FIRST_ORDER[0]
    row = lambda name, start, steps, lr: {"method": name, "family": adam.label, "start": start, "steps": steps,  # noqa
                                          "lr": lr, "score": 1.0, "stable": True, "chosen": True,
                                          "best_of_family": True}
    base = "the baseline's start"
    rows = [row("strongest_x_10", base, 10, 0.0777), row("strongest_x", base, 20, 0.0555),
            row("landscape_10", "θ's start", 10, 0.0333)]
    choices = {r["method"]: {"family": adam.label, "lr": r["lr"], "start": r["start"]} for r in rows}
    ctl = Controls([], {}, {}, pd.DataFrame(rows), choices, {base: None}, (adam,), 20)
    kw = dict(families=(adam,), grid=(0.1,), regressor=dict(width=16, depth=2, steps=20))
    section = A.amortized_section(problem, y_train, y_val, {"test_in": lambda s: y_a}, {0: bent_theta()}, [0],
                                  (10, 20), "lin", {"p": 1}, controls=ctl, **kw)
    lrs = {n: {m: s["lr"] for m, s in by.items()} for n, by in section["settings"].items()}
    assert (lrs["10"]["strongest_x"], lrs["20"]["strongest_x"], lrs["10"]["landscape"]) == (0.0777, 0.0555, 0.0333)
    assert len(section["reused_from_controls"]) == 3
    other = A.amortized_section(problem, y_train, y_val, {"test_in": lambda s: y_a}, {0: bent_theta()}, [0], (10, 20),
                                "lin", {"p": 1}, controls=ctl, **{**kw, "families": compare.FIRST_ORDER[:2]})
    assert other["reused_from_controls"] == [] and other["settings"]["10"]["strongest_x"]["lr"] != 0.0777
