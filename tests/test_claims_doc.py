"""results/CLAIMS.md and the verdict grid (llcore.repro.claims_doc): the committed file is what the generator writes
from the committed metrics, every grid symbol is the claims table's verdict and leads to a row, every source link to
a file, and an experiment that did not measure a claim has no row under it."""
import re
from pathlib import Path

from llcore.repro import claims as C
from llcore.repro import claims_doc as D

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
HINT = "regenerate with: python -m llcore.repro.documents"


def committed_metrics() -> dict:
    return C.load_metrics(RESULTS / C.PROFILE)


def test_claims_md_is_what_the_generator_writes_from_the_committed_metrics():
    text = (RESULTS / D.FILE).read_text(encoding="utf-8")
    assert text == D.claims_document(committed_metrics(), f"{C.PROFILE}/"), HINT


def test_every_grid_symbol_is_the_verdict_and_links_to_its_row():
    metrics = committed_metrics()
    doc = D.claims_document(metrics, f"{C.PROFILE}/")
    ids = set(re.findall(r'<a id="([^"]+)"></a>', doc))
    table = D.grid(metrics, "CLAIMS.md")
    lines = [line for line in table.splitlines()[2:]]
    assert len(lines) == len(C.CLAIMS)
    for claim, line, row in zip(C.CLAIMS, lines, C.cells(metrics)):
        cells = [c.strip() for c in line.strip("|").split(" | ")][1:]
        assert len(cells) == len(C.COLUMNS)
        for col, shown, cell in zip(C.COLUMNS, cells, row):
            if cell.verdict == C.NOT_MEASURED:
                assert shown == "" and D.anchor(claim, col) not in ids
            else:
                assert shown == f"[{D.SYMBOLS[cell.verdict]}](CLAIMS.md#{D.anchor(claim, col)})"
                assert D.anchor(claim, col) in ids


def test_every_row_shows_the_numbers_of_its_cell():
    metrics = committed_metrics()
    for claim, row in zip(C.CLAIMS, C.cells(metrics)):
        section = D.claim_section(claim, row, "default/")
        for col, cell in zip(C.COLUMNS, row):
            if cell.verdict != C.NOT_MEASURED:
                line = next(x for x in section.splitlines() if f'id="{D.anchor(claim, col)}"' in x)
                assert f"**{cell.verdict}**" in line and cell.ours in line and cell.theirs in line


def test_every_link_in_claims_md_leads_to_a_file_or_an_anchor():
    text = (RESULTS / D.FILE).read_text(encoding="utf-8")
    ids = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) > 50
    for link in links:
        if link.startswith("#"):
            assert link[1:] in ids, link
        else:
            assert (RESULTS / link).is_file(), link


def test_a_claim_nobody_measured_says_so():
    assert "No experiment measured this claim" in D.claim_section(C.CLAIMS[3], [C.Cell(C.NOT_MEASURED)] * 8, "")
