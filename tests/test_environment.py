"""Packaging: `pip install .` is the engine alone; the reproduction's exact set is the `repro` extra at the versions
of constraints/repro.txt, and conda's environment.yml installs the same thing as ./run_all.sh."""

import ast
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def test_the_engine_needs_only_torch_numpy_tqdm_and_pins_none():
    deps = project()["dependencies"]
    assert sorted(map(name, deps)) == ["numpy", "torch", "tqdm"]
    assert not any("==" in d for d in deps), "the engine declares ranges; exact pins live in constraints/repro.txt"


def test_the_engine_imports_nothing_else():
    # third-party imports of llcore/*.py (the engine): exactly what pyproject.toml declares
    third_party = set()
    for path in (ROOT / "llcore").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            third_party |= {m.split(".")[0] for m in mods}
    import sys
    third_party -= set(sys.stdlib_module_names) | {"llcore"}
    assert third_party == {"torch", "numpy", "tqdm"}, third_party


def test_the_reproduction_pins_the_torch_pair():
    pins = dict(line.split("==") for line in (ROOT / "constraints" / "repro.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    for req in project()["optional-dependencies"]["repro"]:       # every package of the extra has its version
        assert any(name(req) == k.lower().replace("_", "-") or name(req) == k.lower() for k in pins), req


def test_run_all_and_environment_yml_install_the_same():
    install = re.search(r"^INSTALL=\((.*)\)$", (ROOT / "run_all.sh").read_text(), re.M).group(1)
    assert install == '-c constraints/repro.txt -e ".[repro]"'
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip == ["-c constraints/repro.txt", "-e .[repro]"]
