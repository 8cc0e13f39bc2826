"""The experiment registry is the one list the documents and the benchmark read."""
import json
from pathlib import Path

import yaml

from llcore.repro import registry

ROOT = Path(__file__).resolve().parent.parent


def test_every_notebook_has_an_entry_and_every_entry_a_notebook():
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted({e.notebook for e in registry.EXPERIMENTS}) == stems
    assert [nb.stem for nb in registry.notebooks()] == stems and all(nb.shows for nb in registry.notebooks())


def test_each_entry_names_a_run_of_its_params_file_and_the_results_it_writes():
    for e in registry.EXPERIMENTS:
        path = ROOT / "notebooks" / "params" / "default" / f"{e.notebook}.yaml"
        params = yaml.safe_load(path.read_text()) if path.exists() else {}
        runs = [r["run_name"] for r in (params or {}).get("runs", [])]
        if e.run is None:
            assert not runs, f"{e.name}: {e.notebook} has runs {runs}; name the one that writes it"
        else:
            assert e.run in runs, f"{e.name}: no run {e.run!r} in {e.notebook}'s default params"
        metrics = ROOT / "results" / "default" / e.name / "metrics.json"
        assert json.loads(metrics.read_text())["experiment"] == e.name
        assert all(c.experiment == e.name for c in e.columns)
    committed = {p.parent.name for p in (ROOT / "results" / "default").glob("*/metrics.json")}
    assert set(registry.ORDER) <= committed


def test_the_benchmark_times_every_registered_forward_model():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert list(bench.MODELS) == list(registry.BENCH) and all(callable(b) for b, _ in bench.MODELS.values())
