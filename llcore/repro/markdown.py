"""Markdown text helpers the generated documents share: tables, marked blocks, numbers as text.

This module imports nothing from the harness, so every module that writes or reads a document (report, claims,
status, ledger, summary, documents) can build on it without importing one another.

    markdown_table(headers, rows)        a padded table, readable rendered and in a terminal
    compact_table(headers, rows)         the same without padding (for wide, sparse tables such as the grid)
    between(doc, start, end)             the marked part of a document, markers included
    replace_between(doc, start, end, new) the document with its marked part replaced
    is_number(x), fmt(x)                 a number (never a bool); 4 significant digits, a dash when missing
"""
from __future__ import annotations

from numbers import Real

MISSING = "–"


def cells_of(headers: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Every cell as one line of text with its pipes escaped."""
    return [[str(c).replace("|", "\\|").replace("\n", " ") for c in row] for row in [headers, *rows]]


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table with padded columns, readable both rendered and in a terminal."""
    cells = cells_of(headers, rows)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines) + "\n"


def compact_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table without padding: one line a row, as short as the cells allow."""
    cells = cells_of(headers, rows)
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in headers) + "|")
    return "\n".join(lines) + "\n"


def between(doc: str, start: str, end: str) -> str | None:
    """The part of `doc` from the marker `start` to the marker `end` (both included), or None."""
    i = doc.find(start)
    j = doc.find(end, i) if i >= 0 else -1
    return doc[i:j + len(end)] if j >= 0 else None


def replace_between(doc: str, start: str, end: str, new: str) -> str | None:
    """`doc` with its marked part (`between`) replaced by `new`; None when `doc` lacks the markers."""
    old = between(doc, start, end)
    return None if old is None else doc.replace(old, new, 1)


def is_number(x) -> bool:
    """True for ints and floats, False for bools (which are Real in Python)."""
    return isinstance(x, Real) and not isinstance(x, bool)


def fmt(x) -> str:
    """A number with 4 significant digits; anything else as text; None as a dash."""
    if x is None:
        return MISSING
    return f"{x:.4g}" if is_number(x) else str(x)


def is_capped(split: dict, n: str) -> bool:
    """Whether `speedup_at[n]` is the budget/N cap: a per-N mapping of flags, or one flag checked against the cap."""
    flag = split.get("speedup_at_capped", False)
    if isinstance(flag, dict):
        return bool(flag.get(n))
    value, budget = split.get("speedup_at", {}).get(n), split.get("budget_steps")
    return bool(flag) and is_number(value) and is_number(budget) and abs(value - budget / int(n)) < 1e-9
