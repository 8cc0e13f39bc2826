"""How many θ training rounds does the default profile need? A study on validation targets only (not run by
run_all.sh).

One θ (seed 0) is trained with its notebook's default settings up to the last round given (whatever the default's own
number of rounds); its weights are kept at each round given. Each kept θ gets its own lr sweep (the notebook's grid
and criterion) and is compared with the notebook's baseline (start and lr chosen on the same validation targets, as the
notebook chooses them) over the notebook's budget: speed-up at 1/5/10/20/50 steps and the metric at steps 10 and at the
budget. The test splits are not touched. The θ of a round equal to the default's is the one the notebook trains for
seed 0 (same settings and seed).
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_rounds.py mnist 100 150 200 300
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_rounds.py defense 25 50 75 100
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_rounds.py pose 100 150 200 300
    N_VAL=64 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python notebooks/studies/theta_rounds.py faces 20 30 40 60
The defense (02) study uses the standard backbone, whose θ also runs the controls: robust accuracy on its attacked
validation images along the reversal, each kept θ at its own step size from the notebook's grid.
Writes results/default/<experiment>/studies/theta_rounds.json (or the same name under $STUDY_DIR).
"""
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)

from llcore import TrainConfig, Trainer                       # noqa: E402
from llcore.metrics import speedup_at                         # noqa: E402
from llcore.repro.builders import GAN_EXPERIMENTS, gan_setup, pose_setup   # noqa: E402
from llcore.repro.experiment import Method, choose_lrs, choose_start, compare, fixed_start   # noqa: E402
from llcore.repro.runner import notebook_parameters           # noqa: E402
from llcore.seeding import set_seed                           # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STEPS = (1, 5, 10, 20, 50)


def setup_study(name: str, keep: list[int]) -> dict:
    """01 (name mnist or faces) or 03 (name pose): θ's kept rounds against the notebook's baseline on y_val."""
    if name == "pose":
        p = {**notebook_parameters("03_human_pose", "default", None, ROOT), "optimizer": "adam"}
        n_val = int(os.environ.get("N_VAL", p["n_val"]))
        gs = pose_setup("cpu", p["smpl_model_dir"], p["n_train"], n_val, p["n_test"], p["noise_px"], p["prior_weight"],
                        p["hide_fraction"])
        experiment = "human_pose"
    else:
        p = notebook_parameters("01_gan_inversion", "default", name, ROOT)
        n_val = int(os.environ.get("N_VAL", p["n_val"]))   # more validation targets than the notebook's lr choice uses
        gs = gan_setup("cpu", p["generator"], nz=p["gan_nz"], gan_steps=p["gan_steps"], init=p["init"], n_val=n_val,
                       n_test=p["n_test"], n_train_latents=p["n_train_latents"], perceptual="none")
        experiment = GAN_EXPERIMENTS[p["generator"]]
    problem, budget, grid, opt, which = gs.problem, p["budget"], p["lr_grid"], p["optimizer"], gs.which
    candidates = dict(gs.start_candidates)
    if name == "faces":                                 # as the notebook: c*, the best single latent
        c_fixed = fixed_start(problem, gs.y_train[:64], steps=budget, lr=0.1, seed=0)
        candidates["c*"] = lambda s, y: c_fixed.expand(len(y), -1).clone()
    baseline, start_label, _ = choose_start(problem, gs.y_val, candidates, grid, budget, seed=0, optimizer=opt)
    train = dict(rounds=max(keep), batch_size=p["batch_size"], inner_steps=p["inner_steps"], inner_lr=p["inner_lr"],
                 theta_steps=p["theta_steps"], theta_batch=p["theta_batch"], theta_lr=p["theta_lr"],
                 buffer_rounds=p["buffer_rounds"], inner_optimizer=opt)
    kept = {}
    set_seed(0)
    theta = gs.theta(p["theta_width"], p["theta_depth"])
    trainer = Trainer(problem, theta, gs.y_train, TrainConfig(**train, seed=0), callbacks=[keeper(keep, kept)])
    trainer.train(progress=False)
    val = {"val": lambda s: gs.y_val}
    base = compare(problem, val, [baseline], {"baseline": baseline.lr_grid[0]}, budget, [0], which=which)
    b = base.curves["val"]["baseline"][0]
    out = {"experiment": experiment, "run": name, "curve": f"{which} ({gs.metric})", "seed": 0, "budget": budget,
           "validation_targets": int(gs.y_val.shape[0]), "train": train,
           "baseline": {"start": start_label, "lr": baseline.lr_grid[0], "optimizer": opt,
                        "metric_at": {str(t): float(b[t]) for t in (10, budget)}},
           "rounds": {}}
    for r in sorted(kept):
        state, seconds = kept[r]
        theta.load_state_dict(state)
        theta.eval()
        method = Method("landscape", mapping=lambda s: theta, lr_grid=grid, optimizer=opt)
        lrs, _ = choose_lrs(problem, gs.y_val, [method], budget, seed=0)
        run = compare(problem, val, [method], lrs, budget, [0], which=which)
        lc = run.curves["val"]["landscape"][0]
        su, capped = speedup_at(b, lc, STEPS, budget, per_step_capped=True)
        out["rounds"][str(r)] = {"train_seconds": seconds, "lr": lrs["landscape"], "speedup_at": su, "capped": capped,
                                 "metric_at": {str(t): float(lc[t]) for t in (10, budget)}}
        print(f"round {r}: {seconds:.0f} s, lr {lrs['landscape']}, speed-up {su}, "
              f"metric@10 {lc[10]:.4g} (baseline {b[10]:.4g}), @{budget} {lc[budget]:.4g} (baseline {b[budget]:.4g})",
              flush=True)
    return out


