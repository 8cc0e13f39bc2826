"""Every notebook keeps the contract of the README: one `parameters` cell papermill can read in full, kernel python3."""
import json
import re
from pathlib import Path

import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_complete_and_readable(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    source = "".join(cells[0]["source"])
    assigned = re.findall(r"^([A-Za-z_]\w*)\s*=", source, re.M)
    readable = set(papermill.inspect_notebook(str(path)))
    # a name papermill cannot parse (e.g. a comment with '=' in it) could not be set with -p
    assert set(assigned) <= readable, f"papermill cannot read: {sorted(set(assigned) - readable)}"
    assert "profile" in readable and "seed" in readable and "device" in readable


NOTEBOOK_CODE_LINES = 1200    # all notebooks together: the story stays in markdown, the machinery in llcore/repro
CELL_CODE_LINES = 40          # one code cell


def code_lines(cell: dict) -> int:
    """Non-blank lines of a code cell, comments included."""
    return sum(1 for line in "".join(cell["source"]).splitlines() if line.strip())


def test_notebooks_stay_thin():
    per_cell = {(p.stem, i): code_lines(c) for p in NOTEBOOKS
                for i, c in enumerate(json.loads(p.read_text())["cells"]) if c["cell_type"] == "code"}
    long_cells = {k: n for k, n in per_cell.items() if n > CELL_CODE_LINES}
    assert not long_cells, f"code cells over {CELL_CODE_LINES} lines (notebook, cell index): {long_cells}"
    total = sum(per_cell.values())
    assert total <= NOTEBOOK_CODE_LINES, f"{total} notebook code lines, more than {NOTEBOOK_CODE_LINES}"
