"""environment.yml (conda) installs exactly what pyproject.toml (pip, ./run_all.sh) does."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pyproject_dependencies() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["dependencies"]


def environment_pip_dependencies() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one `pip:` section under dependencies"
    return pip_sections[0]


def test_environment_pip_list_matches_pyproject():
    env = environment_pip_dependencies()
    assert "-e ." in env, "environment.yml's pip list must end with `-e .` to install llcore itself"
    env_set, project_set = set(env) - {"-e ."}, set(pyproject_dependencies())
    assert env_set == project_set, (
        "environment.yml and pyproject.toml disagree; "
        f"only in environment.yml: {sorted(env_set - project_set)}, "
        f"only in pyproject.toml: {sorted(project_set - env_set)}"
    )


def test_torch_pair_is_pinned():
    for deps, where in [(pyproject_dependencies(), "pyproject.toml"),
                        (environment_pip_dependencies(), "environment.yml")]:
        assert "torch==2.14.1" in deps, f"{where} must pin torch==2.14.1"
        assert "torchvision==0.29.1" in deps, f"{where} must pin torchvision==0.29.1"
