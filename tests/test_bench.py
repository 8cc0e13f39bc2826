"""The benchmark's amortization rule (benchmarks/bench.py): when θ's training cost is paid back."""
import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("bench", Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_break_even_repays_training_and_never_when_slower():
    # baseline: 200 steps at 0.05 s for 100 targets = 10 s; landscape 2x faster in seconds saves 5 s / 100 targets
    saved, n = bench.break_even(train_s=500.0, baseline_s_per_step=0.05, budget=200, speedup_seconds=2.0, n=100)
    assert saved == pytest.approx(0.05) and n == pytest.approx(10_000)
    assert bench.break_even(500.0, 0.05, 200, 0.8, 100)[1] is None          # slower in seconds: never repaid
    assert bench.break_even(500.0, 0.05, 200, 1.0, 100)[1] is None


def test_batch_size_comes_from_the_named_run():
    # 01 runs two generators with different test batches (notebooks/params/default/01_gan_inversion.yaml)
    assert bench._n_test("01_gan_inversion", "mnist") == 128
    assert bench._n_test("01_gan_inversion", "faces") == 32
