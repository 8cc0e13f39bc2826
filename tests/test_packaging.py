"""What `pip install .` ships: the engine alone (llcore/*.py), importing only the standard library, torch, numpy, tqdm
and llcore itself, with no docstring, comment or message that points at a file outside the package.

llcore/tasks/ and llcore/repro/ stay in the repository for the reproduction: ./run_all.sh's editable install maps
the top-level `llcore` to the source folder, so they import there from any working directory (last test).

The wheel is built once, offline (`pip wheel --no-deps --no-build-isolation --no-index`), from a copy of the project
in a temporary folder, so the shared working tree gets no build/ or egg-info. The copy carries a stale
llcore.egg-info/SOURCES.txt that lists every .py of the source tree, llcore/tasks and llcore/repro included, as an
old editable install leaves behind: the wheel must not pick those files up as package data.
"""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE_DEPS = {"torch", "numpy", "tqdm"}
MODULE = re.compile(r"llcore/[A-Za-z_][A-Za-z0-9_]*\.py")


def _build_tools_missing() -> str | None:
    if importlib.util.find_spec("pip") is None:
        return "pip is not installed in this environment"
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed in this environment (needed for --no-build-isolation): pip install setuptools"
    version = importlib.metadata.version("setuptools")        # not imported here: it would patch distutils
    major, minor = (int(p) for p in re.findall(r"\d+", version)[:2])
    if (major, minor) < (61, 0):
        return f"setuptools {version} is older than 61, which pyproject.toml's build needs"
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"setuptools {version} needs the `wheel` package to build wheels: pip install wheel"
    return None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    missing = _build_tools_missing()
    if missing:
        pytest.skip(f"cannot build the wheel offline: {missing}")
    tmp = tmp_path_factory.mktemp("wheel")
    src, out = tmp / "src", tmp / "dist"
    src.mkdir()
    for name in ["pyproject.toml", "README.md", *(p.name for p in ROOT.glob("LICEN[CS]E*"))]:
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "llcore", src / "llcore", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    stale = src / "llcore.egg-info"
    stale.mkdir()
    (stale / "SOURCES.txt").write_text("".join(f"{p.relative_to(src).as_posix()}\n"
                                               for p in sorted((src / "llcore").rglob("*.py"))))
    env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(out)], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (whl,) = out.glob("llcore-*.whl")
    return zipfile.ZipFile(whl)


def _modules(wheel: zipfile.ZipFile) -> dict[str, str]:
    """{path in the wheel: source} of its .py files."""
    return {n: wheel.read(n).decode() for n in wheel.namelist() if n.endswith(".py")}


