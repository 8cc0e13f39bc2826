"""Each notebook's conclusion, written from the metrics it has just saved: one function per experiment, returning
Markdown lines (the notebook shows them with `show_markdown`). Every number comes from `metrics.json`; the verdicts
on the paper's claims use the claims table's own rules (`claims.verdict_lines`), so a notebook and the table cannot
disagree."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from . import ablations as variants
from .claims import verdict_lines
from .controls import describe
from .markdown import is_capped
from .notebook import mean_median_notes

CLAIMS_HEAD = "**The paper's claims, here** (the rules of the claims table in results/README.md):"


def claims_block(m: dict) -> list[str]:
    """The heading and one line per claim this experiment measures (none: nothing)."""
    lines = verdict_lines(m.get("experiment", ""), m)
    return [CLAIMS_HEAD, "\n".join(lines)] if lines else []


def scale_note(m: dict, budget: int, default_note: str = ".") -> str:
    """Profile, seeds and budget; `default_note` ends the sentence outside the smoke profile."""
    return (f"Profile `{m['profile']}`, seeds {m['seeds']}, budget {budget} steps"
            + (": CI scale, not numbers to quote." if m["profile"] == "smoke" else default_note))


def toy(m: dict, budget: int) -> list[str]:
    """00: speed-ups in and out of distribution, the budget, random θ, θ's cost."""
    ti, to = m["splits"]["test_in"], m["splits"]["test_ood"]
    c = lambda s, meth, t: s["curves"][meth][str(t)]   # noqa: E731
    return [
        f"On held-out targets from the training distribution (test_in), Adam in the learned Z reached after 10 steps "
        f"the loss that tuned Adam in X needs {ti['speedup_at']['10']:.1f}x as many steps for (speedup_at[10]"
        f"{' capped at the budget' if is_capped(ti, '10') else ''}); at 5 steps the factor is "
        f"{ti['speedup_at']['5']:.1f}x.",
        f"At the {budget}-step budget: baseline {c(ti, 'baseline', budget):.2e} vs landscape "
        f"{c(ti, 'landscape', budget):.2e}; speedup_steps {ti['speedup_steps']:.2f} ("
        f"{'landscape reached the baseline' if ti['speedup_steps_reached'] else 'landscape never reached the baseline'}"
        f"'s final loss), speedup_seconds {ti['speedup_seconds']:.2f} (θ's forward pass included).",
        f"Out of distribution (test_ood, solutions off the training subspace): speedup_at[10] = "
        f"{to['speedup_at']['10']:.1f}x, speedup_steps = {to['speedup_steps']:.2f}; step-10 loss baseline "
        f"{c(to, 'baseline', 10):.2e} vs landscape {c(to, 'landscape', 10):.2e}.",
        f"An untrained random θ (plain MLP) ends at {c(ti, 'random_theta', budget):.2e} on test_in, "
        f"{c(ti, 'random_theta', budget) / c(ti, 'baseline', budget):.1f}x the baseline's final loss.",
        f"Training θ took {m['theta']['train_seconds_mean']:.0f} s per seed on {m['provenance']['device']}.",
    ] + describe(m, ["test_in", "test_ood"]) + mean_median_notes(m) + claims_block(m)


