"""benchmarks/bench.py: the amortization rule (llcore.repro.results.amortization, also read by the notebooks): when
θ's training cost is paid back; the side-by-side timing every speed ratio comes from."""
import importlib.util
from pathlib import Path

import pytest
import torch

spec = importlib.util.spec_from_file_location("bench", Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_break_even_repays_training_and_never_when_slower():
    from llcore.repro.results import amortization
    split = lambda sp: {"seconds_per_step": {"baseline": 0.05}, "budget_steps": 200, "speedup_seconds": sp}
    # baseline: 200 steps at 0.05 s for 100 targets = 10 s; landscape 2x faster in seconds saves 5 s / 100 targets
    a = amortization(split(2.0), train_seconds=500.0, n_targets=100)
    assert a["seconds_saved_per_target"] == pytest.approx(0.05) and a["break_even_inversions"] == pytest.approx(10_000)
    assert amortization(split(0.8), 500.0, 100)["break_even_inversions"] is None      # slower in seconds: never repaid
    assert amortization(split(1.0), 500.0, 100)["break_even_inversions"] is None


def test_batch_size_comes_from_the_named_run():
    # 01 runs two generators with different test batches (notebooks/params/default/01_gan_inversion.yaml)
    assert bench._n_test("01_gan_inversion", "mnist") == 128
    assert bench._n_test("01_gan_inversion", "faces") == 32


def test_interleaved_timing_alternates_the_order_and_pairs_the_repeats():
    calls = []
    runs = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = bench.interleaved(runs, torch.device("cpu"), repeats=3, calls=2)
    assert calls == ["a", "b"] + ["a", "a", "b", "b"] + ["b", "b", "a", "a"] + ["a", "a", "b", "b"]   # warm-up first
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3}
    assert bench.paired_ratio([2.0, 9.0, 3.0], [1.0, 3.0, 1.0]) == 3.0      # the median of 2, 3 and 3
