"""The status table at the top of results/README.md (llcore.repro.status): generated from the run-time ledger, one line for every notebook,
states and times taken from the ledger's rows, every link leading to a file."""
import json
import re
from pathlib import Path

from llcore.repro import status as S

ROOT = Path(__file__).resolve().parent.parent
HINT = "regenerate with: python -m llcore.repro.documents"


def readme_block() -> str:
    text = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    i, j = text.find(S.STATUS_START), text.find(S.STATUS_END)
    assert 0 <= i < j, "results/README.md has no status block; " + HINT
    return text[i:j + len(S.STATUS_END)]


def test_status_follows_the_committed_ledger():
    assert readme_block() == S.block(S.status_markdown(ROOT / "results", "default/")), HINT


def test_every_notebook_has_one_line():
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(nb.stem for nb in S.NOTEBOOKS) == stems


def test_every_link_in_the_status_block_exists():
    links = re.findall(r"\]\(([^)\s]+)\)", readme_block())
    assert links
    missing = [link for link in links if not (ROOT / "results" / link).exists()]
    assert not missing, missing


def ledger_file(tmp_path, rows, full_run=None):
    out = tmp_path / "results" / "default"
    out.mkdir(parents=True)
    (out / "run_times.json").write_text(json.dumps({"profile": "default", "rows": rows,
                                                    **({"full_run": full_run} if full_run else {})}))
    return out


def row(notebook, run="–", status="ok", seconds=600.0, machine="2 cores, OMP_NUM_THREADS=1", cell=""):
    return {"notebook": notebook, "run": run, "status": status, "seconds": seconds, "finished": "2026-01-02T03:04:05",
            "git": "abc1234", "failed_cell": cell, "machine": machine, "sections": []}


def test_states_times_and_threads_come_from_the_rows(tmp_path):
    out = ledger_file(tmp_path, [row("00_toy", seconds=30.0), row("01_gan_inversion", "faces", seconds=5160.0),
                                 row("01_gan_inversion", "mnist", "failed", 100.0, cell="In [7] (cell 9)"),
                                 row("03_human_pose", machine="2 cores, threads: torch's default (one per core)")])
    (out / "notebooks").mkdir()
    (out / "notebooks" / "01_gan_inversion__faces.ipynb").write_text("{}")
    text = S.status_markdown(tmp_path / "results", "r/")
    lines = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line.startswith("| `")}
    assert "ok (abc1234, 2026-01-02)" in lines["00_toy"] and "<1 min (1 thread)" in lines["00_toy"]
    gan = lines["01_gan_inversion"]
    assert "mnist **failed** at In [7] (cell 9)" in gan and "faces 86 min + mnist 2 min (1 thread)" in gan
    assert "executed: [faces](r/notebooks/01_gan_inversion__faces.ipynb)" in gan and "__mnist" not in gan
    assert "torch's default threads" in lines["03_human_pose"]
    assert "not run" in lines["02_adversarial_defense"]
    assert "No complete run recorded yet" in text


def test_a_complete_run_is_named_under_the_table(tmp_path):
    full = {"profile": "default", "started": "s", "finished": "f", "seconds": 8400.0, "notebooks_seconds": 8250.0,
            "bench_seconds": 150.0, "jobs": 2, "cached_at_start": 0, "git": "abc1234",
            "machine": "2 cores, 1 thread(s) per notebook"}
    ledger_file(tmp_path, [row("00_toy")], full)
    text = S.status_markdown(tmp_path / "results", "r/")
    assert "**140.0 min** wall clock" in text and "from scratch" in text and "git abc1234" in text


def test_an_unreadable_ledger_reads_as_no_runs_and_stays_where_it_is(tmp_path):
    out = tmp_path / "results" / "default"
    out.mkdir(parents=True)
    (out / "run_times.json").write_text('{"rows": [{"notebook": "00_toy"}]}')
    assert "not run" in S.status_markdown(tmp_path / "results", "r/")
    assert (out / "run_times.json").is_file() and not (out / "run_times.json.corrupt").exists()