def gan_inversion(m: dict, budget: int, opt_name: str) -> list[str]:
    """01: per split, landscape against the baseline at 10 steps and at the budget, random θ and the encoder, the
    perceptual distance, amortization; then the claims, the encoder comparison and what limits the gain."""
    lines, sp = [], m["splits"]
    for k, s in sp.items():
        c = s["curves"]
        cap = " (capped: the baseline never got there within the budget)" if is_capped(s, '10') else ""
        lines.append(
            f"**{k}** ({s['targets']}): after 10 steps landscape reaches a pixel MSE of {c['landscape']['10']:.4f} vs "
            f"the baseline's {c['baseline']['10']:.4f}; the baseline needs {s['speedup_at']['10']:.1f}x as many steps "
            f"to match it (speedup_at[10]{cap}). At the {budget}-step budget: baseline {c['baseline'][str(budget)]:.4f}, "
            f"landscape {c['landscape'][str(budget)]:.4f} (speedup_steps {s['speedup_steps']:.2f}, speedup_seconds "
            f"{s['speedup_seconds']:.2f}). Random θ ends at {c['random_theta'][str(budget)]:.4f}; the encoder alone "
            f"gives {s['encoder']['mse']:.4f}, and {opt_name} from the encoder's guess ends at "
            f"{c['encoder_init'][str(budget)]:.4f}.")
        if "perceptual" in s:
            pc = s["perceptual"]
            lines.append(f"  {pc['name']} at step 10: landscape {pc['landscape']['10']:.4f}, baseline "
                         f"{pc['baseline']['10']:.4f}; at {budget}: {pc['landscape'][str(budget)]:.4f} vs "
                         f"{pc['baseline'][str(budget)]:.4f}.")
        a = s["amortization"]
        lines.append(f"  θ training ({a['theta_train_seconds']:.0f} s) pays for itself after "
                     + (f"{a['break_even_inversions']:.0f} inversions." if a["break_even_inversions"] else
                        "no number of inversions: landscape saved no time to the baseline's final quality."))
    enc_better = [k for k in sp if sp[k]["curves"]["encoder_init"]["10"] < sp[k]["curves"]["landscape"]["10"]]
    cost = sum(sp[k]["seconds_per_step"]["landscape"] / sp[k]["seconds_per_step"]["baseline"] for k in sp) / len(sp)
    th = m["theta"]
    others = [
        f"- *Landscape vs an encoder*: {opt_name} from the encoder's guess is better than landscape at step 10 on "
        f"{len(enc_better)} of {len(sp)} splits" + (f" ({', '.join(enc_better)})" if enc_better else "")
        + "; the encoder alone (0 steps): " + ", ".join(f"{k} {sp[k]['encoder']['mse']:.4f}" for k in sp) + ".",
        f"- *What limits it here*: a step in Z costs {cost:.2f}x a step in X (θ's forward and backward), so "
        f"speedup_seconds {'trails' if cost > 1 else 'keeps up with'} speedup_steps; θ was trained for "
        f"{th['train']['rounds']} rounds of {th['train']['batch_size']} roll-outs of T = {th['train']['inner_steps']} "
        f"steps ({th['train_seconds_mean']:.0f} s per seed on {m['provenance']['device']}); past T the trajectories θ "
        "was trained on end, and the gain fades."]
    return lines + describe(m, list(sp)) + mean_median_notes(m) + claims_block(m) + ["\n".join(others)]


def defense(m: dict, split_names: Sequence[str], premise_backbones: Sequence[str],
            control_splits: Sequence[str]) -> list[str]:
    """02: per backbone the 1-step landscape defense against the baseline's best reversal step, the self-supervised
    premise, the adaptive evaluation, the controls and the claims."""
    lines = []
    for b in split_names:
        s = m["splits"][b]
        c, cl = s["curves"], s["clean_accuracy"]
        best_t = max([t for t in c["baseline"] if int(t) >= 1], key=lambda t: c["baseline"][t])
        l1, lsd = c["landscape"]["1"], s["spread"]["landscape"]["1"]
        verdict = "**reaches**" if l1 >= c["baseline"][best_t] else "does **not** reach"
        lines.append(
            f"**{b}**: no defense {100 * c['no_defense']['0']:.1f}% robust. The baseline reversal is best at step "
            f"{best_t}: {100 * c['baseline'][best_t]:.1f}% robust, clean {100 * cl['baseline'][best_t]:.1f}%. "
            f"Landscape after **1 step**: {100 * l1:.1f}% ± {100 * lsd:.1f} robust, clean "
            f"{100 * cl['landscape']['1']:.1f}%; it {verdict} the baseline's best (1-step clean accuracy "
            f"{cl['landscape']['1'] - cl['baseline'][best_t]:+.3f} vs the baseline's at that step). At 1 / 2 / 5 steps, "
            "landscape minus baseline: "
            + " / ".join(f"{100 * (c['landscape'][t] - c['baseline'][t]):+.1f}" for t in ("1", "2", "5")
                         if t in c["landscape"])
            + f" points (seed std of landscape at 1 step {100 * lsd:.1f}). Landscape at step 0, θ's learned start "
            f"r = θ(z_0) before any descent: {100 * c['landscape']['0']:.1f}% robust, clean "
            f"{100 * cl['landscape']['0']:.1f}%."
            + (f" θ trained on clean images only: {100 * c['landscape_clean_trained']['1']:.1f}% at 1 step."
               if "landscape_clean_trained" in c else ""))
    prem = {r["backbone"]: r for r in m["backbones"]}
    for b in premise_backbones:
        r = prem[b]
        rise = r["ssl_loss_attacked"] - r["ssl_loss_clean"]
        noise_rise = r["ssl_loss_random_sign_noise"] - r["ssl_loss_clean"]
        lines.append(
            f"**Premise ({b})**: the SSL loss on attacked images is {r['ssl_loss_attacked']:.3f} vs "
            f"{r['ssl_loss_clean']:.3f} on clean ones ({rise:+.3f}; random ±ε sign noise: {noise_rise:+.3f}). "
            + ("The attack raises the self-supervised loss, so lowering it has a reason to undo the attack."
               if rise > 0 and rise > noise_rise else
               "The attack does not raise the self-supervised loss more than random noise of the same size does, so "
               "the SSL signal cannot tell attacked images apart here: whatever the reversal restores comes from where "
               "descent (and θ's learned start θ(z_0)) moves the image, not from a detected attack."))
    for b, a in m["adaptive_attack"].items():
        lines.append(f"**Adaptive evaluation ({b})**: " + "; ".join(
            f"{meth} ({r['defense_steps']} reversal step(s)) keeps {100 * r['robust_accuracy']:.1f}% ± "
            f"{100 * r['spread']:.1f} against {100 * r['static_pgd_same_images']:.1f}% under static PGD on the same "
            "images" + (f" (static attacks overstate it by "
                        f"{100 * (r['static_pgd_same_images'] - r['robust_accuracy']):.1f} points)"
                        if r["static_pgd_same_images"] > r["robust_accuracy"] else "")
            for meth, r in a["methods"].items()) + f". Attack: {a['attack']}.")
    return lines + describe(m, list(control_splits)) + mean_median_notes(m, steps=(1,)) + claims_block(m)


