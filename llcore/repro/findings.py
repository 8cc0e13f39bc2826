"""What this reproduction found, in a few plain sentences written from the claims table (`llcore.repro.claims`).

Each sentence counts the verdicts of one or two claims over the experiments that measured them and quotes the
numbers of the cells it names, so it changes with the metrics and never carries a typed number; each ends with a
link to the claim's rows in results/CLAIMS.md. The prose around the numbers is fixed here; where its wording
depends on the outcome (ahead or behind, beat or did not beat), the verdicts choose it.

    sentences(metrics, claims_link)   the sentences, links to `claims_link#claim-N`
    paragraph(metrics, claims_link)   the same as one Markdown paragraph
"""
from __future__ import annotations

from . import claims as C

ALL = (C.HELD, C.NOISE, C.NOT_HELD)


def measured(row: list[C.Cell]) -> list[tuple[C.Column, C.Cell]]:
    """(column, cell) of the experiments whose first split measured the claim."""
    return [(col, c) for col, c in zip(C.COLUMNS, row) if c.verdict != C.NOT_MEASURED]


def by_verdict(pairs: list[tuple[C.Column, C.Cell]]) -> dict[str, list[tuple[C.Column, C.Cell]]]:
    """The pairs grouped by verdict (held, within noise, not held; each present even when empty)."""
    return {v: [(col, c) for col, c in pairs if c.verdict == v] for v in ALL}


def names(pairs) -> str:
    """'toy (00), MNIST GAN (01)'."""
    return ", ".join(col.title for col, _ in pairs)


def tally(pairs, words: dict[str, str], show=None, named: bool = True) -> str:
    """'ahead in 5 of 8, within noise in 2 (faces GAN (01), pose (03)) and behind in 1 (defense (02))': the held count
    first, the others named when `named` (each with `show(cell)` when given); `words` maps a verdict to its phrase."""
    groups, n = by_verdict(pairs), len(pairs)
    parts = [f"{words[C.HELD]} in {len(groups[C.HELD])} of {n}"]
    for v in (C.NOISE, C.NOT_HELD):
        if groups[v]:
            shown = ", ".join(f"{col.title}{f': {show(c)}' if show else ''}" for col, c in groups[v])
            parts.append(f"{words[v]} in {len(groups[v])}" + (f" ({shown})" if named else ""))
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def link(claims_link: str, *claims: C.Claim) -> str:
    """' (claims [1](CLAIMS.md#claim-1), [2](CLAIMS.md#claim-2))': where the sentence's numbers are."""
    refs = ", ".join(f"[{c.title.split('.')[0]}]({claims_link}#claim-{c.title.split('.')[0]})" for c in claims)
    return f" (claim{'s' if len(claims) > 1 else ''} {refs})"


def speed(cell: C.Cell) -> float:
    """A claim-1 cell's speed-up as a number, for ordering (its text starts with it, e.g. '1.12×')."""
    try:
        return float(cell.ours.split("×")[0])
    except ValueError:
        return float("nan")


AHEAD = {C.HELD: "ahead", C.NOISE: "within noise", C.NOT_HELD: "behind"}
HELD_WORDS = {C.HELD: "held", C.NOISE: "within noise", C.NOT_HELD: "not held"}


def on_speed(rows, claims_link: str) -> str | None:
    """Claims 1 and 2: fewer steps to the baseline's final quality, and ahead at the small budget."""
    one, two = measured(rows[0]), measured(rows[1])
    if not one or not two:
        return None
    groups = by_verdict(one)
    held = sorted(groups[C.HELD], key=lambda p: speed(p[1]))
    span = (f" ({held[0][1].ours} in {held[0][0].title} to {held[-1][1].ours} in {held[-1][0].title})"
            if len(held) > 1 else "")
    others = "".join(f"; {col.title}: {c.verdict}, {c.ours}" for col, c in groups[C.NOISE] + groups[C.NOT_HELD])
    return (f"Landscape learning reached the tuned baseline's final quality in fewer steps in {len(held)} of "
            f"{len(one)} experiments{span}{others}; after {C.SMALL_BUDGET} steps it was {tally(two, AHEAD)}"
            f"{link(claims_link, C.CLAIMS[0], C.CLAIMS[1])}.")


def on_strongest(rows, claims_link: str) -> str | None:
    """Claim 9: against the strongest descent in X, at the small budget and at the whole budget."""
    nine = measured(rows[8])
    if not nine:
        return None
    budget = [(col, c.extra[0][1]) for col, c in nine if c.extra and c.extra[0][1].verdict != C.NOT_MEASURED]
    at_budget = f"; at the whole budget {tally(budget, AHEAD, named=False)}" if budget else ""
    return (f"Against the strongest descent in X (optimizer family, learning rate and start tuned on validation "
            f"targets for the step compared) it was {tally(nine, AHEAD)} after {C.SMALL_BUDGET} steps{at_budget}"
            f"{link(claims_link, C.CLAIMS[8])}.")


