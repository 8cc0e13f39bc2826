"""The MNIST GAN inversion of notebook 01 and the pose fitting of notebook 03, each rebuilt in one call.

For experiments that reuse those problems (04 ablations): one call gives a `Setup` holding

    problem            the llcore Problem (frozen F, loss, x_0) exactly as 01 / 03 build it
    y_train, y_val     θ's training targets and the validation targets of the lr sweeps
    test_targets(s)    seed s -> 01's / 03's `test_in` targets for that seed (same seeds, same draws)
    theta(width, depth, dim_z)    a ResidualMLP θ that starts as the identity (paper, Eq. 3: x = θ(z))
    random_theta(width, depth, s) an untrained MLP θ (the "random θ" ablation), seeded as in 01 / 03
    start_candidates   the baseline's possible starts, among which `experiment.choose_start` picks on y_val
    which, metric      the curve compared ("metric": pixel MSE for the GAN, "loss": the objective for pose)

Sizes (numbers of targets, generator steps) are arguments; the defaults are those of 01 and 03. The MNIST
generator is cached under the same kind and key as 01's, so one notebook trains it and the others load it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from torch import Tensor

from .cache import cached
from ..mapping import Mapping, ResidualMLP, make_mapping
from ..problem import Problem
from ..seeding import set_seed


@dataclass
class Setup:
    name: str                                   # "gan" | "pose"
    problem: Problem
    y_train: Tensor                             # (N, *y_shape) θ's training targets
    y_val: Tensor                               # (n_val, *y_shape) for lr sweeps and the baseline's start
    test_targets: Callable[[int], Tensor]       # seed -> (n_test, *y_shape), the `test_in` split of 01 / 03
    theta: Callable[..., Mapping]               # (width, depth, dim_z=None) -> ResidualMLP (the identity at init)
    random_theta: Callable[..., Mapping]        # (width, depth, seed) -> untrained MLP
    start_candidates: dict                      # label -> x0 function (seed, targets) -> x_0, or None: problem's x_0
    which: str                                  # the curve compared: "metric" or "loss" (llcore.repro.experiment.compare)
    metric: str                                 # its name in metrics.json
    key: dict                                   # what identifies the problem, for cache keys
    notes: dict = field(default_factory=dict)   # one line each: problem, targets, metric
    final_measures: Callable[[int, Tensor], dict] = lambda seed, x: {}   # (seed, final x) -> extra numbers

    @property
    def dim_x(self) -> int:
        return self.problem.dim_x


# helpers

def _pick(images: Tensor, seed: int, n: int) -> Tensor:
    """n rows of `images`, drawn without replacement with `seed` (01's `pick`)."""
    idx = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
    return images[idx]


def _seeded_random_theta(dim_x: int, width: int, depth: int, seed: int, device) -> Mapping:
    set_seed(10_000 + seed)                     # 01's and 03's random_theta seeding
    return make_mapping("mlp", dim_x, width=width, depth=depth).to(device)


# the two problems

def mnist_gan_setup(device="cpu", nz: int = 64, gan_steps: int = 3000, init: str = "zeros", n_val: int = 64,
                    n_test: int = 128, log: Callable[[str], None] = print) -> Setup:
    """01_gan_inversion with generator mnist: x = latent (nz,), y = a 28x28 digit, loss and metric pixel MSE."""
    from ..tasks import data, gan
    split = data.mnist_split(seed=0)
    train_images = split["train"][0]
    art = cached("mnist_dcgan", {"nz": nz, "steps": gan_steps, "seed": 0},
                 lambda: gan.train_mnist_gan(train_images, nz=nz, steps=gan_steps, seed=0), log=log)
    G = gan.mnist_generator(art).to(device).eval().requires_grad_(False)
    gen_note = f"MNIST DCGAN trained here ({gan_steps} steps on 4000 digits, {art['seconds']:.0f} s)"
    problem = gan.gan_problem(G, nz, init=init, name="mnist")
    problem.metric = gan.image_mse                 # reported: pixel MSE of G(x) against the target
    held = split["held_out"][0]
    val_images, test_pool = held[:n_val], held[n_val:]

    def normal_start(s: int, y: Tensor) -> Tensor:  # 01's other baseline start, x_0 ~ N(0, I)
        return torch.randn(len(y), nz, generator=torch.Generator().manual_seed(50_000 + s)).to(y.device)

    return Setup(
        name="gan", problem=problem, y_train=train_images.to(device), y_val=val_images.to(device),
        test_targets=lambda s: _pick(test_pool, 1000 + s, n_test).to(device),
        theta=lambda width, depth, dim_z=None: ResidualMLP(nz, dim_z, width=width, depth=depth).to(device),
        random_theta=lambda width, depth, s: _seeded_random_theta(nz, width, depth, s, device),
        start_candidates={f"x0 = {init}": None, "x0 ~ N(0, I)": normal_start},
        which="metric", metric="mse",
        key={"problem": "mnist_gan", "nz": nz, "gan_steps": gan_steps, "init": init, "n_train": len(train_images),
             "n_val": n_val, "loss": "pixel MSE"},
        notes={"problem": f"MNIST GAN inversion, latent x in R^{nz}; {gen_note}",
               "targets": "held-out real MNIST digits (01's test_in)", "metric": "pixel MSE (images in [0, 1])"})


def pose_setup(device="cpu", smpl_model_dir: Optional[str] = None, n_train: int = 4096, n_val: int = 64,
               n_test: int = 128, noise_px: float = 1.0, prior_weight: float = 1e-5) -> Setup:
    """03_human_pose: x = SMPL axis-angle pose (72,), y = noisy 2D keypoints (24, 3); compared on the objective
    (reprojection error + prior), which is what descent minimizes (03 shows MPJPE is depth-ambiguous); the final
    MPJPE in mm is recorded besides (final_measures)."""
    from ..tasks import body, poses
    from ..tasks.pose import BodyJoints, PerspectiveCamera, make_targets, mpjpe, pose_problem
    smpl, body_info = body.load_body(smpl_model_dir or None)
    smpl = smpl.to(device)
    joints_of = BodyJoints(smpl).to(device).eval().requires_grad_(False)
    camera = PerspectiveCamera()
    train_poses = poses.sample_poses(n_train, poses.SPLITS["train"], seed=1)
    mu = poses.mean_pose(train_poses)
    problem = pose_problem(smpl, camera, prior_weight=prior_weight, init_pose=mu, prior_mean=mu)
    problem.forward.to(device)
    y_train, _ = make_targets(train_poses.to(device), smpl, camera, noise=noise_px, seed=1)
    y_val, _ = make_targets(poses.sample_poses(n_val, poses.SPLITS["test_in"], seed=2).to(device), smpl, camera,
                            noise=noise_px, seed=2)
    truth = {}                                     # seed -> true 3D joints (n_test, 24, 3)

    def test_targets(s: int) -> Tensor:            # 03's test_in: new poses from the training families
        p = poses.sample_poses(n_test, poses.SPLITS["test_in"], seed=1000 + s).to(device)
        y, truth[s] = make_targets(p, smpl, camera, noise=noise_px, seed=1000 + s)
        return y

    def final_measures(s: int, x: Tensor) -> dict:
        if s not in truth:
            test_targets(s)
        with torch.no_grad():
            return {"mpjpe_mm": float(mpjpe(joints_of(x.to(device)), truth[s]).mean())}

    tpose = lambda s, y: torch.zeros(len(y), 72, device=y.device)     # noqa: E731
    return Setup(
        name="pose", problem=problem, y_train=y_train, y_val=y_val, test_targets=test_targets,
        theta=lambda width, depth, dim_z=None: ResidualMLP(72, dim_z, width=width, depth=depth, center=mu).to(device),
        random_theta=lambda width, depth, s: _seeded_random_theta(72, width, depth, s, device),
        start_candidates={"x0 = mean training pose": None, "x0 = T-pose (zeros)": tpose},
        which="loss", metric="objective",
        key={"problem": "smpl_pose", "body": body_info.get("sha256", body_info["source"]), "n_train": n_train,
             "n_val": n_val, "noise": noise_px, "prior": prior_weight},
        notes={"problem": f"SMPL pose from 2D keypoints, x in R^72 ({body_info['source']} body)",
               "targets": f"poses from the training families, {noise_px} px keypoint noise (03's test_in)",
               "metric": "objective: squared reprojection error / focal length² + prior"},
        final_measures=final_measures)


SETUPS = {"gan": mnist_gan_setup, "pose": pose_setup}


def make_setup(name: str, **kwargs) -> Setup:
    """SETUPS[name](**kwargs), with a clear error for an unknown name."""
    if name not in SETUPS:
        raise ValueError(f"unknown problem {name!r}; choose one of {sorted(SETUPS)}")
    return SETUPS[name](**kwargs)


def training_work(problem: str, setup: dict, theta: dict, train: dict, device="cpu") -> Callable[[], list]:
    """Build SETUPS[problem](**setup), θ = setup.theta(**theta) and a Trainer with TrainConfig(**train); return a
    callable that trains (for llcore.repro.memory.in_child, which measures only that call)."""
    from ..trainer import TrainConfig, Trainer
    s = make_setup(problem, device=device, **setup)
    set_seed(train.get("seed", 0))
    trainer = Trainer(s.problem, s.theta(**theta), s.y_train, TrainConfig(**train))
    return lambda: trainer.train(progress=False)