def pose(m: dict, ambiguity: pd.DataFrame, split_names: Sequence[str], budget: int) -> list[str]:
    """03: MPJPE and objective speed-ups per split, the depth ambiguity (`ambiguity`: the depth_ambiguity table),
    what limits the speed-up, the controls and the claims."""
    lines = []
    for k in split_names:
        s, o = m["splits"][k], m["splits"][f"{k}_objective"]
        c = s["curves"]
        lines.append(
            f"**{k}**: MPJPE after 10 steps: landscape {c['landscape']['10']:.0f} mm vs baseline "
            f"{c['baseline']['10']:.0f} mm (speedup_at[10] on MPJPE {s['speedup_at']['10']:.1f}x"
            f"{' capped' if is_capped(s, '10') else ''}; on the objective {o['speedup_at']['10']:.1f}x). At "
            f"{budget} steps: baseline {c['baseline'][str(budget)]:.0f} mm, landscape {c['landscape'][str(budget)]:.0f} "
            f"mm, random θ {c['random_theta'][str(budget)]:.0f} mm, pose-VAE latent "
            f"{c['pose_prior_latent'][str(budget)]:.0f} mm; objective speedup_steps {o['speedup_steps']:.2f}, "
            f"speedup_seconds {o['speedup_seconds']:.2f}.")
    lines.append(f"The baseline started from the {m['baseline_start'][5:]} (chosen on validation targets). "
                 f"θ training took {m['theta']['train_seconds_mean']:.0f} s per seed.")
    amb, amb_splits = ambiguity.set_index(["split", "method"]), list(ambiguity["split"].unique())
    for k in amb_splits:
        b = amb.loc[(k, "baseline")]
        head = (f"**Depth ambiguity ({k})**: {100 * b['fits_at_or_below_true_objective']:.0f}% of the baseline's "
                f"final fits reach an objective at or below the true pose's (medians {b['objective_fit_median']:.3g} "
                f"vs {b['objective_true_pose_median']:.3g})")
        if b["fits_at_or_below_true_objective"] > 0:
            lines.append(head + f", yet those fits sit a median {b['mpjpe_mm_of_those_median']:.0f} mm from the true "
                         "joints: they explain the keypoints as well as the truth does, so their 3D error is the depth "
                         "basin they chose, which the 2D objective cannot see.")
        else:
            lines.append(head + f"; within {budget} steps no fit explains the keypoints as well as the truth, so part "
                         f"of the {b['mpjpe_mm_all_median']:.0f} mm median error here is unfinished descent, not "
                         "ambiguity.")
    o_in, o_ood = m["splits"]["test_in_objective"], m["splits"]["test_ood_objective"]
    n_last = list(o_ood["speedup_at"])[-1]
    cost = o_in["speedup_steps"] / max(o_in["speedup_seconds"], 1e-12)
    any_capped = any(is_capped(m["splits"][k], str(n)) for k in amb_splits for n in m["splits"][k]["speedup_at"])
    lines.append(
        f"**What limits the speed-up here**: (1) on the objective the gain shrinks as the budget grows "
        f"(speedup_at[{'/'.join(o_in['speedup_at'])}] on test_in: "
        + " / ".join(f"{v:.1f}" for v in o_in["speedup_at"].values())
        + f"): θ's learned descent helps most early, and at {budget} steps landscape "
        + ("reaches the baseline's final objective first" if o_in["speedup_steps"] >= 1
           else "does not reach the baseline's final objective")
        + f" (speedup_steps {o_in['speedup_steps']:.2f}); (2) a landscape step costs {cost:.2f}x a baseline step in "
        f"wall-clock (θ's forward and backward), so seconds gain less than steps; (3) on OOD poses θ's learned prior "
        f"points towards the training families (objective speedup_at[{n_last}] {o_ood['speedup_at'][n_last]:.2f})"
        + (f"; (4) MPJPE speed-ups marked capped are {budget}/N because the baseline, started from the mean pose, "
           "settles in a worse depth basin and never reaches landscape's MPJPE." if any_capped else "."))
    return (lines + describe(m, ["test_in", "test_ood", "test_in_objective", "test_ood_objective"])
            + mean_median_notes(m) + claims_block(m))


