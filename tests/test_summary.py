"""results/SUMMARY.md (llcore.repro.summary) and the findings (llcore.repro.findings): the committed report is what
the generator writes from the committed metrics and ledger, its links lead to files, and its numbers are the
ledger's and the claims table's."""
import re
from pathlib import Path

from llcore.repro import claims as C
from llcore.repro import findings as F
from llcore.repro import ledger
from llcore.repro import summary as S

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
HINT = "regenerate with: python -m llcore.repro.documents"


def test_summary_md_is_what_the_generator_writes_from_the_committed_files():
    assert (RESULTS / S.FILE).read_text(encoding="utf-8") == S.summary_document(ROOT), HINT


def test_every_link_in_summary_md_leads_to_a_file_or_a_row():
    text = (RESULTS / S.FILE).read_text(encoding="utf-8")
    claims_md = (RESULTS / "CLAIMS.md").read_text(encoding="utf-8")
    ids = set(re.findall(r'<a id="([^"]+)"></a>', claims_md))
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if link.startswith("http"):
            continue
        path, _, anchor = link.partition("#")
        assert (RESULTS / path).is_file(), link
        assert not anchor or anchor in ids, link


def test_the_report_has_its_sections_and_the_findings():
    text = (RESULTS / S.FILE).read_text(encoding="utf-8")
    for heading in ("Summary", "Scope of reproducibility", "Methodology", "Results", "What was easy",
                    "What was difficult", "Compute"):
        assert f"\n## {heading}\n" in text, heading
    for sentence in F.sentences(C.load_metrics(RESULTS / C.PROFILE), "CLAIMS.md"):
        assert f"- {sentence}\n" in text


def test_compute_is_the_ledger_seconds_times_threads():
    rows = ledger.rows(RESULTS / C.PROFILE / ledger.FILE)
    _, total = S.compute_table(RESULTS, C.PROFILE)
    expected = sum(r["seconds"] * S.threads_of(r["machine"]) for r in rows
                   if r["status"] == "ok" and S.threads_of(r["machine"]))
    assert rows and abs(total - expected) < 1e-9
    assert f"{total:.0f} CPU-seconds" in (RESULTS / S.FILE).read_text(encoding="utf-8")


def test_findings_count_the_verdicts_of_the_table():
    metrics = C.load_metrics(RESULTS / C.PROFILE)
    rows = C.cells(metrics)
    first = F.sentences(metrics, "x")[0]
    held = sum(c.verdict == C.HELD for c in rows[0])
    measured = sum(c.verdict != C.NOT_MEASURED for c in rows[0])
    assert f"in fewer steps in {held} of {measured} experiments" in first
    assert not re.search(r"\{|\}", " ".join(F.sentences(metrics, "x")))


def test_a_claim_nobody_measured_leaves_its_sentence_out():
    assert F.sentences({}, "x") == []
    assert S.summary_document(Path("/nonexistent")) is None
