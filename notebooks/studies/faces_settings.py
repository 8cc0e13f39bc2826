"""01 faces settings study: θ settings compared on validation targets only (not run by run_all.sh).

Targets G(x) for latents drawn with seeds 77 and 78 (32 each; no split of notebook 01 uses them); one θ (seed 0) per
setting; the baseline's lr and start (x0 ~ N(0, I) or c*) chosen on the same targets by the loss at step 10. Outputs
(result_<name>.json, baseline.json) are committed in results/default/gan_inversion_faces/studies/.
    OMP_NUM_THREADS=1 .venv/bin/python notebooks/studies/faces_settings.py AD     # A = round 60, D = round 120
    names: AD, B (T = 10), C (dim Z 400), BC, R1 (buffer of 1 round), R60 (buffer of all 60 rounds),
           S10, S30, S100, S200 (plain gradient descent in Z, the paper's Eq. 4, z lr 10 / 30 / 100 / 200; compared with plain gradient
           descent in X, whose lr and start get their own sweep: baseline_sgd.json)
"""
import os, sys, json, time
import torch
torch.set_num_threads(1)
import numpy as np
from llcore import ResidualMLP, TrainConfig, Trainer
from llcore.repro.experiment import Method, compare
from llcore.metrics import speedup_at
from llcore.tasks import gan
from llcore.seeding import set_seed

OUT = os.environ.get("STUDY_DIR", "/tmp/llcore_studies/faces")
os.makedirs(OUT, exist_ok=True)
name = sys.argv[1]
# config name -> (ResidualMLP kwargs, TrainConfig overrides, snapshot rounds)
BASE = dict(rounds=60, batch_size=32, inner_steps=20, inner_lr=0.3, theta_steps=20, theta_batch=32,
            theta_lr=1e-3, buffer_rounds=20, seed=0)
CONFIGS = {
    "AD": (dict(width=1024, depth=3), {}, [60, 120]),        # A = round 60, D = round 120 of the same run
    "B":  (dict(width=1024, depth=3), dict(inner_steps=10), [60]),
    "C":  (dict(dim_z=400, width=1024, depth=3), {}, [60]),
    "BC": (dict(dim_z=400, width=1024, depth=3), dict(inner_steps=10), [60]),
    "R1": (dict(width=1024, depth=3), dict(buffer_rounds=1), [60]),
    "R60": (dict(width=1024, depth=3), dict(buffer_rounds=60), [60]),
    "S10": (dict(width=1024, depth=3), dict(inner_optimizer="sgd", inner_lr=10.0), [60]),
    "S30": (dict(width=1024, depth=3), dict(inner_optimizer="sgd", inner_lr=30.0), [60]),
    "S100": (dict(width=1024, depth=3), dict(inner_optimizer="sgd", inner_lr=100.0), [60]),
    "S200": (dict(width=1024, depth=3), dict(inner_optimizer="sgd", inner_lr=200.0), [60]),
}
for extra in sys.argv[2:]:   # e.g. key=value overrides for ad-hoc configs
    k, v = extra.split("="); CONFIGS[name][1][k] = type(BASE[k])(v) if k in BASE else float(v)
mkw, over, snaps = CONFIGS[name]
cfg_kw = {**BASE, **over}

G = gan.load_face_generator().eval().requires_grad_(False)
problem = gan.gan_problem(G, 100, perceptual=None, perceptual_weight=0.0, init="normal", name="faces")
problem.metric = gan.image_mse
def generated(n, s):
    with torch.no_grad():
        return G(torch.randn(n, 100, generator=torch.Generator().manual_seed(s))).clamp(0, 1)
y_train = generated(2048, 1)
vals = {"val77": generated(32, 77), "val78": generated(32, 78)}
splits = {k: (lambda s, v=v: v) for k, v in vals.items()}
STEPS = [0, 1, 5, 10, 20, 50]
BUDGET_B, BUDGET_L = 100, 50

