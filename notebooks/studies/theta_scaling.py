"""How do landscape learning's verdicts move with θ's training compute? A resumable study (not run by run_all.sh).

For each problem chosen (mnist and faces: 01's two GANs; pose: 03; toy: 00) θ is trained at the compute levels of
`LEVELS` (rounds and roll-outs per round scaled together from the notebook's own settings, which are the level
`DEFAULT_LEVEL`; roll-outs = rounds × batch_size from ×1/4 to ×16 of the default), for each seed, and each θ is
measured with the engine's fair comparison (llcore.compare) on the test splits of the experiment's setup:

- the reference: the strongest descent in X (`compare.strongest`: the problem's families of `PROBLEMS`, lrs over
  decades joined with the notebook's grid, the notebook's starts), searched on the validation targets for step 10 and
  for the budget (the budget's search around each family's step-10 lr, as the notebooks' controls do); it does not
  depend on θ, so it is searched and run once per seed and cached;
- landscape: θ given the same search in Z from its own start;
- for the GANs also the encoder start: descent in X from E(y) (01's encoder), searched the same way from that start;
- per split: the mean metric at 10 steps and at the budget of every method, the gain (the reference's metric over
  landscape's, > 1: landscape ahead) and the per-target median speed-up at 10 steps with its bootstrap interval
  (the reference run for `horizon` = max(MIN_HORIZON = 100, budget) steps so it can catch up);
- θ's training seconds and the forward+backward evaluations of F it took: per round, T × batch_size in the E-step
  and K × theta_batch in the M-step (`f_evaluations`).

`trend` reads the metrics.json this writes and says per problem whether the gain grows, stays flat or falls with
compute (a least-squares slope of log gain per doubling of roll-outs, over all seeds, with its t interval).

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_scaling.py pose toy
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_scaling.py mnist faces
    OMP_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_scaling.py --profile smoke toy      # seconds
Options: --seeds 0 1 (default), --levels x1 x4 (a subset of LEVELS), --out DIR (default
results/<profile>/theta_scaling). Writes DIR/metrics.json (problems → levels → rollouts, seeds, … and each problem's
settings; the problems already there from an earlier command are kept) and DIR/figures/<problem>.png.

Resuming: run the same command again. Each θ is a cached artifact (llcore.repro.cache, under the notebook's own kind
and key, so the default level's θ of seeds the notebook ran are the notebook's; a θ interrupted while it trains
resumes from its last checkpoint, every CHECKPOINT_EVERY rounds, bit-exactly); each (problem, level, seed)'s numbers
are written to DIR/parts/<problem>/<level>/seed<s>.json as soon as they are measured and reused while θ's cache key
and the measurement's settings are unchanged; the reference of each seed is cached. With everything in place a rerun
trains and measures nothing and only rewrites metrics.json and the figures.

How long (one thread, a shared 2-core machine). Smoke, toy, 4 levels × 2 seeds: about 25 s CPU in all; a level
and seed is θ's training (under 0.4 s) and its measurement (about 2-3 s: the two searches in Z with L-BFGS among the
families, then the test splits), the rest the two seeds' references and the imports. Smoke with two levels: pose
about 60 s, mnist about 60 s (its briefly trained GAN and encoder included), faces about 110 s. Default profile:
θ's training at the default level takes what the notebook's θ takes (results/default/run_times.md and the
notebooks' metrics: about 18 s toy, 190 s pose, 390 s mnist, 325 s faces per seed); a level costs rounds ×
(T·batch + K·theta_batch) evaluations of F relative to that (`estimate(problem, seconds)`): ×1/4, ×1, ×4, ×16 cost
about 0.4, 1, 3 and 10 default θ trainings (toy, theta_batch 256: 0.45, 1, 2.4, 6.4), so ~14 per seed (toy ~10).
Measuring one (level, seed) costs the notebook's validation searches and a few test runs: roughly 15 s toy, 1-2 min
pose, 2-3 min mnist, 5-8 min faces, plus the references once per seed (about twice that). With 2 seeds, per
problem: toy ~10 min, pose ~2 h, mnist ~3.5-4 h, faces ~4 h of CPU (the default level's θ is free for the seeds the
notebook has trained and cached).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

torch.set_num_threads(1)    # the cache keys hold the thread count: one thread, as the notebooks run

from llcore import compare                                                   # noqa: E402
from llcore.compare import Choice, Family, around                            # noqa: E402
from llcore.config import TrainConfig                                        # noqa: E402
from llcore.inversion import Record                                          # noqa: E402
from llcore.repro.builders import GAN_EXPERIMENTS, Setup, gan_setup, pose_setup, toy_setup   # noqa: E402
from llcore.repro.cache import cache_key, cached                             # noqa: E402
from llcore.repro.io import atomic_write_json                                # noqa: E402
from llcore.repro.paths import cache_dir                                     # noqa: E402
from llcore.repro.results import now, provenance                             # noqa: E402
from llcore.repro.scaling import SMALL_STEP, trend                          # noqa: E402
from llcore.repro.runner import notebook_parameters                          # noqa: E402
from llcore.seeding import set_seed                                          # noqa: E402
from llcore.trainer import Trainer                                           # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# The compute levels: name -> (factor on the notebook's rounds, factor on its batch_size, the roll-outs per round).
# Roll-outs (rounds × batch_size) scale by the product: ×1/4, ×1, ×4, ×16 of the default (a 64-fold span); the
# M-step per round (K updates of theta_batch pairs) is the notebook's at every level, so θ's updates scale with
# the rounds only. "x1" is the notebook's own θ (the same settings, so the same cached artifact).
LEVELS = {
    "x1/4": (Fraction(1, 2), Fraction(1, 2)),
    "x1": (Fraction(1), Fraction(1)),
    "x4": (Fraction(2), Fraction(2)),
    "x16": (Fraction(4), Fraction(4)),
}
DEFAULT_LEVEL = "x1"
SEEDS = (0, 1)
MIN_HORIZON = 100            # the reference runs max(MIN_HORIZON, budget) steps on the test targets
CHECKPOINT_EVERY = 25        # rounds between θ checkpoints while it trains (resume after an interruption)


@dataclass(frozen=True)
class Spec:
    """One problem of the study: its notebook (stem and run of the params file), the optimizer families of both
    searches, the test splits measured, and whether the experiment has an encoder start (01's E(y))."""
    notebook: str
    run: Optional[str]
    families: tuple
    splits: tuple
    encoder: bool = False


# per-target L-BFGS runs one target at a time: affordable on the toy and pose, too costly on the GANs' generators
PROBLEMS = {
    "mnist": Spec("01_gan_inversion", "mnist", compare.FIRST_ORDER, ("test_in", "test_ood"), encoder=True),
    "faces": Spec("01_gan_inversion", "faces", compare.FIRST_ORDER, ("test_in", "test_real", "test_ood"),
                  encoder=True),
    "pose": Spec("03_human_pose", None, compare.FAMILIES, ("test_in", "test_partial", "test_ood")),
    "toy": Spec("00_toy", None, compare.FAMILIES, ("test_in", "test_ood")),
}

# --profile smoke: the notebooks' smoke parameters, shrunk further (tiny θ training at each level, a handful of
# targets, a short lr grid and horizon), so that a test runs the whole study on the toy in seconds. Numbers not meant
# to be quoted.
SHORT = dict(search_grid=(0.1, 1.0), min_horizon=30)
SMOKE = {
    "toy": dict(n_train=256, n_val=6, n_test=6, budget=12, theta_width=32, rounds=4, batch_size=8, inner_steps=5,
                theta_steps=4, theta_batch=32, **SHORT),
    "pose": dict(n_train=128, n_val=8, n_test=8, budget=12, theta_width=32, rounds=4, batch_size=8, inner_steps=5,
                 theta_steps=2, theta_batch=16, **SHORT),
    "mnist": dict(n_val=8, n_test=8, budget=12, theta_width=32, rounds=4, batch_size=8, inner_steps=3,
                  theta_steps=2, theta_batch=16, **SHORT),
    "faces": dict(n_val=4, n_test=4, budget=10, theta_width=32, rounds=4, batch_size=8, inner_steps=3,
                  theta_steps=2, theta_batch=8, search_grid=(30.0, 100.0), min_horizon=30),
}
PROFILES = ("default", "smoke")


# settings

def check_names(problems: Sequence[str], levels: Sequence[str]) -> None:
    """Raise ValueError naming the choices when a problem or a level is unknown (or none is given)."""
    bad_p = [p for p in problems if p not in PROBLEMS]
    bad_l = [lv for lv in levels if lv not in LEVELS]
    if bad_p or not problems:
        raise ValueError(f"unknown problem(s) {bad_p or problems!r}; choose among {', '.join(PROBLEMS)} (or all)")
    if bad_l or not levels:
        raise ValueError(f"unknown level(s) {bad_l or levels!r}; choose among {', '.join(LEVELS)}")


def parameters(problem: str, profile: str) -> dict:
    """The notebook's parameters at `profile` ("default", or "smoke": the notebook's smoke params and SMOKE)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose among {', '.join(PROFILES)}")
    spec = PROBLEMS[problem]
    p = notebook_parameters(spec.notebook, profile, spec.run, ROOT)
    if profile == "smoke":
        p.update(SMOKE[problem])
    if p["budget"] < SMALL_STEP:
        raise ValueError(f"{problem}: budget {p['budget']} is below the step compared, {SMALL_STEP}")
    return p


def notebook_train(problem: str, p: dict) -> dict:
    """θ's training settings exactly as the notebook writes them (the same keys, so the same cache key)."""
    train = dict(rounds=p["rounds"], batch_size=p["batch_size"], inner_steps=p["inner_steps"], inner_lr=p["inner_lr"],
                 theta_steps=p["theta_steps"], theta_batch=p["theta_batch"], theta_lr=p["theta_lr"])
    if problem != "toy":
        train["buffer_rounds"] = p["buffer_rounds"]
    if PROBLEMS[problem].encoder:
        train["inner_optimizer"] = p["optimizer"]
    return train


def level_train(train: dict, level: str) -> dict:
    """The notebook's θ training `train` at compute `level`: rounds and batch_size scaled by LEVELS[level] (rounded,
    at least 1); every other setting unchanged."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose among {', '.join(LEVELS)}")
    fr, fb = LEVELS[level]
    return {**train, "rounds": max(1, round(train["rounds"] * fr)),
            "batch_size": max(1, round(train["batch_size"] * fb))}


def rollouts(train: dict) -> int:
    """θ's training roll-outs: rounds × batch_size."""
    return int(train["rounds"] * train["batch_size"])


def f_evaluations(train: dict, rounds: Optional[int] = None) -> int:
    """Forward+backward evaluations of F over `rounds` (default: all) rounds of training: per round T × batch_size
    (E-step) plus K × theta_batch (M-step)."""
    r = train["rounds"] if rounds is None else rounds
    return int(r * (train["inner_steps"] * train["batch_size"] + train["theta_steps"] * train["theta_batch"]))


def estimate(problem: str, default_seconds: float, seeds: int = len(SEEDS)) -> dict:
    """θ's training seconds per level for `seeds` seeds, scaled from the default level's `default_seconds` by the
    F evaluations per level (default parameters): {level: seconds}, plus "total"."""
    train = notebook_train(problem, parameters(problem, "default"))
    base = f_evaluations(train)
    out = {lv: default_seconds * f_evaluations(level_train(train, lv)) / base * seeds for lv in LEVELS}
    return {**out, "total": sum(out.values())}


def build_setup(problem: str, p: dict) -> Setup:
    """The experiment's Setup as its notebook builds it (no perceptual distance: the study reads pixel MSE)."""
    if problem == "toy":
        return toy_setup("cpu", p["dim_x"], p["condition"], p["manifold_dim"], p["n_train"], p["n_val"], p["n_test"])
    if problem == "pose":
        return pose_setup("cpu", p["smpl_model_dir"], p["n_train"], p["n_val"], p["n_test"], p["noise_px"],
                          p["prior_weight"], p["hide_fraction"])
    return gan_setup("cpu", p["generator"], nz=p["gan_nz"], gan_steps=p["gan_steps"], init=p["init"],
                     n_val=p["n_val"], n_test=p["n_test"], n_train_latents=p["n_train_latents"], perceptual="none")


def grid(p: dict) -> tuple:
    """The step-SMALL_STEP search's lrs: the engine's decades joined with the notebook's grid (smoke: its own short
    grid, `search_grid`); the sweep grows it past an edge."""
    if "search_grid" in p:
        return tuple(float(g) for g in p["search_grid"])
    return tuple(sorted(set(compare.WIDE_GRID) | {float(g) for g in p["lr_grid"]}))


def horizon(p: dict) -> int:
    """The reference's steps on the test targets: max(MIN_HORIZON (smoke: `min_horizon`), budget)."""
    return max(int(p.get("min_horizon", MIN_HORIZON)), int(p["budget"]))


def steps_compared(p: dict) -> tuple:
    """The steps N compared: SMALL_STEP and the budget."""
    return tuple(sorted({SMALL_STEP, int(p["budget"])}))


def digest(obj) -> str:
    """16 hex digits of sha256 over obj's JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


# θ

def checkpoint_path(name: str) -> Path:
    """Where θ with cache key `name` keeps its checkpoint while it trains (removed once θ is cached)."""
    return cache_dir() / "theta_scaling_checkpoints" / f"{name}.pt"


def trained_theta(setup: Setup, p: dict, train: dict, seed: int, log: Callable[[str], None] = print):
    """θ for `seed` trained with `train`, cached under the notebook's kind and key (what the notebook's
    `trained_theta` builds, the same artifact), checkpointed every CHECKPOINT_EVERY rounds while it trains so an
    interrupted run resumes bit-exactly. Returns (θ in eval mode, artifact {"state", "history", "seconds"}, the
    cache key)."""
    width, depth = p["theta_width"], p["theta_depth"]
    key = setup.theta_key(width, depth, train, seed, None)
    name = cache_key(setup.theta_kind, key)
    ckpt = checkpoint_path(name)

    def build() -> dict:
        set_seed(seed)
        theta = setup.theta(width, depth).to(setup.device)
        config = TrainConfig(**train, seed=seed, checkpoint_every=CHECKPOINT_EVERY)
        trainer = Trainer(setup.problem, theta, setup.y_train, config, checkpoint_path=ckpt)
        history = trainer.train(progress=False)
        return {"state": {k: v.cpu() for k, v in theta.state_dict().items()}, "history": history,
                "seconds": trainer.seconds}

    art = cached(setup.theta_kind, key, build, log=log)
    ckpt.unlink(missing_ok=True)
    theta = setup.theta(width, depth)
    theta.load_state_dict(art["state"])
    return theta.to(setup.device).eval(), art, name


def encoder_key(setup: Setup, p: dict, train: dict) -> tuple[str, dict]:
    """01's encoder's cache kind and key (from the notebook's default θ settings `train`, as 01 keys it)."""
    key = {k: v for k, v in setup.theta_key(p["theta_width"], p["theta_depth"], train, None, None).items()
           if k != "seed"}
    return f"{GAN_EXPERIMENTS[p['generator']]}_encoder", {**key, "encoder_steps": p["encoder_steps"]}


def encoder(problem: str, setup: Setup, p: dict, log: Callable[[str], None] = print):
    """01's encoder E (images (B, C, H, W) -> latents (B, nz)), cached under the notebook's kind and key."""
    from llcore.tasks.encoder import load_encoder, train_encoder
    kind, key = encoder_key(setup, p, notebook_train(problem, p))
    art = cached(kind, key, lambda: train_encoder(setup.extras["G"], setup.y_train, setup.extras["latent_dim"],
                                                  steps=p["encoder_steps"], seed=0, progress=False), log=log)
    return load_encoder(art).to(setup.device)


# the reference (θ-independent: once per seed)

def reference_starts(problem: str, setup: Setup, p: dict, seed: int) -> dict:
    """The reference's starts as 01/03/00 give its baseline: {label: None (the problem's x_0) or targets -> x_0};
    faces adds c*, the single latent that fits 64 training targets best (as 01 does, with seed 0)."""
    starts = {label: None if f is None else (lambda y, f=f: f(seed, y)) for label, f in setup.start_candidates.items()}
    if problem == "faces":
        from llcore.repro.experiment import fixed_start
        c = fixed_start(setup.problem, setup.y_train[:64], steps=p["budget"], lr=0.1, seed=0)
        starts["x0 = c* (best single latent on 64 training targets)"] = lambda y: c.expand(len(y), -1).clone()
    return starts


def encode(enc, y):
    """E(y) (B, nz) for images y (B, C, H, W), without a graph."""
    with torch.no_grad():
        return enc(y).detach()


def choice_dict(c: Choice) -> dict:
    """A Choice as plain JSON values."""
    return {"family": c.family.label, "optimizer": c.family.optimizer, "betas": c.family.betas, "lr": c.lr,
            "start": c.start, "steps": c.steps, "score": c.score}


def choice_of(d: dict) -> Choice:
    """choice_dict's inverse."""
    fam = Family(d["family"], d["optimizer"], None if d["betas"] is None else tuple(d["betas"]))
    return Choice(fam, float(d["lr"]), d["start"], int(d["steps"]), float(d["score"]))


def search_x(setup: Setup, p: dict, spec: Spec, starts: dict, seed: int, mapping=None) -> dict:
    """The strongest descent (in X, or in Z through `mapping`) on the validation targets for each N of
    steps_compared: step SMALL_STEP over grid(p), the budget around each family's step-SMALL_STEP lr. {N: Choice}."""
    out, rows = {}, []
    for n in steps_compared(p):
        g = grid(p) if n == SMALL_STEP else around(rows)
        out[n], r = compare.strongest(setup.problem, setup.y_val, n, mapping, spec.families, g, starts, seed)
        if n == SMALL_STEP:
            rows = r
    return out


def reference_key(problem: str, setup: Setup, p: dict, seed: int) -> dict:
    """What identifies the reference of `seed` (its cache key's configuration; the encoder's cache key included)."""
    spec = PROBLEMS[problem]
    enc = cache_key(*encoder_key(setup, p, notebook_train(problem, p))) if spec.encoder else ""
    return {"problem": problem, "setup": setup.key, "seed": seed, "budget": p["budget"], "horizon": horizon(p),
            "n_val": int(setup.y_val.shape[0]), "n_test": p["n_test"], "splits": list(spec.splits),
            "families": [f.label for f in spec.families], "grid": grid(p), "encoder": enc}


def reference(problem: str, setup: Setup, p: dict, seed: int, enc=None,
              log: Callable[[str], None] = print) -> tuple[dict, str]:
    """The θ-independent side for `seed`, cached: ({"reference" (and "encoder", from E = `enc`, for the GANs):
    {"choices": {N: choice dict}, "records": {split: {N: {"loss", "metric" (horizon+1, B), "seconds" (horizon+1,),
    "x", "z"}}}, "start_metric": {split: {N: mean metric at that choice's x_0}}}} on the test targets of seed
    `seed`, horizon steps each; its cache key)."""
    spec, h = PROBLEMS[problem], horizon(p)
    config = reference_key(problem, setup, p, seed)

    def build() -> dict:
        sides = {"reference": reference_starts(problem, setup, p, seed)}
        if enc is not None:
            sides["encoder"] = {"x0 = E(y)": lambda y: encode(enc, y)}
        art = {}
        for side, starts in sides.items():
            choices = search_x(setup, p, spec, starts, seed)
            records, start_metric = {}, {}
            for split in spec.splits:
                y = setup.splits[split](seed)
                records[split] = {}
                for n, c in choices.items():
                    rec = compare.run(setup.problem, y, c, h, None, starts, seed)
                    records[split][n] = {k: getattr(rec, k).cpu() for k in ("loss", "metric", "seconds", "x", "z")
                                         if getattr(rec, k) is not None}
                    start_metric.setdefault(split, {})[str(n)] = float(rec.curve(setup.which)[0])
            art[side] = {"choices": {n: choice_dict(c) for n, c in choices.items()}, "records": records,
                         "start_metric": start_metric}
            log(f"{problem} seed {seed}: {side} " + "; ".join(f"N={n}: {c.describe()}" for n, c in choices.items()))
        return art

    return cached("theta_scaling_reference", config, build, log=log), cache_key("theta_scaling_reference", config)


def as_record(d: dict) -> Record:
    """A cached reference record (reference's "records" entry) as an llcore Record."""
    return Record(loss=d["loss"], seconds=d["seconds"], x=d["x"], z=d["z"], metric=d.get("metric"))


# one θ measured

def measure(problem: str, setup: Setup, p: dict, theta, refs: dict, seed: int) -> dict:
    """Landscape (θ, the same search in Z from θ's start) against each side of `refs` (reference's artifact) on each
    split's test targets of `seed`: {"landscape": {"choices": {N: choice}}, "choices": {side: {N: choice}},
    "splits": {split: {"landscape":
    {"metric_at": {N: mean}}, "against": {side: {"metric_at", "gain_at" (side's metric / landscape's at N),
    "speedup_10" (metrics.per_target_summary of the per-target speed-up at SMALL_STEP, plus "curve"),
    "start_metric"}}}}}."""
    spec, h = PROBLEMS[problem], horizon(p)
    land_starts = {"θ's start": None}
    choices = search_x(setup, p, spec, land_starts, seed, mapping=theta)
    out = {"landscape": {"choices": {str(n): choice_dict(c) for n, c in choices.items()}},
           "choices": {side: {str(n): c for n, c in art["choices"].items()} for side, art in refs.items()},
           "splits": {}}
    for split in spec.splits:
        y = setup.splits[split](seed)
        land = {n: compare.run(setup.problem, y, c, n, theta, land_starts, seed) for n, c in choices.items()}
        land_at = {str(n): float(r.curve(setup.which)[n]) for n, r in land.items()}
        entry = {"landscape": {"metric_at": land_at}, "against": {}}
        for side, art in refs.items():
            recs = {n: as_record(r) for n, r in art["records"][split].items()}
            ref_at = {str(n): float(r.curve(setup.which)[n]) for n, r in recs.items()}
            o = compare.evaluate(setup.problem, y, theta, recs[SMALL_STEP], choices[SMALL_STEP], SMALL_STEP, h,
                                 reference_choice=choice_of(art["choices"][SMALL_STEP]),
                                 landscape_starts=land_starts, seed=seed)
            entry["against"][side] = {"metric_at": ref_at, "gain_at": {n: ref_at[n] / land_at[n] for n in ref_at},
                                      "speedup_10": o.summary, "start_metric": art["start_metric"][split]}
        out["splits"][split] = entry
    return out


def part_path(out: Path, problem: str, level: str, seed: int) -> Path:
    """Where one (problem, level, seed)'s numbers are kept: out/parts/<problem>/<level with / as _>/seed<s>.json."""
    return out / "parts" / problem / level.replace("/", "_") / f"seed{seed}.json"


def run_problem(problem: str, profile: str, seeds: Sequence[int], levels: Sequence[str], out: Path,
                log: Callable[[str], None] = print) -> dict:
    """Train and measure every (level, seed) of `problem` not yet measured (parts reused while their keys match) and
    return the problem's metrics.json entry: {"notebook", "settings", "references" {seed: {side: {N: choice}}}, "levels"
    {level: {"rounds", "batch_size", "rollouts", "factor", "f_evaluations", "default", "seeds" [part, ...]}}}."""
    started, t0 = now(), time.perf_counter()
    spec, p = PROBLEMS[problem], parameters(problem, profile)
    setup = build_setup(problem, p)
    base = notebook_train(problem, p)
    settings = {"profile": profile, "budget": p["budget"], "steps": list(steps_compared(p)), "horizon": horizon(p),
                "n_val": int(setup.y_val.shape[0]), "n_test": p["n_test"], "splits": list(spec.splits),
                "families": [f.label for f in spec.families], "grid": list(grid(p)), "which": setup.which,
                "metric": setup.metric, "theta": {"width": p["theta_width"], "depth": p["theta_depth"]},
                "train_default": base, "default_level": DEFAULT_LEVEL, "encoder": spec.encoder}
    refs_by_seed, enc = {}, {}

    def refs_for(seed: int):
        if seed not in refs_by_seed:
            if spec.encoder and not enc:
                enc["E"] = encoder(problem, setup, p, log)
            refs_by_seed[seed] = reference(problem, setup, p, seed, enc.get("E"), log)
        return refs_by_seed[seed]

    entry = {"notebook": spec.notebook + (f" ({spec.run})" if spec.run else ""), "settings": settings,
             "references": {}, "levels": {}}
    for lv in levels:
        train = level_train(base, lv)
        lv_entry = {"rounds": train["rounds"], "batch_size": train["batch_size"], "rollouts": rollouts(train),
                    "factor": rollouts(train) / rollouts(base), "f_evaluations": f_evaluations(train),
                    "default": lv == DEFAULT_LEVEL, "train": train, "seeds": []}
        for seed in seeds:
            path = part_path(out, problem, lv, seed)
            theta_name = cache_key(setup.theta_kind, setup.theta_key(p["theta_width"], p["theta_depth"], train, seed,
                                                                      None))
            ref_name = cache_key("theta_scaling_reference", reference_key(problem, setup, p, seed))
            want = digest({"theta": theta_name, "reference": ref_name, "settings": settings, "seed": seed})
            old = json.loads(path.read_text()) if path.exists() else None
            if old is not None and old.get("key") == want:
                log(f"{problem} {lv} seed {seed}: measured already ({path})")
                lv_entry["seeds"].append(old["numbers"])
                continue
            refs, _ = refs_for(seed)
            t = time.perf_counter()
            theta, art, _ = trained_theta(setup, p, train, seed, log)
            numbers = {"seed": seed, "train_seconds": float(art["seconds"]), "rounds_trained": len(art["history"]),
                       "f_evaluations": f_evaluations(train, len(art["history"])), "theta_cache_key": theta_name,
                       "reference_cache_key": ref_name, **measure(problem, setup, p, theta, refs, seed),
                       "measure_seconds": time.perf_counter() - t}
            atomic_write_json(path, {"key": want, "numbers": numbers})
            s = numbers["splits"][spec.splits[0]]["against"]["reference"]
            log(f"{problem} {lv} seed {seed}: θ {numbers['train_seconds']:.1f} s, gain at {SMALL_STEP} "
                f"{s['gain_at'][str(SMALL_STEP)]:.3g}, per-target median speed-up {s['speedup_10']['median']:.3g} "
                f"[{s['speedup_10']['median_interval'][0]:.3g}, {s['speedup_10']['median_interval'][1]:.3g}]")
            lv_entry["seeds"].append(numbers)
        entry["levels"][lv] = lv_entry
    for lv_entry in entry["levels"].values():
        for numbers in lv_entry["seeds"]:
            entry["references"].setdefault(str(numbers["seed"]), {"cache_key": numbers["reference_cache_key"],
                                                                  **numbers["choices"]})
    entry["provenance"] = provenance(list(seeds), started, time.perf_counter() - t0, "cpu")
    return entry


# the verdict: does the gain grow with compute?

# the figure

def figure(name: str, entry: dict, path: Path) -> Path:
    """Gain against θ's training roll-outs (log x) for one problem: the reference's metric at 10 over landscape's
    (left) and the per-target median speed-up at 10 with its interval (right), first split; seeds as points, the
    encoder start's too for the GANs, the tie line at 1 and the default level marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    split = entry["settings"]["splits"][0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    sides = [s for s in ("reference", "encoder") if entry["settings"]["encoder"] or s == "reference"]
    for si, side in enumerate(sides):
        colour = ("tab:blue", "tab:orange")[si]
        label = "strongest descent in X" if side == "reference" else "descent in X from E(y)"
        for k, (lv, e) in enumerate(entry["levels"].items()):
            for j, s in enumerate(e["seeds"]):
                a = s["splits"][split]["against"][side]
                x = e["rollouts"] * (1 + 0.04 * (j - (len(e["seeds"]) - 1) / 2) + 0.02 * si)
                first = k == 0 and j == 0
                axes[0].plot(x, a["gain_at"][str(SMALL_STEP)], "o", color=colour, label=label if first else None)
                m, (lo, hi) = a["speedup_10"]["median"], a["speedup_10"]["median_interval"]
                axes[1].errorbar(x, m, yerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=3,
                                 label=label if first else None)
    default = [e["rollouts"] for e in entry["levels"].values() if e["default"]]
    metric = entry["settings"]["metric"]
    for ax, ylabel in zip(axes, (f"gain at {SMALL_STEP} steps (reference's {metric} / landscape's)",
                                 f"per-target median speed-up at {SMALL_STEP} steps")):
        ax.axhline(1.0, color="grey", lw=1, ls="--", label="tie")
        for d in default:
            ax.axvline(d, color="tab:green", lw=1, ls=":", label="notebook's default θ")
        ax.set_xscale("log")
        ax.set_xlabel("θ's training roll-outs (rounds × batch size)")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{name} ({entry['notebook']}, {entry['settings']['profile']} profile): landscape's gain vs θ's "
                 f"training compute, {split}; one point per seed", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# the command

def study(problems: Sequence[str], profile: str = "default", seeds: Sequence[int] = SEEDS,
          levels: Sequence[str] = tuple(LEVELS), out: Optional[Path] = None,
          log: Callable[[str], None] = print) -> dict:
    """Run or resume the study for `problems`; write out/metrics.json (merged with the problems already there) after
    each problem, and out/figures/<problem>.png. Returns the metrics written."""
    problems = list(PROBLEMS) if list(problems) == ["all"] else list(problems)
    check_names(problems, levels)
    if len(set(seeds)) < 2:
        raise ValueError(f"the study needs ≥ 2 seeds per level, got {list(seeds)}")
    out = Path(out or ROOT / "results" / profile / "theta_scaling")
    started, t0 = now(), time.perf_counter()
    path = out / "metrics.json"
    metrics = json.loads(path.read_text()) if path.exists() else {}
    if metrics.get("profile") not in (None, profile):
        raise ValueError(f"{path} holds the {metrics['profile']!r} profile; give another --out for {profile!r}")
    for name in problems:
        entry = run_problem(name, profile, seeds, levels, out, log)
        metrics = {"experiment": "theta_scaling", "profile": profile, "seeds": list(seeds),
                   "steps": SMALL_STEP, "levels": {lv: [str(f) for f in LEVELS[lv]] for lv in LEVELS},
                   "default_level": DEFAULT_LEVEL,
                   "problems": {**metrics.get("problems", {}), name: entry}}
        metrics["trend"] = trend(metrics)
        metrics["provenance"] = provenance(list(seeds), started, time.perf_counter() - t0, "cpu")
        atomic_write_json(path, metrics)
        log(f"wrote {path} and {figure(name, entry, out / 'figures' / f'{name}.png')}")
    for name, t in metrics.get("trend", {}).items():
        lo, hi = t["interval"]
        log(f"{name}: gain at {SMALL_STEP} × {t['factor_per_doubling']:.3g} per doubling of θ's roll-outs (log slope "
            f"{t['slope_per_doubling']:.3g}, {t['level']:.0%} interval [{lo:.3g}, {hi:.3g}]): {t['verdict']}")
    return metrics


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("problems", nargs="+", help=f"any of {', '.join(PROBLEMS)}, or all")
    ap.add_argument("--profile", default="default", choices=PROFILES)
    ap.add_argument("--smoke", action="store_true", help="the same as --profile smoke")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--levels", nargs="+", default=list(LEVELS), help=f"a subset of {', '.join(LEVELS)}")
    ap.add_argument("--out", default="", help="output folder (default results/<profile>/theta_scaling)")
    return ap.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    profile = "smoke" if a.smoke else a.profile
    problems = list(PROBLEMS) if a.problems == ["all"] else a.problems
    try:
        check_names(problems, a.levels)
    except ValueError as err:
        print(f"theta_scaling: {err}", file=sys.stderr)
        return 2
    study(problems, profile, a.seeds, a.levels, Path(a.out) if a.out else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
