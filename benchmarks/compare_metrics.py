"""Compare two results trees' metrics.json files number by number, ignoring timings and provenance.

    python benchmarks/compare_metrics.py BEFORE_DIR AFTER_DIR [--rtol 0]

BEFORE_DIR and AFTER_DIR are results/<profile>/ folders (one sub-folder per experiment). A refactor that must
not move any number (moving modules, thinning notebooks) passes when this prints "identical" and exits 0.
Ignored, since two runs never take the same time or memory: any key naming wall-clock time (…seconds…, wall,
started, time), provenance, the quantities derived from seconds (amortization, break-even), measured peak memory
(…peak…, …memory…), durations written inside text ("…, 7 s)"), and artifact cache keys (they hash the code).
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

TIMING = re.compile(r"second|wall|started|provenance|amortization|break_even|^time|peak|memory|^cache$", re.I)
DURATION = re.compile(r"\b\d+(\.\d+)? ?(s|min|ms)\b")


def differences(a, b, path: str = "", rtol: float = 0.0) -> list[str]:
    """Where two parsed JSON values differ (timing keys skipped); [] when they agree."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if TIMING.search(k):
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'after' if k not in a else 'before'}")
            else:
                out += differences(a[k], b[k], f"{path}/{k}", rtol)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]", rtol)]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        same = a == b or (rtol > 0 and math.isclose(a, b, rel_tol=rtol))
        return [] if same else [f"{path}: {a!r} vs {b!r}"]
    if isinstance(a, str) and isinstance(b, str) and DURATION.sub("#", a) == DURATION.sub("#", b):
        return []
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def compare_trees(before: Path, after: Path, rtol: float = 0.0) -> dict[str, list[str]]:
    """experiment -> its differences, for every metrics.json under either folder."""
    names = sorted({p.parent.name for d in (before, after) for p in d.glob("*/metrics.json")})
    out = {}
    for name in names:
        a, b = before / name / "metrics.json", after / name / "metrics.json"
        if not (a.is_file() and b.is_file()):
            out[name] = [f"metrics.json only in {'before' if a.is_file() else 'after'}"]
            continue
        out[name] = differences(json.loads(a.read_text()), json.loads(b.read_text()), "", rtol)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (default: exact)")
    args = ap.parse_args(argv)
    result = compare_trees(args.before, args.after, args.rtol)
    if not result:
        print(f"no metrics.json under {args.before} or {args.after}")
        return 1
    for name, diffs in result.items():
        print(f"{name}: {'identical' if not diffs else f'{len(diffs)} differences'}")
        for d in diffs[:20]:
            print(f"    {d}")
    return 1 if any(result.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