def test_the_wheel_holds_only_the_engine(wheel):
    names = wheel.namelist()
    dist_info = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    assert len(dist_info) == 1 and next(iter(dist_info)).startswith("llcore-"), dist_info
    (info,) = dist_info
    payload = [n for n in names if not n.startswith(info + "/")]
    assert [n for n in payload if not MODULE.fullmatch(n)] == [], \
        "the wheel must hold llcore/<module>.py only (llcore/tasks and llcore/repro stay in the repository)"
    assert sorted(payload) == sorted(f"llcore/{p.name}" for p in (ROOT / "llcore").glob("*.py")), \
        "the wheel must hold every engine module of the source tree"
    assert wheel.read(f"{info}/top_level.txt").decode().split() == ["llcore"]
    meta = wheel.read(f"{info}/METADATA").decode()
    required = {re.split(r"[<>=!~\[ ;(]", line.split(":", 1)[1].strip(), maxsplit=1)[0].lower()
                for line in meta.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert required == ENGINE_DEPS, required


def _bound_names(source: str) -> set[str]:
    """Names a module binds at its top level (assignments, defs, classes, imports)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            names |= {t.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                      if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_the_wheel_imports_only_the_standard_library_torch_numpy_tqdm_and_itself(wheel):
    # every import statement, at the top or inside a function; llcore's own modules must be in the wheel
    sources = _modules(wheel)

    def shipped(parts: list[str]) -> str | None:
        for path in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
            if path in sources:
                return path
        return None

    allowed = set(sys.stdlib_module_names) | ENGINE_DEPS | {"llcore"}
    bad = []
    for path, source in sorted(sources.items()):
        package = path.split("/")[:-1]                    # the package a relative import starts from
        for node in ast.walk(ast.parse(source, path)):
            where = f"{path}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                targets = [a.name.split(".") for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                targets = [node.module.split(".")]
            elif isinstance(node, ast.ImportFrom):
                base = package[:len(package) - (node.level - 1)] if node.level - 1 < len(package) else []
                if not base:
                    bad.append(f"{where}: relative import above the package (level {node.level})")
                    continue
                if node.module is not None:
                    targets = [base + node.module.split(".")]
                else:                                         # from . import a: a module, or a name of __init__
                    init = shipped(base)
                    bad += [f"{where}: from {'.' * node.level} import {a.name} (not in the wheel)" for a in node.names
                            if not shipped(base + [a.name]) and (init is None or
                                                                 a.name not in _bound_names(sources[init]))]
                    continue
            else:
                continue
            for parts in targets:
                if parts[0] not in allowed:
                    bad.append(f"{where}: import {'.'.join(parts)}")
                elif parts[0] == "llcore" and not shipped(parts):
                    bad.append(f"{where}: import {'.'.join(parts)} (not in the wheel)")
    assert bad == [], "the engine may import only the standard library, torch, numpy, tqdm and llcore/*.py:\n" + \
        "\n".join(bad)


def test_the_wheel_imports_alone(wheel, tmp_path):
    # a fresh interpreter from an empty folder, with the unpacked wheel first on sys.path and this environment's
    # site-packages after it for torch, numpy and tqdm, added without their .pth files (python -S), so that no
    # editable install of the source tree is active: every module of the wheel imports, llcore.tasks and
    # llcore.repro do not exist
    import site
    unpacked = tmp_path / "site"
    wheel.extractall(unpacked)
    mods = sorted(f"llcore.{Path(n).stem}" for n in _modules(wheel) if Path(n).stem != "__init__")
    code = (f"import sys, importlib; sys.path[:0] = [{str(unpacked)!r}]; sys.path += {site.getsitepackages()!r}\n"
            "import llcore\n"
            f"assert llcore.__file__.startswith({str(unpacked)!r}), llcore.__file__\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "for m in ('llcore.tasks', 'llcore.repro'):\n"
            "    try: importlib.import_module(m)\n"
            "    except ModuleNotFoundError: pass\n"
            "    else: raise AssertionError(m + ' imported from the wheel')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]


# references to what a `pip install .` user does not have: the repository's folders and files, and the two layers
# that stay in it
OUTSIDE = re.compile(r"(?<![\w.])(?:docs|notebooks|results|runs|benchmarks|constraints|tests|assets|\.ci|\.cache)/"
                     r"|\bREADME\b|\brun_all\.sh\b|\benvironment\.ya?ml\b|\bpyproject\.toml\b|\.ipynb\b"
                     r"|\b[\w-]+\.md\b|\bllcore[./](?:tasks|repro)\b")
BARE_FILE = re.compile(r"(?<![\w./-])([A-Za-z_][\w-]*\.(?:py|md|ipynb|sh|ya?ml|toml|txt))\b")
SKIP_DIRS = {"runs", "results", "build", "dist", "node_modules"}


def _repository_files() -> set[str]:
    """Names of the repository's files outside the engine (hidden folders, caches and outputs skipped)."""
    names = set()
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and d != "__pycache__"
                   and not d.endswith(".egg-info")]
        if Path(folder) != ROOT / "llcore":
            names |= set(files)
    return names


def _texts(path: str, source: str):
    """(line, text) of every comment and string literal (docstrings, messages) of a module."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for i, line in enumerate(node.value.splitlines()):
                yield node.lineno + i, line


def test_no_docstring_or_comment_points_outside_the_package(wheel):
    sources = _modules(wheel)
    shipped = {Path(n).name for n in sources}
    elsewhere = _repository_files() - shipped
    found = set()
    for path, source in sources.items():
        for line, text in _texts(path, source):
            hits = [m.group(0) for m in OUTSIDE.finditer(text)]
            hits += [m.group(1) for m in BARE_FILE.finditer(text) if m.group(1) in elsewhere]
            if hits:
                found.add(f"{path}:{line}: {', '.join(hits)}  ← {text.strip()}")
    assert not found, "the installed engine refers to files it does not ship (say it in words, or move the text " \
        "into the module):\n" + "\n".join(sorted(found))


def test_the_repository_install_imports_the_tasks_and_the_harness_from_elsewhere(tmp_path):
    # ./run_all.sh's editable install: the source tree's llcore, with llcore/tasks and llcore/repro, from any cwd
    code = ("import llcore, llcore.tasks, llcore.repro; print(llcore.__file__); print(llcore.tasks.__file__); "
            "print(llcore.repro.__file__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    files = [Path(f).resolve() for f in done.stdout.split()]
    assert files == [ROOT / "llcore" / "__init__.py", ROOT / "llcore" / "tasks" / "__init__.py",
                     ROOT / "llcore" / "repro" / "__init__.py"], files
