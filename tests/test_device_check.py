"""benchmarks/device_check.py: it refuses to run without CUDA and leaves the record alone; it runs bench.py's quick
size on CUDA into runs/device_check/bench; the record's format."""
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "device_check.py"
spec = importlib.util.spec_from_file_location("device_check", SCRIPT)
device_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(device_check)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the check would really run")
def test_without_cuda_it_exits_2_and_keeps_the_record(tmp_path, capsys):
    record = tmp_path / "device_check.md"
    record.write_text("no GPU run verified yet\n")
    assert device_check.main(["--out", str(record)]) == 2
    assert "CUDA is not available here" in capsys.readouterr().err
    assert record.read_text() == "no GPU run verified yet\n" and not record.with_suffix(".json").exists()


def test_benchmark_step_runs_bench_quick_on_cuda_into_scratch(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):                     # stands in for bench.py: writes the metrics it would write
        calls.append(cmd)
        out = Path(cmd[cmd.index("--out") + 1])
        out.mkdir(parents=True)
        (out / "metrics.json").write_text(json.dumps({"per_model": [{"forward_model": "toy", "overhead": 0.031}]}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(device_check, "SCRATCH", tmp_path)
    monkeypatch.setattr(device_check.subprocess, "run", fake_run)
    result = device_check.benchmark()
    (cmd,) = calls
    assert Path(cmd[1]).name == "bench.py" and cmd[2:] == ["--quick", "--device", "cuda", "--out", str(tmp_path / "bench")]
    assert result["status"] == "ok" and result["detail"] == "toy: overhead +3.1%"


def test_record_names_the_gpu_versions_and_each_step():
    env = {"gpu": "NVIDIA H100", "gpu_count": 1, "torch": "2.14.1", "cuda": "12.8", "cudnn": 91000,
           "python": "3.11.9", "date": "2026-01-01T00:00:00+00:00", "git_sha": "abc1234"}
    steps = [device_check.step("smoke notebook 00_toy", "ok", 12.34),
             device_check.step(device_check.BENCH, "FAILED", 3.0, "RuntimeError: x")]
    text = device_check.format_record(env, steps, 15.3)
    assert "**NVIDIA H100**" in text and "torch 2.14.1, CUDA 12.8" in text and "git `abc1234`" in text
    assert "Result: 1 of 2 steps FAILED: benchmarks/bench.py --quick --device cuda." in text
    assert "| smoke notebook 00_toy " in text and "| 12.3 " in text and "RuntimeError: x" in text
