import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_own_forward_model_example_runs(capsys):
    # the README's example executes as written
    (code,) = re.findall(r"```python\n(.*?)```", section("Use llcore on your own forward model"), re.S)
    assert 10 <= len(code.strip().splitlines()) <= 20
    scope = {}
    exec(compile(code, "README example", "exec"), scope)
    assert scope["landscape"].loss.shape == (51, 64)
    assert "loss at steps 1, 10, 50" in capsys.readouterr().out


def test_fair_comparison_example_runs_on_the_engine_alone(tmp_path):
    # the README's fair-comparison script, ≤ 30 lines, run with the reproduction's packages made unimportable
    import subprocess
    import sys
    (code,) = re.findall(r"```python\n(.*?)```", section("Compare fairly on your own problem"), re.S)
    assert len(code.strip().splitlines()) <= 30
    script = tmp_path / "fair.py"
    blocked = ["pandas", "matplotlib", "scipy", "torchvision", "yaml", "papermill", "smplx", "lpips", "sklearn"]
    script.write_text(f"import sys\nsys.modules.update(dict.fromkeys({blocked!r}))\n" + code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"at 10 steps: median [0-9.]+ \[[0-9.]+, [0-9.]+\]", out.stdout), out.stdout
    assert "N=1: per-target speed-up median" in out.stdout and "N=10:" in out.stdout


def test_readme_shows_the_ci_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "./run_all.sh --test" in ci and "./run_all.sh --test" in section("Set-up: two commands")


def test_every_llcore_module_docstring_states_what_it_implements():
    for p in sorted((README.parent / "llcore").rglob("*.py")):
        if p.name == "__init__.py" and p.parent.name != "llcore":
            continue
        src = p.read_text()
        assert src.lstrip().startswith(('"""', 'r"""')), f"{p} has no module docstring"


def test_the_repository_stands_on_its_own():
    # no file points at material a person who clones the repository lacks, or at the project's issue tracker
    import subprocess
    root = README.parent
    pattern = re.compile("|".join(["shared" + "/", "DEVELOP" + "ERS", "[Ii]ssue" + " [0-9]", "[Aa]ccept" + "ance"]))
    places = ["README.md", "llcore", "notebooks", "tests", "benchmarks", "results", "docs", "pyproject.toml",
              "environment.yml", "run_all.sh"]
    files = subprocess.run(["git", "ls-files", "--", *places], cwd=root, capture_output=True, text=True).stdout.split()
    if not files:                                   # not a git checkout: read the folders instead
        files = [str(p.relative_to(root)) for d in places for p in (root / d).rglob("*") if p.is_file()]
    hits = []
    for f in files:
        path = root / f
        if path.suffix in (".png", ".pt", ".pyc") or not path.is_file():
            continue
        for i, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{f}:{i}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


def test_the_readme_is_short_and_starts_with_the_findings():
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 150, f"{len(lines)} lines"
    assert len(text.encode("utf-8")) <= 12 * 1024, f"{len(text.encode())} bytes"
    assert max(len(line) for line in lines) <= 400
    first_screen = "\n".join(lines[:60])
    for marker in ("<!-- findings:start -->", "<!-- findings:end -->", "<!-- grid:start -->", "<!-- grid:end -->",
                   "results/default/claims_speedups.png", "./run_all.sh --test"):
        assert marker in first_screen, marker
