"""Device check: does this checkout run on this GPU? A few minutes, before any paper-scale run.

Steps: every smoke-profile notebook run with `device: cuda` (as `./run_all.sh --profile smoke -p device cuda`
would run them), notebook 02's paper path on stand-in files (llcore.repro.synthetic), then benchmarks/bench.py on
CUDA at its quick size (--quick: 5 steps, 1 repeat). Each step is
recorded as ok or FAILED with its seconds in results/device_check.md and results/device_check.json, with the GPU
name, torch, CUDA and cuDNN versions, the date and the git commit. Executed notebooks go to runs/device_check/,
the benchmark's own files to runs/device_check/bench/ (both git-ignored).

    .venv/bin/python benchmarks/device_check.py      # exit 0: every step passed; 1: a step failed

Without CUDA it says so and exits 2 without touching the record. Any Python with the project's dependencies
will do: the checkout is put on PYTHONPATH for the notebooks and the benchmark.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from llcore.repro import runner  # noqa: E402
from llcore.repro.io import atomic_write_json, atomic_write_text  # noqa: E402
from llcore.repro.report import markdown_table  # noqa: E402
from llcore.repro.results import git_sha, now  # noqa: E402

RECORD = ROOT / "results" / "device_check.md"
SCRATCH = ROOT / "runs" / "device_check"


# helpers

def environment() -> dict:
    """What ran the check: GPU, versions, date, commit."""
    return {"gpu": torch.cuda.get_device_name(0), "gpu_count": torch.cuda.device_count(),
            "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "python": sys.version.split()[0],
            "date": now(), "git_sha": git_sha(ROOT) or "unknown"}


def step(name: str, status: str, seconds: float, detail: str = "") -> dict:
    return {"step": name, "status": status, "seconds": round(seconds, 1), "detail": detail}


# the steps

def smoke_notebooks() -> list[dict]:
    """Every smoke run of every notebook with device cuda, executed like the runner does."""
    notebooks_dir = ROOT / "notebooks"
    runs = runner.plan_runs(runner.discover(notebooks_dir), notebooks_dir / "params", "smoke", {"device": "cuda"})
    steps = []
    for run in runs:
        print(f"smoke {run.label} on cuda ...", flush=True)
        r = runner.execute_run(run, SCRATCH, notebooks_dir)
        detail = f"{r.failed_cell}: {runner.short(r.error, 200)}" if r.status != "ok" else ""
        steps.append(step(f"smoke notebook {run.label}", r.status, r.seconds, detail))
        print(f"  {r.status} in {r.seconds:.1f} s {detail}", flush=True)
    return steps


def paper_defense() -> dict:
    """Notebook 02's paper path (RobustBench WideResNet by file, CIFAR-10 folder, the base method's settings) at its
    smallest size on cuda, on stand-in files written by llcore.repro.synthetic (a random WRN-10-1, random images):
    it checks that the path runs on the GPU, not what it measures."""
    from llcore.repro.synthetic import STEM, paper_smoke_files, paper_smoke_parameters
    work = SCRATCH / "paper_defense"
    if work.exists():
        import shutil
        shutil.rmtree(work)
    cifar_root, model_dir = paper_smoke_files(work)
    params = paper_smoke_parameters(cifar_root, model_dir, work / "out", device="cuda")
    print("02 paper path (synthetic files) on cuda ...", flush=True)
    nb = ROOT / "notebooks" / f"{STEM}.ipynb"
    r = runner.execute_run(runner.Run(nb, "paper_synthetic", params), SCRATCH, ROOT / "notebooks")
    detail = f"{r.failed_cell}: {runner.short(r.error, 200)}" if r.status != "ok" else "random WRN-10-1, random images"
    return step("02 paper path on synthetic files", r.status, r.seconds, detail)


BENCH = "benchmarks/bench.py --quick --device cuda"


def benchmark() -> dict:
    """benchmarks/bench.py --quick on cuda, files in runs/device_check/bench; ok when it exits 0, with each forward
    model's llcore overhead (a check that it runs: quick numbers are not ones to quote) as detail."""
    out = SCRATCH / "bench"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--device", "cuda", "--out", str(out)]
    print("benchmark on cuda (quick) ...", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]   # the exception
        return step(BENCH, "FAILED", seconds, runner.short(last, 200))
    rows = json.loads((out / "metrics.json").read_text())["per_model"]
    detail = "; ".join(f"{r['forward_model']}: overhead {r['overhead']:+.1%}" for r in rows)
    return step(BENCH, "ok", seconds, detail)


# the record

def format_record(env: dict, steps: list[dict], total_seconds: float) -> str:
    """results/device_check.md from the environment and the steps."""
    failed = [s for s in steps if s["status"] != "ok"]
    verdict = (f"all {len(steps)} steps passed" if not failed else
               f"{len(failed)} of {len(steps)} steps FAILED: {', '.join(s['step'] for s in failed)}")
    rows = [[s["step"], s["status"], f"{s['seconds']:.1f}", s["detail"]] for s in steps]
    return (f"# Device check\n\nRun by `benchmarks/device_check.py` on **{env['gpu']}** ({env['gpu_count']} GPU), "
            f"torch {env['torch']}, CUDA {env['cuda']}, cuDNN {env['cudnn']}, Python {env['python']}, "
            f"{env['date']}, git `{env['git_sha']}`, {total_seconds:.0f} s in all.\n\n"
            f"Result: {verdict}.\n\n{markdown_table(['step', 'status', 'seconds', 'detail'], rows)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(RECORD), help="the Markdown record; the JSON goes next to it")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print(f"device check: CUDA is not available here (torch {torch.__version__}, built for CUDA "
              f"{torch.version.cuda or 'none'}), so there is nothing to check; {args.out} is left as it was. "
              "Run this on a machine with an NVIDIA GPU.", file=sys.stderr)
        return 2
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # kernels
    env, start = environment(), time.perf_counter()
    print(f"device check on {env['gpu']}, torch {env['torch']}, CUDA {env['cuda']}, git {env['git_sha']}", flush=True)
    steps = smoke_notebooks() + [paper_defense(), benchmark()]
    total = time.perf_counter() - start
    out = Path(args.out)
    atomic_write_json(out.with_suffix(".json"), {**env, "total_seconds": round(total, 1), "steps": steps})
    atomic_write_text(out, format_record(env, steps, total))
    print(f"\n{format_record(env, steps, total)}\nwrote {out} and {out.with_suffix('.json')}")
    return 0 if all(s["status"] == "ok" for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
