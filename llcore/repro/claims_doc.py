"""results/CLAIMS.md and the verdict grid: the claims table (`llcore.repro.claims`) laid out for a reader.

Nothing here decides a verdict: every row is a `claims.Cell` that `claims.cells` computed from the metrics, shown
with its numbers (the claim's side, the other side, the noise) and its source files.

    claims_document(metrics, base)   CLAIMS.md: per claim its one-sentence rule and a table over only the
                                     experiments that measured it, one row per split read; an anchor per row
    grid(metrics, claims_link)       claims × experiments, one symbol a cell, each a link to its row in CLAIMS.md
    anchor(claim_no, column)         the id of a row of CLAIMS.md, shared by the two
"""
from __future__ import annotations

import re

from . import claims as C
from .markdown import MISSING, compact_table, markdown_table

FILE = "CLAIMS.md"                      # results/FILE
SYMBOLS = {C.HELD: "✓", C.NOT_HELD: "✗", C.NOISE: "≈", C.NOT_MEASURED: ""}


def number(claim: C.Claim) -> str:
    """'1' for the claim titled '1. fewer steps ...'."""
    return claim.title.split(".", 1)[0]


def slug(text: str) -> str:
    """'ablations, MNIST GAN (04)' -> 'ablations-mnist-gan-04'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def anchor(claim: C.Claim, col: C.Column) -> str:
    """The id of the first row of `col` under `claim` in CLAIMS.md, e.g. 'c1-toy-00'."""
    return f"c{number(claim)}-{slug(col.title)}"


def short_title(claim: C.Claim) -> str:
    """The claim's title without its parenthesis: '9. against the strongest baseline in X'."""
    return claim.title.split(" (", 1)[0]


def legend() -> str:
    """The symbols of the grid, in words."""
    return (f"{SYMBOLS[C.HELD]} {C.HELD} · {SYMBOLS[C.NOT_HELD]} {C.NOT_HELD} · {SYMBOLS[C.NOISE]} {C.NOISE} · "
            f"blank: {C.NOT_MEASURED}")


def grid(metrics: dict, claims_link: str) -> str:
    """A compact table, one row a claim and one column an experiment: the verdict of the claim's in-distribution
    (first) split as a symbol linking to `claims_link#<anchor>`; blank where the experiment did not measure it."""
    rows = []
    for claim, row in zip(C.CLAIMS, C.cells(metrics)):
        rows.append([short_title(claim), *(f"[{SYMBOLS[c.verdict]}]({claims_link}#{anchor(claim, col)})"
                                    if c.verdict != C.NOT_MEASURED else "" for col, c in zip(C.COLUMNS, row))])
    return compact_table(["claim", *(c.title for c in C.COLUMNS)], rows)


def measured(cell: C.Cell) -> list[tuple[str, C.Cell]]:
    """(split label, cell) for the cell, the same rule on its other splits and its second comparisons, measured only."""
    out = []
    for name, c in [(cell.split, cell), *cell.others]:
        if c.verdict != C.NOT_MEASURED:
            out.append((name or MISSING, c))
        out += [(f"{name}, {label}", e) for label, e in c.extra if e.verdict != C.NOT_MEASURED]
    return out


def sources(cell: C.Cell, base: str) -> str:
    """Links to the experiment's metrics.json and to the tables the cell names (relative to the profile)."""
    if not cell.links:
        return MISSING
    experiment = cell.links[0].split("/", 1)[0]
    links = dict.fromkeys([f"{experiment}/metrics.json", *cell.links])
    return ", ".join(f"[{C.link_label(x) if not x.endswith('metrics.json') else 'metrics.json'}]({base}{x})"
                     for x in links)


def claim_section(claim: C.Claim, row: list[C.Cell], base: str) -> str:
    """One claim: heading, one-sentence rule, the rule in detail, and the table of the experiments that measured it."""
    lines = [f'<a id="claim-{number(claim)}"></a>', f"## {claim.title}", "",
             f"**Rule:** {claim.sentence}", "", f"In detail: {claim.rule}", ""]
    rows = []
    for col, cell in zip(C.COLUMNS, row):
        for k, (split, c) in enumerate(measured(cell)):
            label = f'<a id="{anchor(claim, col)}"></a>{col.title}' if k == 0 else ""
            rows.append([label, split, f"**{c.verdict}**" if k == 0 else c.verdict, c.ours or MISSING,
                         c.theirs or MISSING, c.sd or MISSING, sources(cell, base) if k == 0 else ""])
    if rows:
        lines.append(markdown_table(["experiment", "split", "verdict", *claim.sides, "noise", "source"], rows))
    else:
        lines.append(f"No experiment measured this claim in this profile ({C.NOT_MEASURED}).\n")
    return "\n".join(lines)


def claims_document(metrics: dict, base: str, profile: str = C.PROFILE) -> str:
    """The whole of results/CLAIMS.md for `metrics` (experiment -> metrics.json), links prefixed by `base` (the
    path from CLAIMS.md to the profile's folder, e.g. 'default/')."""
    head = [
        "# The paper's claims, experiment by experiment",
        "",
        f"Generated from `results/{profile}/<experiment>/metrics.json` by `python -m llcore.repro.documents` "
        "(do not edit by hand). Every verdict is `llcore/repro/claims.py`'s rule applied to the linked metrics; "
        "the grid below is the one in the repository's README, each symbol a link to its row.",
        "",
        grid(metrics, ""),
        legend() + ". Rows: claims; columns: experiments (the verdict of the first split each reads).",
        "",
        "How to read the tables:",
        "",
        f"- Verdicts: **{C.HELD}**, **{C.NOT_HELD}**, **{C.NOISE}**. Two means a ± sa and b ± sb (standard "
        "deviations over seeds at the same step) differ *within noise* when |a − b| ≤ sqrt(sa² + sb²); that bound is the "
        "*noise* column.",
        "- The first row of an experiment gives its verdict; further rows are the same rule on its other splits "
        "(and, for claim 9, the same comparison at the whole budget), each with its own verdict, which does not "
        "change the first.",
        f"- Splits: the in-distribution claims read {C.splits_in_words('main', 'also')}. The 04 columns read 04's "
        "reduced-scale runs against its own tuned baseline.",
        "",
    ]
    body = [claim_section(claim, row, base) for claim, row in zip(C.CLAIMS, C.cells(metrics))]
    return "\n".join(head) + "\n" + "\n".join(body)
