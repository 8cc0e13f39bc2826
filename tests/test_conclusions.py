"""Each notebook's conclusion (llcore/repro/conclusions.py) reads the committed default metrics without error, says
'capped' only where a speed-up is capped, and ends with the claims table's own verdicts for its experiment."""
import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from llcore.repro import claims, conclusions

DEFAULT = Path(__file__).resolve().parent.parent / "results" / "default"


def metrics(experiment: str) -> dict:
    path = DEFAULT / experiment / "metrics.json"
    if not path.is_file():
        pytest.skip(f"no committed {path}")
    return json.loads(path.read_text())


def conclusion(experiment: str, m: dict) -> list[str]:
    budget = m["splits"][next(iter(m["splits"]))]["budget_steps"]
    if experiment == "toy":
        return conclusions.toy(m, budget)
    if experiment == "gan_inversion":
        return conclusions.gan_inversion(m, budget, "Adam")
    if experiment == "human_pose":
        amb = pd.read_csv(DEFAULT / experiment / "tables" / "depth_ambiguity.csv")
        return conclusions.pose(m, amb, ("test_in", "test_partial", "test_ood"), budget)
    if experiment == "adversarial_defense":
        b = [r["backbone"] for r in m["backbones"]]
        return conclusions.defense(m, b, b, ["standard"])
    if experiment == "your_problem":
        return conclusions.your_problem(m, budget)
    return conclusions.ablations(m, list(m["problems"]), m["settings"]["budget_steps"])[0]


@pytest.mark.parametrize("experiment", ["toy", "gan_inversion", "human_pose", "adversarial_defense", "your_problem",
                                        "ablations"])
def test_conclusion_reads_the_committed_metrics(experiment):
    m = metrics(experiment)
    text = "\n".join(conclusion(experiment, m))
    assert text.strip()
    for line in claims.verdict_lines(experiment, m):     # the notebook says what the claims table says
        if experiment != "ablations":
            assert line in text


def test_capped_only_where_the_speedup_is_capped():
    m = copy.deepcopy(metrics("toy"))
    ti = m["splits"]["test_in"]
    ti["speedup_at_capped"] = {n: False for n in ti["speedup_at"]}
    assert "capped" not in conclusions.toy(m, ti["budget_steps"])[0]
    ti["speedup_at_capped"]["10"] = True
    assert "capped at the budget" in conclusions.toy(m, ti["budget_steps"])[0]


def test_verdict_lines_match_the_table():
    m = metrics("gan_inversion")
    col = next(c for c in claims.COLUMNS if c.experiment == "gan_inversion")
    cell = claims.CLAIMS[1].cell(col, {"gan_inversion": m})                 # claim 2, small budget
    line = next(x for x in claims.verdict_lines("gan_inversion", m) if x.startswith(f"- *{claims.CLAIMS[1].title}"))
    assert f"**{cell.verdict}**" in line and "](" not in line           # same verdict, no links