def your_problem(m: dict, budget: int) -> list[str]:
    """06: mean and median at 10 steps and at the budget, the fraction of targets that reach the baseline, the
    controls, θ's cost and the claims."""
    lines = []
    for k, s in m["splits"].items():
        c, med, fr = s["curves"], s["curves_median"], s["fraction_reaching"]
        ahead = lambda cc, t: "landscape" if cc["landscape"][str(t)] < cc["baseline"][str(t)] else "the baseline"  # noqa: E731
        lines.append(
            f"**{k}**: after 10 steps landscape's mean MSE is {c['landscape']['10']:.3g} against the baseline's "
            f"{c['baseline']['10']:.3g} ({m['baseline']}): the baseline needs {s['speedup_at']['10']:.1f}x as many "
            f"steps to match it{' (capped)' if is_capped(s, '10') else ''}. At the {budget}-step budget the "
            f"mean says {ahead(c, budget)} is ahead (landscape {c['landscape'][str(budget)]:.3g}, baseline "
            f"{c['baseline'][str(budget)]:.3g}), the median says {ahead(med, budget)} (landscape "
            f"{med['landscape'][str(budget)]:.3g}, baseline {med['baseline'][str(budget)]:.3g}); "
            f"{fr['landscape'][str(budget)]:.0%} of targets reach the baseline's final mean with landscape, "
            f"{fr['baseline'][str(budget)]:.0%} with the baseline.")
    lines += describe(m, list(m["splits"])) + mean_median_notes(m)
    lines.append(f"θ cost {m['theta']['train_seconds_mean']:.0f} s of training per seed; " + scale_note(m, budget))
    return lines + claims_block(m)


def ablations(m: dict, problems: Sequence[str], budget: int) -> tuple[list[str], list[tuple[str, str, str]]]:
    """04: per problem, each of `variants.CLAIMS` decided by 04's rules (final metric beyond the noise; the unrolled
    variant also on training time and memory). Returns (Markdown lines, [(problem, claim, verdict)])."""
    lines, verdicts = [], []
    for p in problems:
        base = m["problems"][p]["baseline"]
        lines.append(f"**{p}** ({m['problems'][p]['problem']}; tuned baseline {base['start']}, lr {base['lr']:g}):")
        for claim, a, b in variants.CLAIMS:
            if not all(f"{p}/{n}" in m["variants"] for n in (a, b) if n != "baseline"):
                lines.append(f"- *{claim}*: not run (variant missing from this run).")
                continue
            text, verdict = variants.compare_finals(m, p, a, b)
            if b == "unrolled":    # the claim: as good or better, and cheaper
                cost, verdict = variants.unrolled_verdict(m, p, verdict)
                text += cost
            verdicts.append((p, claim, verdict))
            lines.append(f"- *{claim}*: **{verdict}**: {text}.")
    lines.append(scale_note(m, budget, "; reduced scale relative to 01/03 (see the introduction), so these compare "
                                       "variants, not the paper's sizes."))
    return lines + mean_median_notes(m), verdicts