def on_start(rows, claims_link: str) -> str | None:
    """Claim 10: descent in X from θ(z₀), landscape's own start."""
    ten = measured(rows[9])
    if not ten:
        return None
    held = len(by_verdict(ten)[C.HELD])
    so = ("so most of the early lead is the learned landscape, not only the learned start" if 2 * held > len(ten)
          else "so much of the early lead is the learned start itself")
    return (f"Descent in X started from landscape's own start θ(z₀) was beaten after {C.SMALL_BUDGET} steps: "
            f"{tally(ten, HELD_WORDS)}, {so}{link(claims_link, C.CLAIMS[9])}.")


def on_ood(rows, claims_link: str) -> str | None:
    """Claim 3: out of distribution."""
    three = measured(rows[2])
    if not three:
        return None
    return (f"Out of distribution, fewer steps and a better result at {C.SMALL_BUDGET} steps together "
            f"{tally(three, HELD_WORDS, lambda c: c.ours.split(';')[0])}{link(claims_link, C.CLAIMS[2])}.")


def on_defense(rows, claims_link: str) -> str | None:
    """Claim 4: the one-step defense against the baseline's multi-step reversal."""
    four = measured(rows[3])
    if not four:
        return None
    col, c = four[0]
    verb = {C.HELD: "beat", C.NOISE: "was within noise of", C.NOT_HELD: "did not beat"}[c.verdict]
    return (f"The one-step defense {verb} the baseline's multi-step reversal in {col.title}: robust accuracy "
            f"{c.ours} after {C.ONE_STEP} landscape step against {c.theirs} after the baseline's whole budget (noise "
            f"{c.sd}){link(claims_link, C.CLAIMS[3])}.")


def on_mechanisms(rows, claims_link: str) -> str | None:
    """Claims 5 to 8: what the paper credits for the speed-up."""
    parts = []
    for i, words in ((4, "a random θ helped"), (5, "Z was the smoother landscape"), (6, "replay mattered"),
                     (7, "coordinate descent matched unrolled back-propagation at a lower cost")):
        pairs = measured(rows[i])
        if pairs:
            parts.append(f"{words} in {len(by_verdict(pairs)[C.HELD])} of {len(pairs)}")
    if not parts:
        return None
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return (f"Of the mechanisms behind it, {listed} of the experiments that measured each"
            f"{link(claims_link, *C.CLAIMS[4:8])}.")


def on_compute(rows, claims_link: str) -> str | None:
    """Claim 11: does the gain over the strongest descent in X grow with θ's training compute?"""
    eleven = measured(rows[10])
    if not eleven:
        return None
    words = {C.HELD: "grew", C.NOISE: "stayed flat", C.NOT_HELD: "fell"}
    each = "; ".join(f"{words[c.verdict]} in {col.title} ({c.ours}, {c.sd})" for col, c in eleven)
    done = {col.title for col, _ in eleven}
    missing = [col.title for col in C.COLUMNS if col.scaling_problem and col.title not in done]
    rest = f"; not yet measured in {', '.join(missing)}" if missing else ""
    return (f"With more θ training compute, the gain after {C.SMALL_BUDGET} steps over the strongest descent in X "
            f"{each}{rest}{link(claims_link, C.CLAIMS[10])}.")


def on_amortized(rows, claims_link: str) -> str | None:
    """Claims 12 and 13: against an amortized start E(y), and refinement in X against landscape's plateau."""
    twelve, thirteen = measured(rows[11]), measured(rows[12])
    if not twelve and not thirteen:
        return None
    parts = []
    if twelve:
        parts.append(f"where an amortized start E(y) is available, landscape (plain or started from E(y)) was "
                     f"{tally(twelve, AHEAD, lambda c: c.sd)} of the better of descent in X and descent from E(y) "
                     f"after {C.SMALL_BUDGET} steps")
    if thirteen:
        parts.append(f"a few steps in Z followed by descent in X was {tally(thirteen, AHEAD, lambda c: c.sd)} of "
                     f"it at the whole budget")
    text = "; ".join(parts)
    return f"{text[0].upper()}{text[1:]}{link(claims_link, C.CLAIMS[11], C.CLAIMS[12])}."


def sentences(metrics: dict, claims_link: str) -> list[str]:
    """The findings, one sentence each, for the experiments in `metrics`; claims nobody measured are left out."""
    rows = C.cells(metrics)
    out = [f(rows, claims_link) for f in (on_speed, on_strongest, on_start, on_ood, on_defense, on_mechanisms,
                                      on_compute, on_amortized)]
    return [s for s in out if s]


def paragraph(metrics: dict, claims_link: str) -> str:
    """The findings as one paragraph."""
    return " ".join(sentences(metrics, claims_link))
