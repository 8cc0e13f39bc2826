"""benchmarks/compare_metrics.py: timings and provenance never count, every other number does."""
import importlib.util
import json
from pathlib import Path

spec = importlib.util.spec_from_file_location("compare_metrics", Path(__file__).resolve().parents[1] / "benchmarks" / "compare_metrics.py")
cm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cm)


def write(folder: Path, metrics: dict) -> Path:
    (folder / "toy").mkdir(parents=True)
    (folder / "toy" / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_timings_are_ignored_and_numbers_are_not(tmp_path):
    base = {"splits": {"test_in": {"curves": {"baseline": {"1": 0.5}}, "speedup_seconds": 2.0}},
            "provenance": {"git_sha": "a"}}
    other_time = {"splits": {"test_in": {"curves": {"baseline": {"1": 0.5}}, "speedup_seconds": 3.0}},
                  "provenance": {"git_sha": "b"}}
    moved = {"splits": {"test_in": {"curves": {"baseline": {"1": 0.5000001}}, "speedup_seconds": 2.0}},
             "provenance": {"git_sha": "a"}}
    a, b, c = write(tmp_path / "a", base), write(tmp_path / "b", other_time), write(tmp_path / "c", moved)
    assert cm.compare_trees(a, b) == {"toy": []}
    assert cm.compare_trees(a, c) == {"toy": ["/splits/test_in/curves/baseline/1: 0.5 vs 0.5000001"]}
    assert cm.main([str(a), str(c)]) == 1 and cm.main([str(a), str(b)]) == 0
