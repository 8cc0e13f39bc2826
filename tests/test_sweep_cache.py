import pytest
import torch

from llcore.repro.cache import cached
from llcore.sweep import score_curve, sweep_lr


def test_sweep_picks_the_best_lr_and_survives_divergence(toy):
    p, y = toy
    lr, rows = sweep_lr(p, y, [1e-4, 0.1, 1e6], steps=30)
    assert lr == 0.1 and len(rows) == 3
    assert score_curve(torch.tensor([1.0, float("nan")])) == float("inf")
    with pytest.raises(ValueError, match="criterion"):
        score_curve(torch.ones(3), "median")


def test_cache_builds_once_and_rebuilds_a_corrupt_file(tmp_path):
    calls = []
    build = lambda: calls.append(1) or {"w": torch.ones(2)}
    a = cached("thing", {"n": 1}, build, tmp_path, log=lambda s: None)
    b = cached("thing", {"n": 1}, build, tmp_path, log=lambda s: None)
    assert len(calls) == 1 and torch.equal(a["w"], b["w"])
    cached("thing", {"n": 2}, build, tmp_path, log=lambda s: None)
    assert len(calls) == 2                                   # another configuration, another artifact
    for f in tmp_path.glob("thing-*.pt"):
        f.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="corrupt"):
        cached("thing", {"n": 1}, build, tmp_path, log=lambda s: None)
    assert len(calls) == 3


def test_cache_key_follows_the_engine_and_tasks_not_the_harness(tmp_path):
    import shutil
    from llcore.repro.cache import PACKAGE, code_version
    pkg = tmp_path / "llcore"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_version(pkg)
    assert before == code_version(PACKAGE)
    for harness_file in ("repro/runner.py", "repro/report.py"):
        (pkg / harness_file).write_text((pkg / harness_file).read_text() + "\n# edited\n")
    assert code_version(pkg) == before                       # the harness does not retrain θ
    (pkg / "trainer.py").write_text((pkg / "trainer.py").read_text() + "\n# edited\n")
    after_engine = code_version(pkg)
    assert after_engine != before                            # the engine does
    (pkg / "tasks" / "gan.py").write_text((pkg / "tasks" / "gan.py").read_text() + "\n# edited\n")
    assert code_version(pkg) not in (before, after_engine)  # and so do the tasks
