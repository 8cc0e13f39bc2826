"""Every `./run_all.sh` example in the README, in docs/*.md and in `run_all.sh --help` names notebooks, runs and parameters that
exist: each is planned exactly as the runner plans it before executing anything (names checked, nothing run)."""
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from llcore.repro import runner

ROOT = Path(__file__).resolve().parents[1]


PLACEHOLDER = re.compile(r"^[A-Z_]+$|\[|\|")     # NN, KEY, [--only NAME], smoke|default: a syntax line, not an example


def readme_commands() -> list[str]:
    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    found = re.findall(r"(?m)^\s*(\./run_all\.sh[^#\n]*)", text)          # lines of code blocks
    found += re.findall(r"`(\./run_all\.sh[^`]*)`", text)                  # inline code
    commands = {c.strip() for c in found}
    return sorted(c for c in commands if not any(PLACEHOLDER.search(a) for a in shlex.split(c)[1:]))


def help_text() -> str:
    return subprocess.run(["bash", str(ROOT / "run_all.sh"), "--help"], capture_output=True, text=True,
                          check=True).stdout


def plan(args: list[str]) -> list:
    """What `./run_all.sh ARGS` would run; raises runner.UsageError for an unknown notebook, run or parameter."""
    profile, only, run_name, pairs = "default", None, None, []
    it = iter(args)
    for a in it:
        if a == "--profile":
            profile = next(it)
        elif a == "--only":
            only = next(it)
        elif a == "--run":
            run_name = next(it)
        elif a == "--jobs":
            assert int(next(it)) >= 1
        elif a == "-p":
            pairs.append([next(it), next(it)])
        elif a in ("--test", "--bench", "-h", "--help"):
            return []
        else:
            raise AssertionError(f"not an option of run_all.sh: {a}")
    notebooks = runner.select(runner.discover(ROOT / "notebooks"), only)
    runs = runner.plan_runs(notebooks, ROOT / "notebooks" / "params", profile, runner.parse_cli_params(pairs))
    return runner.select_runs(runs, run_name)


@pytest.mark.parametrize("command", readme_commands())
def test_readme_example_plans(command):
    plan(shlex.split(command)[1:])          # asset paths are not opened: only names are checked


def test_help_examples_plan():
    text = help_text()
    for pairs in re.findall(r"((?:-p [a-z_]+ (?:'[^']*'|\S+)\s*)+)", text):
        plan(shlex.split(pairs))                              # -p applies to every notebook of a full run
    for only, run in re.findall(r"--only (\S+) --run (\S+)", text):
        assert plan(["--only", only, "--run", run])


def test_a_wrong_example_would_fail():
    with pytest.raises(runner.UsageError, match="unknown parameter 'n_steps'"):
        plan(["-p", "n_steps", "50"])