def keeper(keep: list[int], kept: dict):
    """A Trainer callback keeping θ's weights and the training seconds at the rounds in `keep`."""
    def keep_weights(trainer):
        if trainer.round in keep:
            kept[trainer.round] = (copy.deepcopy(trainer.mapping.state_dict()), trainer.seconds)
        return {}
    return keep_weights


def defense_study(keep: list[int], b: str = "standard") -> dict:
    from llcore import ResidualMLP
    from llcore.repro import adversarial
    from llcore.repro.builders import defense_setup
    from llcore.tasks.defense import accuracy_along
    p = notebook_parameters("02_adversarial_defense", "default", None, ROOT)
    ssl = p["ssl"]
    d = defense_setup("cpu", p["data"], p["cifar_dir"], [b], [0], p["classifier_epochs"], p["robust_epochs"], p["eps"],
                      p["attack_step"], p["attack_steps"], p["attack_restarts"], p["n_test"], p["n_val"],
                      p["n_train_theta"], p["eps_r"], ssl["views"], ssl["tau"], ssl["steps"], ssl["negatives"],
                      ssl["bank_size"], augment=ssl["augment"], ssl_head=ssl["head"])
    budget, grid = p["budget"], p["lr_grid"]
    train = {**p["theta_train"], "rounds": max(keep), "inner_optimizer": "sign"}

    def val_acc(split, s, y, rec, mapping):
        return accuracy_along(d.models[b], y, d.y_val, rec.trajectory, mapping).numpy()

    def scored(method) -> dict:
        rows = adversarial.sweep_by_accuracy(d, b, 0, method, grid, budget, val_acc)
        return adversarial.best_row(rows, "val_acc_mean_1_to_budget")

    base = scored(Method("baseline", optimizer="sign", lr_grid=grid))
    kept = {}
    set_seed(0)
    dim_x = int(np.prod(d.image_shape))
    theta = ResidualMLP(dim_x, dim_z=p["dim_z"], width=p["theta_width"], depth=p["theta_depth"], bound=p["eps_r"])
    targets = torch.cat([d.attacked(b, "fit", 0), d.x_fit])
    Trainer(d.new_problem(b, 0), theta, targets, TrainConfig(**train, seed=0),
            callbacks=[keeper(keep, kept)]).train(progress=False)
    out = {"experiment": "adversarial_defense", "backbone": b, "seed": 0, "budget": budget,
           "validation_images": int(d.x_val.shape[0]), "train": train, "baseline": base, "rounds": {}}
    for r in sorted(kept):
        state, seconds = kept[r]
        theta.load_state_dict(state)
        theta.eval()
        row = scored(Method("landscape", mapping=lambda s: theta, optimizer="sign", lr_grid=grid))
        out["rounds"][str(r)] = {"train_seconds": seconds, **row}
        print(f"round {r}: {seconds:.0f} s, {row} (baseline {base})", flush=True)
    return out


if __name__ == "__main__":
    name, keep = sys.argv[1], [int(r) for r in sys.argv[2:]]
    start = time.perf_counter()
    result = defense_study(keep) if name == "defense" else setup_study(name, keep)
    result["study_seconds"] = time.perf_counter() - start
    folder = os.environ.get("STUDY_DIR") or ROOT / "results" / "default" / result["experiment"] / "studies"
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / "theta_rounds.json"
    path.write_text(json.dumps(result, indent=1))
    print("wrote", path)