# ---- baseline (independent of θ), with the same optimizer as θ's inner loop: each (start, lr) computed once, cached in
# $STUDY_DIR/baseline.json (Adam) or baseline_<optimizer>.json; a grid that grows adds only its new points
OPT = cfg_kw.get("inner_optimizer", "adam")
LRS = {"adam": [0.1, 0.3, 1.0], "sgd": [3.0, 10.0, 30.0, 100.0, 200.0]}[OPT]
bpath = f"{OUT}/baseline.json" if OPT == "adam" else f"{OUT}/baseline_{OPT}.json"
cached_b = json.load(open(bpath)) if os.path.exists(bpath) else {"runs": {}, "seconds": 0.0}
todo = [(sname, lr) for sname in ("normal", "cstar") for lr in LRS if f"{sname}@{lr}" not in cached_b["runs"]]
if todo:
    t0 = time.perf_counter()
    from llcore.repro.experiment import fixed_start
    c_fixed = fixed_start(problem, y_train[:64], steps=200, lr=0.1, seed=0)
    starts = {"normal": None, "cstar": (lambda s, y: c_fixed.expand(len(y), -1).clone())}
    for sname, lr in todo:
        cmp = compare(problem, splits, [Method("baseline", lr_grid=[lr], x0=starts[sname], optimizer=OPT)],
                      {"baseline": lr}, BUDGET_B, [0], which="metric")
        cached_b["runs"][f"{sname}@{lr}"] = {sp: {"curve": cmp.curves[sp]["baseline"][0].tolist(),
                                                  "seconds": cmp.seconds[sp]["baseline"][0].tolist()} for sp in splits}
    cached_b["seconds"] += time.perf_counter() - t0
    json.dump(cached_b, open(bpath, "w"))
    print("baseline done", time.perf_counter() - t0, flush=True)
B = {k: v for k, v in cached_b["runs"].items() if float(k.split("@")[1]) in LRS}
def pick_baseline(allowed):
    # chosen by mean pixel MSE at step 10 over both val sets (64 targets)
    score = {k: np.mean([v[sp]["curve"][10] for sp in splits]) for k, v in B.items() if k.split("@")[0] in allowed}
    return min(score, key=score.get)

# ---- train θ
set_seed(0)
theta = ResidualMLP(100, **mkw)
cfg = TrainConfig(**{**cfg_kw, "rounds": snaps[0]})
trainer = Trainer(problem, theta, y_train, cfg)
for r in snaps:
    trainer.config.rounds = r
    trainer.train(progress=False)
    label = name if len(snaps) == 1 else {60: "A", 120: "D"}[r]
    torch.save(theta.state_dict(), f"{OUT}/theta_{label}.pt")
    tsec = trainer.seconds
    print(f"{label}: trained {r} rounds, {tsec:.0f} s; e_loss_T last {trainer.history[-1]['e_loss_T']:.4g}", flush=True)
    theta.eval()
    lr_l = cfg_kw["inner_lr"]
    cmp = compare(problem, splits, [Method("landscape", mapping=lambda s: theta, lr_grid=[lr_l], optimizer=OPT)], {"landscape": lr_l},
                  BUDGET_L, [0], which="metric")
    theta.train()
    out = {"config": {"ResidualMLP": {"dim_x": 100, **mkw}, "TrainConfig": {**cfg_kw, "rounds": r}},
           "theta_train_seconds": tsec, "history_e_loss_T_last5": [h["e_loss_T"] for h in trainer.history[-5:]],
           "splits": {}}
    for tag, allowed in [("vs_normal", ["normal"]), ("vs_best_start", ["normal", "cstar"])]:
        bk = pick_baseline(allowed)
        for sp in splits:
            lc = cmp.curves[sp]["landscape"][0]; ls = cmp.seconds[sp]["landscape"][0]
            bc = np.array(B[bk][sp]["curve"]); bs = np.array(B[bk][sp]["seconds"])
            su, capped = speedup_at(bc, lc, [5, 10], BUDGET_B, best_so_far=False)
            d = out["splits"].setdefault(sp, {})
            d["landscape"] = {"optimizer": OPT, "lr": lr_l, "mse": {str(t): float(lc[t]) for t in STEPS},
                              "sec_per_step": float(ls[-1] / BUDGET_L)}
            d[f"baseline_{tag}"] = {"chosen": bk, "mse": {str(t): float(bc[t]) for t in STEPS},
                                    "sec_per_step": float(bs[-1] / BUDGET_B)}
            d[f"speedup_{tag}"] = {**su, "capped": capped}
        # pooled over both val sets (64 targets): mean of the two mean curves
        lc = np.mean([cmp.curves[sp]["landscape"][0] for sp in splits], 0)
        bc = np.mean([np.array(B[bk][sp]["curve"]) for sp in splits], 0)
        su, capped = speedup_at(bc, lc, [5, 10], BUDGET_B, best_so_far=False)
        out.setdefault("pooled", {})[f"speedup_{tag}"] = {**su, "capped": capped, "baseline": bk}
    json.dump(out, open(f"{OUT}/result_{label}.json", "w"), indent=1)
    print(label, json.dumps(out["pooled"]), {sp: out["splits"][sp]["speedup_vs_normal"] for sp in splits}, flush=True)
