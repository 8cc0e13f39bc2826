import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_own_forward_model_example_runs(capsys):
    # acceptance 7: the README's example executes as written
    (code,) = re.findall(r"```python\n(.*?)```", section("Use llcore on your own forward model"), re.S)
    assert 10 <= len(code.strip().splitlines()) <= 20
    scope = {}
    exec(compile(code, "README example", "exec"), scope)
    assert scope["landscape"].loss.shape == (51, 64)
    assert "loss at steps 1, 10, 50" in capsys.readouterr().out


def test_readme_shows_the_ci_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "./run_all.sh --test" in ci and "./run_all.sh --test" in section("Set-up: two commands")


def test_every_llcore_module_docstring_states_what_it_implements():
    for p in sorted((README.parent / "llcore").rglob("*.py")):
        if p.name == "__init__.py" and p.parent.name != "llcore":
            continue
        src = p.read_text()
        assert src.lstrip().startswith(('"""', 'r"""')), f"{p} has no module docstring"
