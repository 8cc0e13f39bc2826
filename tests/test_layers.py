"""The three layers depend one way only: engine (llcore/*.py) ← tasks (llcore/tasks/) ← harness (llcore/repro/).

Imports are read from the source (ast), so a lazy import inside a function counts as much as one at the top.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "llcore"
RANK = {"engine": 0, "tasks": 1, "repro": 2}
# what a user of the engine alone does not have to install
HEAVY = ["jupyter", "papermill", "nbformat", "nbval", "pandas", "matplotlib", "smplx", "lpips", "art", "sklearn",
         "skimage", "mlxtend", "yaml", "scipy", "torchvision", "efficientnet_lite_pytorch", "gan_face_generate"]


def layer_of_module(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "llcore":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ("tasks", "repro") else "engine"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file (module `name`), relative ones resolved."""
    package = (name or module_name(path)).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out += [(node.lineno, f"{mod}.{a.name}" if not node.module or mod == "llcore" else mod)
                    for a in node.names]
    return out


def sources():
    return sorted(PACKAGE.rglob("*.py"))


def test_the_three_layers_exist():
    layers = {layer_of_module(module_name(p)) for p in sources()}
    assert layers == set(RANK)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_module_imports_a_layer_above_its_own(path):
    mine = layer_of_module(module_name(path))
    upward = [f"line {line}: {mod} ({layer_of_module(mod)})" for line, mod in imported_modules(path)
              if layer_of_module(mod) is not None and RANK[layer_of_module(mod)] > RANK[mine]]
    assert not upward, f"{path.name} is in the {mine} layer but imports from a layer above it: {upward}"


def test_the_checker_sees_an_upward_import(tmp_path):
    # the test above can fail: a module of the engine that imports the harness is reported
    fake = tmp_path / "probe.py"
    fake.write_text('"""probe"""\nfrom .repro import runner\nfrom .tasks.toy import toy_problem\nimport llcore.repro.io\n')
    mods = [m for _, m in imported_modules(fake, "llcore.probe")]
    assert [layer_of_module(m) for m in mods] == ["repro", "tasks", "repro"]


ENGINE_ONLY = r"""
import importlib, pkgutil, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None          # `import name` now raises ImportError
import llcore
for m in pkgutil.iter_modules(llcore.__path__):
    if not m.ispkg:
        importlib.import_module(f"llcore.{m.name}")
exec(open(sys.argv[2]).read())
print("ENGINE OK")
"""


def test_engine_and_readme_example_need_no_experiment_package(tmp_path):
    from test_readme import section
    import re
    (code,) = re.findall(r"```python\n(.*?)```", section("Use llcore on your own forward model"), re.S)
    example = tmp_path / "example.py"
    example.write_text(code)
    proc = subprocess.run([sys.executable, "-c", ENGINE_ONLY, ",".join(HEAVY), str(example)],
                          capture_output=True, text=True, cwd=PACKAGE.parent, timeout=600,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PACKAGE.parent)})
    assert "ENGINE OK" in proc.stdout, proc.stderr[-3000:]
