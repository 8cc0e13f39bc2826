"""llcore.repro.memory: a known allocation is measured as such, in the process and in a fresh child process."""
import sys

import pytest
import torch

from llcore.repro.memory import allocation, in_child, load_target, measure_peak

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")


@linux
def test_a_64_mib_allocation_is_measured_in_process():
    out = measure_peak(allocation(64))
    assert 60 <= out["peak_mib"] <= 80, out
    assert "clear_refs" in out["method"]


@linux
def test_a_64_mib_allocation_is_measured_in_a_child_process():
    out = in_child("llcore.repro.memory:allocation", {"mib": 64})
    assert 60 <= out["peak_mib"] <= 80 and out["process"] == "child", out


def test_a_failing_child_is_reported_with_its_error():
    with pytest.raises(RuntimeError, match="no_such_work"):
        in_child("llcore.repro.memory:no_such_work", {})
    with pytest.raises(ValueError, match="package.module:function"):
        load_target("llcore.repro.memory")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_peak_is_the_allocator_growth():
    out = measure_peak(allocation(64, "cuda"), "cuda")
    assert 63 <= out["peak_mib"] <= 65, out
