"""The generated documents (llcore.repro.documents): regenerated in a temporary copy of the repository from the
committed results/default metrics and ledger, README.md's findings and verdict grid, results/CLAIMS.md and
results/SUMMARY.md come out exactly as committed (so they fail when stale); the results index is what the committed
files give; and only the runner's entry point imports the module that writes them."""
import ast
import shutil
from pathlib import Path

import pytest

from llcore.repro import claims as C
from llcore.repro import documents as D
from llcore.repro import report
from llcore.repro.markdown import between

ROOT = Path(__file__).resolve().parent.parent
HINT = "regenerate with: python -m llcore.repro.documents"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """A copy of the repository's inputs to the documents (metrics, ledger, README, the paper profile, the engine's
    sources it counts), with every document regenerated in it."""
    tmp = tmp_path_factory.mktemp("repo")
    src = ROOT / "results" / C.PROFILE
    for path in [*src.glob("*/metrics.json"), src / "run_times.json"]:
        (tmp / "results" / C.PROFILE / path.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tmp / "results" / C.PROFILE / path.relative_to(src))
    shutil.copytree(ROOT / "notebooks" / "params", tmp / "notebooks" / "params")
    (tmp / "llcore").mkdir()
    for path in (ROOT / "llcore").glob("*.py"):
        shutil.copy(path, tmp / "llcore" / path.name)
    shutil.copy(ROOT / "README.md", tmp / "README.md")
    D.write_all(tmp)
    return tmp


@pytest.mark.parametrize("start,end", [(D.FINDINGS_START, D.FINDINGS_END), (D.GRID_START, D.GRID_END)])
def test_readme_blocks_are_what_the_metrics_give(regenerated, start, end):
    committed = between((ROOT / "README.md").read_text(encoding="utf-8"), start, end)
    assert committed is not None, f"README.md lacks {start}"
    assert committed == between((regenerated / "README.md").read_text(encoding="utf-8"), start, end), HINT


@pytest.mark.parametrize("name", ["CLAIMS.md", "SUMMARY.md"])
def test_claims_and_summary_are_what_the_metrics_give(regenerated, name):
    assert (ROOT / "results" / name).read_text(encoding="utf-8") == \
        (regenerated / "results" / name).read_text(encoding="utf-8"), HINT


def test_the_results_index_is_what_the_committed_files_give():
    results = ROOT / "results"
    assert (results / "README.md").read_text(encoding="utf-8") == \
        report.index_text(results, D.index_lead(results)), HINT


def test_the_readme_blocks_change_with_the_metrics(regenerated, tmp_path):
    # a verdict that flips in the metrics flips in the grid: the blocks are read from the metrics, not kept
    metrics = C.load_metrics(regenerated / "results" / C.PROFILE)
    metrics["toy"]["splits"]["test_in"]["speedup_steps"] = 0.5
    grid = D.grid_block(metrics, "results/CLAIMS.md")
    assert "[✗](results/CLAIMS.md#c1-toy-00)" in grid
    assert grid != between((ROOT / "README.md").read_text(encoding="utf-8"), D.GRID_START, D.GRID_END)
    with pytest.raises(ValueError, match="markers"):
        D.readme_text("# no markers\n", metrics, "x")


def importers_of_documents() -> set[str]:
    """The package's files that import llcore.repro.documents anywhere (at the top or inside a function)."""
    found = set()
    for path in sorted((ROOT / "llcore").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [getattr(node, "module", None) or ""] + [a.name for a in node.names]
                if any(n == "documents" or n.endswith(".documents") for n in names):
                    found.add(path.name)
    return found


def test_only_the_runners_recording_imports_the_documents_module():
    assert importers_of_documents() == {"recording.py"}            # the runner's record of an invocation
    top = [n for n in ast.parse((ROOT / "llcore/repro/recording.py").read_text(encoding="utf-8")).body
           if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("documents" in [(n.module or "") if isinstance(n, ast.ImportFrom) else "", *(a.name for a in n.names)]
                   for n in top), "imported inside the entry point only"


def test_the_document_builders_do_not_import_each_other_in_a_cycle():
    # markdown imports nothing of the harness; report, claims, status, ledger build on it, never the other way
    def harness_imports(name: str) -> set[str]:
        tree = ast.parse((ROOT / "llcore" / "repro" / f"{name}.py").read_text(encoding="utf-8"))
        out = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level == 1 and not mod:
                    out |= {a.name for a in node.names}
                elif mod.startswith("llcore.repro."):
                    out.add(mod.split(".")[2])
                elif node.level == 1:
                    out.add(mod.split(".")[0])
        return out
    graph = {m: harness_imports(m) for m in ("markdown", "report", "claims", "status", "ledger", "claims_doc",
                                             "findings", "summary", "documents")}
    assert graph["markdown"] == set()

    def reaches(a: str, b: str, seen=()) -> bool:
        return any(n == b or (n in graph and n not in seen and reaches(n, b, (*seen, n))) for n in graph.get(a, ()))
    assert not [m for m in graph if reaches(m, m)], graph
