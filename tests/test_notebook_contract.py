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
