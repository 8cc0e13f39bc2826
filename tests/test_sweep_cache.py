import pytest
import torch

from llcore.repro.cache import cache_key, cached
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


def test_a_best_lr_at_the_grid_edge_extends_the_grid_or_is_flagged(toy):
    p, y = toy
    with pytest.warns(UserWarning, match="edge of the grid"):
        lr, rows = sweep_lr(p, y, [1e-4, 3e-4], steps=30, extend=0)         # far too small: the top edge wins
    assert lr == 3e-4 and [r["at_edge"] for r in rows] == [False, True]
    lr2, rows2 = sweep_lr(p, y, [1e-4, 3e-4], steps=30, extend=2)          # grown past the edge: 9e-4, 2.7e-3
    assert [round(r["lr"], 7) for r in rows2] == [1e-4, 3e-4, 9e-4, 2.7e-3] and lr2 > 3e-4
    assert sum(r["added"] for r in rows2) == 2


def test_an_unstable_lr_is_not_chosen():
    from llcore.sweep import is_stable
    assert is_stable(torch.tensor([1.0, 0.5, 0.2, 0.21]))
    assert not is_stable(torch.tensor([1.0, 0.1, 0.05, 0.9]))          # back most of the way up: oscillating
    assert not is_stable(torch.tensor([1.0, 2.0, 4.0, 8.0]))            # diverging


def _build_slowly(folder: str, counter: str) -> None:
    import time
    from llcore.repro.cache import cached

    def build():
        with open(counter, "a") as f:
            f.write("built\n")
        time.sleep(3.0)          # long beside the jitter of two processes starting: without the lock both build
        return {"value": 1}
    cached("shared_artifact", {"k": 1}, build, folder=folder, log=lambda msg: None)


def test_two_processes_asking_at_once_build_a_shared_artifact_once(tmp_path):
    import multiprocessing as mp
    counter = tmp_path / "builds.txt"
    procs = [mp.get_context("spawn").Process(target=_build_slowly, args=(str(tmp_path), str(counter))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert counter.read_text().count("built") == 1


def test_cache_key_records_the_thread_count():
    """The same build on 1 and on 2 threads gives different floats, so the two never share a cache entry."""
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = cache_key("x", {"a": 1})
        torch.set_num_threads(2)
        two = cache_key("x", {"a": 1})
    finally:
        torch.set_num_threads(n)
    assert one != two and one.startswith("x-")
