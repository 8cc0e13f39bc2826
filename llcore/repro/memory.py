"""Peak memory of one piece of work (e.g. a few rounds of θ training), measured apart from what the process held before.

    CUDA:  peak = torch.cuda.max_memory_allocated() after torch.cuda.reset_peak_memory_stats(), less the bytes
           allocated just before the work (the caching allocator's own peak, per device).
    CPU:   peak = VmHWM − VmRSS_before, read from /proc/self/status, with the high-water mark VmHWM reset by
           writing 5 to /proc/self/clear_refs (Linux >= 4.0) just before the work: the growth of the resident set.
           Where the mark cannot be reset, ru_maxrss growth is used, which misses a peak lower than an earlier one;
           `method` says which.

A process's resident set also holds memory that earlier work freed but the allocator kept, which later work reuses
without growing it, so on the CPU `in_child` runs the set-up and the work in a fresh Python process. The work is
named as "package.module:function" plus JSON-able keyword arguments: the function does the set-up and returns a
callable doing the work, so only the work is measured.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import torch

MIB = 2 ** 20
_MARK = "LLCORE_MEMORY_RESULT "


# helpers

def _status_kib(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def _reset_high_water_mark() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _ru_maxrss_bytes() -> int:
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024     # bytes on macOS, KiB on Linux


# measuring

def measure_peak(work: Callable[[], object], device="cpu") -> dict:
    """Run work() and return {"peak_mib": growth of memory during it, "method": how it was measured}."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        work()
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device) - before
        return {"peak_mib": peak / MIB, "method": "torch.cuda.max_memory_allocated growth"}
    if Path("/proc/self/status").exists() and _reset_high_water_mark():
        before = _status_kib("VmRSS")
        work()
        return {"peak_mib": (_status_kib("VmHWM") - before) / 1024,
                "method": "peak RSS growth (VmHWM reset through /proc/self/clear_refs)"}
    before = _ru_maxrss_bytes()
    work()
    return {"peak_mib": (_ru_maxrss_bytes() - before) / MIB,
            "method": "ru_maxrss growth (a lower bound: misses peaks below the process's earlier peak)"}


def load_target(target: str) -> Callable:
    """'package.module:function' → the function."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"target must look like 'package.module:function', got {target!r}")
    return getattr(importlib.import_module(module), name)


def in_child(target: str, kwargs: dict, device="cpu", timeout: float = 900) -> dict:
    """measure_peak of load_target(target)(**kwargs, device=device)() in a fresh Python process (same interpreter,
    same llcore); returns its {"peak_mib", "method"} plus "process": "child"."""
    root = str(Path(__file__).resolve().parents[2])             # so the child imports this very llcore
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    spec = json.dumps({"target": target, "kwargs": kwargs, "device": str(device)})
    proc = subprocess.run([sys.executable, "-m", "llcore.repro.memory"], input=spec, capture_output=True, text=True,
                          env=env, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(_MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"memory measurement of {target} failed in the child process "
                           f"(exit status {proc.returncode}):\n{tail}")
    return {**json.loads(lines[-1][len(_MARK):]), "process": "child"}


def allocation(mib: int, device="cpu") -> Callable[[], None]:
    """A reference work for checking the measurement: allocate and touch `mib` MiB, then free it."""
    def work():
        block = torch.ones(int(mib) * MIB // 4, dtype=torch.float32, device=device)
        del block
    return work


def _main() -> None:
    spec = json.loads(sys.stdin.read())
    work = load_target(spec["target"])(**spec["kwargs"], device=spec["device"])
    print(_MARK + json.dumps(measure_peak(work, spec["device"])), flush=True)


if __name__ == "__main__":
    _main()
