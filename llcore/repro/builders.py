"""Each experiment's problem, built in one call, the same way in every notebook that uses it.

    toy_setup        00's random tanh decoder (also 05)
    gan_setup        01's GAN inversion: the MNIST DCGAN trained here (also 04, 05), the face DCGAN, or a custom G
    pose_setup       03's SMPL fitting to 2D keypoints (also 04, 05)
    defense_setup    02's adversarial defense: data, backbones (trained here or RobustBench files), SSL heads, attacks
                     and the reversal problems

A `Setup` holds

    problem            the llcore Problem (frozen F, loss, x_0)
    y_train, y_val     θ's training targets and the validation targets of the lr sweeps
    splits             split name -> (seed -> test targets); test_in first (same seeds, same draws as the notebook)
    test_targets(s)    splits["test_in"]
    theta(width, depth, dim_z)    a ResidualMLP θ that starts as the identity (paper, Eq. 3: x = θ(z))
    random_theta(width, depth, s) an untrained MLP θ (the "random θ" ablation), seeded as in 00 / 01 / 03
    trained_theta(s, width, depth, train)   θ trained for seed s, cached under its notebook's kind and key (so every
                                            notebook that trains the same θ shares one cache entry)
    start_candidates   the baseline's possible starts, among which `experiment.choose_start` picks on y_val
    which, metric      the curve compared ("metric": pixel MSE for the GAN, "loss": the objective for pose)
    extras             what a notebook needs besides (the generator, the body model, the camera, ...)

Sizes (numbers of targets, generator steps) are arguments; the defaults are the notebooks' defaults. The MNIST
generator is cached under one kind and key, so one notebook trains it and the others load it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Optional

import torch
from torch import Tensor

from .cache import cached
from .notebook import trained_theta as _trained_theta
from ..mapping import Mapping, ResidualMLP, make_mapping
from ..problem import Problem
from ..seeding import set_seed
from .defense_builder import ROBUSTBENCH, TRAINED_BACKBONES, Defense, defense_setup  # noqa: F401  (02's, one import)


@dataclass
class Setup:
    name: str                                   # "toy" | "gan" | "pose"
    problem: Problem
    y_train: Tensor                             # (N, *y_shape) θ's training targets
    y_val: Optional[Tensor]                     # (n_val, *y_shape) for lr sweeps and the baseline's start
    test_targets: Callable[[int], Tensor]       # seed -> (n_test, *y_shape), the `test_in` split
    theta: Callable[..., Mapping]               # (width, depth, dim_z=None) -> ResidualMLP (the identity at init)
    random_theta: Callable[..., Mapping]        # (width, depth, seed) -> untrained MLP
    start_candidates: dict                      # label -> x0 function (seed, targets) -> x_0, or None: problem's x_0
    which: str                                  # the curve compared: "metric" or "loss" (llcore.repro.experiment.compare)
    metric: str                                 # its name in metrics.json
    key: dict                                   # what identifies the problem, for cache keys
    notes: dict = field(default_factory=dict)   # one line each: problem, targets, metric
    final_measures: Callable[[int, Tensor], dict] = lambda seed, x: {}   # (seed, final x) -> extra numbers
    splits: dict = field(default_factory=dict)  # split name -> seed -> targets
    theta_kind: str = ""                        # cache kind of trained_theta
    theta_key: Callable[..., dict] = lambda width, depth, train, seed, rounds: {}   # its cache key
    device: object = "cpu"
    extras: dict = field(default_factory=dict)

    @property
    def dim_x(self) -> int:
        return self.problem.dim_x

    def trained_theta(self, seed: int, width: int, depth: int, train: dict, rounds: Optional[int] = None,
                      progress: bool = True, log: Callable[[str], None] = print) -> tuple[Mapping, dict]:
        """θ = theta(width, depth) trained on y_train with TrainConfig(**train, seed=seed) (rounds overridden when
        given), cached under theta_kind and theta_key: (θ in eval mode, its artifact)."""
        cfg = train if rounds is None else {**train, "rounds": rounds}
        return _trained_theta(self.theta_kind, self.theta_key(width, depth, train, seed, rounds),
                              lambda: self.theta(width, depth), self.problem, self.y_train, cfg, seed, self.device,
                              progress=progress, log=log)


# helpers

def pick(images: Tensor, seed: int, n: int) -> Tensor:
    """n rows of `images`, drawn without replacement with `seed`."""
    idx = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
    return images[idx]


def random_theta(dim_x: int, width: int, depth: int, seed: int, device) -> Mapping:
    """An untrained MLP θ (the "random θ" method), its initialisation drawn with set_seed(10 000 + seed)."""
    set_seed(10_000 + seed)
    return make_mapping("mlp", dim_x, width=width, depth=depth).to(device)


# the problems

def toy_setup(device="cpu", dim_x: int = 16, condition: float = 100.0, manifold_dim: Optional[int] = 4,
              n_train: int = 4096, n_val: Optional[int] = 128, n_test: int = 256, gain: Optional[float] = None,
              test_seed: Optional[int] = None) -> Setup:
    """00_toy: a fixed random tanh decoder F, x in R^dim_x, y = F(x*) with x* on a random manifold_dim-D subspace;
    test_in: new solutions on that subspace, test_ood: x* ~ N(0, I). gain: the decoder's (default: toy_problem's);
    test_seed: test_in targets drawn once with this seed for every seed (the 2-D picture)."""
    from ..tasks.toy import toy_problem, toy_solutions, toy_targets
    problem = toy_problem(dim_x=dim_x, condition=condition, **({} if gain is None else {"gain": gain}))
    problem.forward.to(device)
    _, y_train = toy_targets(problem, n_train, seed=1, manifold_dim=manifold_dim)
    y_val = None if n_val is None else toy_targets(problem, n_val, seed=2, manifold_dim=manifold_dim)[1].to(device)

    def targets(split: str, s: int) -> Tensor:
        if test_seed is not None:
            return toy_targets(problem, n_test, seed=test_seed, manifold_dim=manifold_dim)[1].to(device)
        x_star = toy_solutions(dim_x, n_test, 1000 + s, manifold_dim if split == "test_in" else None)
        with torch.no_grad():
            return problem.forward(x_star.to(device))

    problem_kw = dict(dim_x=dim_x, condition=condition, manifold_dim=manifold_dim, n_train=n_train,
                      **({} if gain is None else {"gain": gain}))
    splits = {k: partial(targets, k) for k in ("test_in", "test_ood")}
    return Setup(
        name="toy", problem=problem, y_train=y_train.to(device), y_val=y_val, test_targets=splits["test_in"],
        splits=splits, theta=lambda width, depth, dim_z=None: ResidualMLP(dim_x, dim_z, width=width, depth=depth),
        random_theta=lambda width, depth, s: random_theta(dim_x, width, depth, s, device),
        start_candidates={"x0 = 0": None}, which="loss", metric="mse_y", key=problem_kw,
        theta_kind="toy_theta", device=device,
        theta_key=lambda width, depth, train, seed, rounds: {"problem": problem_kw, "train": train,
                                                            "rounds": rounds or train["rounds"], "seed": seed,
                                                            "width": width, "depth": depth},
        notes={"problem": f"toy decoder, x in R^{dim_x}",
               "targets": "00_toy's test_in: solutions on the training subspace, observed through F"})


GAN_EXPERIMENTS = {"mnist": "gan_inversion", "faces": "gan_inversion_faces", "custom": "gan_inversion_custom"}


def perceptual_distance(choice: str, device="cpu"):
    """The perceptual distance of 01: 'lpips' (real LPIPS-alex), 'effnet' (the uncalibrated EfficientNet-Lite0
    feature distance) or 'auto' (LPIPS where its torchvision trunk is on disk, else EffNet)."""
    from ..tasks.perceptual import EffNetLite0Distance, lpips_checkpoint, lpips_distance
    if choice not in ("auto", "effnet", "lpips", "none"):
        raise ValueError(f"perceptual must be 'auto', 'effnet', 'lpips' or 'none', got {choice!r}")
    use_lpips = choice == "lpips" or (choice == "auto" and lpips_checkpoint("alex").is_file())
    return (lpips_distance("alex") if use_lpips else EffNetLite0Distance()).to(device)


def gan_setup(device="cpu", generator: str = "mnist", nz: int = 64, gan_steps: int = 3000, init: str = "zeros",
              n_val: int = 64, n_test: int = 128, n_train_latents: int = 4096, custom_generator: str = "",
              custom_latent_dim: int = 512, custom_output_range: str = "[0,1]", perceptual: str = "none",
              perceptual_weight: float = 0.0, log: Callable[[str], None] = print) -> Setup:
    """01_gan_inversion: x = latent, y = an image, loss pixel MSE (+ perceptual_weight × a perceptual distance),
    metric pixel MSE. mnist: the DCGAN trained here on 4000 digits, targets real held-out digits (test_in) and
    non-digit images (test_ood); faces / custom: targets G(x) of latents x ~ N(0, I) (faces also real face photos,
    test_real, and natural image crops, test_ood). extras: G, latent_dim, the perceptual module reported (or None)."""
    from ..tasks import data, gan
    if generator not in GAN_EXPERIMENTS:
        raise ValueError(f"generator must be 'mnist', 'faces' or 'custom', got {generator!r}")
    if generator == "mnist":
        split = data.mnist_split(seed=0)
        train_images = split["train"][0]
        art = cached("mnist_dcgan", {"nz": nz, "steps": gan_steps, "seed": 0},
                     lambda: gan.train_mnist_gan(train_images, nz=nz, steps=gan_steps, seed=0), log=log)
        G, latent_dim = gan.mnist_generator(art), nz
        gen_note = f"MNIST DCGAN trained here ({gan_steps} steps on 4000 digits, {art['seconds']:.0f} s)"
    elif generator == "faces":
        G, latent_dim = gan.load_face_generator(), 100
        gen_note = "gan-face-generate 64×64 face DCGAN (DigiFace-1M synthetic faces)"
    else:
        G = gan.load_custom_generator(custom_generator, (custom_latent_dim,), output_range=custom_output_range)
        latent_dim, gen_note = custom_latent_dim, f"custom generator {custom_generator}"
    # the DCGANs run as their frozen inference copy: BatchNorm folded, the same function to float rounding
    G = gan.frozen_generator(G.eval()).to(device).eval().requires_grad_(False)

    def generated(n: int, s: int) -> Tensor:
        with torch.no_grad():
            return G(torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(s)).to(device)).clamp(0, 1)

    if generator == "mnist":
        held = split["held_out"][0]
        val_images, test_pool = held[:n_val], held[n_val:]
        ood = data.mnist_ood(n=max(n_test, 256), seed=0)
        y_train, y_val = train_images.to(device), val_images.to(device)
        splits = {"test_in": lambda s: pick(test_pool, 1000 + s, n_test).to(device),
                  "test_ood": lambda s: pick(ood, 2000 + s, n_test).to(device)}
        targets = {"test_in": "held-out real MNIST digits (not used to train G, θ or E)", "test_ood": data.ood_sources()}
    else:
        y_train, y_val = generated(n_train_latents, 1), generated(n_val, 2)
        splits = {"test_in": lambda s: generated(n_test, 1000 + s)}
        targets = {"test_in": "G(x) for held-out latents x ~ N(0, I)"}
        if generator == "faces":
            faces_real, crops = data.face_photos(64), data.natural_crops(64, n=max(n_test, 64), seed=0)
            splits["test_real"] = lambda s: pick(faces_real, 3000 + s, min(n_test, len(faces_real))).to(device)
            splits["test_ood"] = lambda s: pick(crops, 2000 + s, n_test).to(device)
            targets["test_real"] = ("real face photos that ship offline (LFW crops, grey and upsampled; Grace Hopper; "
                                    "astronaut)")
            targets["test_ood"] = "non-face natural image crops (scikit-image sample images)"
    # the perceptual distance: in the loss when perceptual_weight > 0, and reported for colour generators (on
    # MNIST's 28x28 grey digits ImageNet features are not a meaningful distance, so none is reported)
    reported = None
    if perceptual_weight > 0 or (generator != "mnist" and perceptual != "none"):
        reported = perceptual_distance(perceptual, device)
    in_loss = reported if perceptual_weight > 0 else None
    problem = gan.gan_problem(G, latent_dim, perceptual=in_loss, perceptual_weight=perceptual_weight, init=init,
                              name=generator)
    problem.metric = gan.image_mse                 # reported: pixel MSE of G(x) against the target
    loss_name = "pixel MSE" + (f" + {perceptual_weight} × {in_loss.NAME}" if in_loss is not None else "")

    def normal_start(s: int, y: Tensor) -> Tensor:  # the baseline's other start, x_0 ~ N(0, I)
        return torch.randn(len(y), latent_dim, generator=torch.Generator().manual_seed(50_000 + s)).to(y.device)

    return Setup(
        name="gan", problem=problem, y_train=y_train, y_val=y_val, test_targets=splits["test_in"], splits=splits,
        theta=lambda width, depth, dim_z=None: ResidualMLP(latent_dim, dim_z, width=width, depth=depth).to(device),
        random_theta=lambda width, depth, s: random_theta(latent_dim, width, depth, s, device),
        start_candidates={f"x0 = {init}": None, "x0 ~ N(0, I)": normal_start},
        which="metric", metric="mse",
        key={"problem": "mnist_gan", "nz": nz, "gan_steps": gan_steps, "init": init, "n_train": len(y_train),
             "n_val": n_val, "loss": "pixel MSE"},
        theta_kind=f"{GAN_EXPERIMENTS[generator]}_theta", device=device,
        theta_key=lambda width, depth, train, seed, rounds: {
            "generator": generator, "gen": gen_note, "custom": custom_generator, "nz": latent_dim, "loss": loss_name,
            "init": init, "n_train": len(y_train), "width": width, "depth": depth, "train": train, "seed": seed},
        notes={"problem": f"MNIST GAN inversion, latent x in R^{nz}; {gen_note}" if generator == "mnist"
               else f"GAN inversion, latent x in R^{latent_dim}; {gen_note}",
               "generator": gen_note, "loss": loss_name, "targets": "held-out real MNIST digits (01's test_in)",
               "metric": "pixel MSE (images in [0, 1])", "splits": targets},
        extras={"G": G, "latent_dim": latent_dim, "perceptual": reported, "generated": generated})


def mnist_gan_setup(device="cpu", nz: int = 64, gan_steps: int = 3000, init: str = "zeros", n_val: int = 64,
                    n_test: int = 128, log: Callable[[str], None] = print) -> Setup:
    """01_gan_inversion with generator mnist: x = latent (nz,), y = a 28x28 digit, loss and metric pixel MSE."""
    return gan_setup(device, "mnist", nz=nz, gan_steps=gan_steps, init=init, n_val=n_val, n_test=n_test, log=log)


def pose_setup(device="cpu", smpl_model_dir: Optional[str] = None, n_train: int = 4096, n_val: int = 64,
               n_test: int = 128, noise_px: float = 1.0, prior_weight: float = 1e-5,
               hide_fraction: float = 0.3) -> Setup:
    """03_human_pose: x = SMPL axis-angle pose (72,), y = noisy 2D keypoints (24, 3); compared on the objective
    (reprojection error + prior), which is what descent minimizes (03 shows MPJPE is depth-ambiguous); the final
    MPJPE in mm is recorded besides (final_measures). Splits: test_in (poses from the training families),
    test_partial (the same with hide_fraction of the keypoints hidden), test_ood (held-out families).
    extras: smpl, body_info, joints_of, camera, train_poses, mu, and truth / truth_pose: (split, seed) -> the true
    3D joints / poses of the targets drawn last."""
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
    truth, truth_pose = {}, {}                     # (split, seed) -> true 3D joints (n_test, 24, 3) / poses (n_test, 72)

    def split_targets(name: str, s: int) -> Tensor:
        fam = poses.SPLITS["test_ood" if name == "test_ood" else "test_in"]
        p = poses.sample_poses(n_test, fam, seed=1000 + s).to(device)
        y, truth[(name, s)] = make_targets(p, smpl, camera, noise=noise_px,
                                           hide_fraction=hide_fraction if name == "test_partial" else 0.0, seed=1000 + s)
        truth_pose[(name, s)] = p
        return y

    def final_measures(s: int, x: Tensor) -> dict:
        if ("test_in", s) not in truth:
            split_targets("test_in", s)
        with torch.no_grad():
            return {"mpjpe_mm": float(mpjpe(joints_of(x.to(device)), truth[("test_in", s)]).mean())}

    splits = {k: partial(split_targets, k) for k in ("test_in", "test_partial", "test_ood")}
    body_key = body_info.get("sha256", body_info["source"])
    tpose = lambda s, y: torch.zeros(len(y), 72, device=y.device)     # noqa: E731
    return Setup(
        name="pose", problem=problem, y_train=y_train, y_val=y_val, test_targets=splits["test_in"], splits=splits,
        theta=lambda width, depth, dim_z=None: ResidualMLP(72, dim_z, width=width, depth=depth, center=mu).to(device),
        random_theta=lambda width, depth, s: random_theta(72, width, depth, s, device),
        start_candidates={"x0 = mean training pose": None, "x0 = T-pose (zeros)": tpose},
        which="loss", metric="objective",
        key={"problem": "smpl_pose", "body": body_key, "n_train": n_train,
             "n_val": n_val, "noise": noise_px, "prior": prior_weight},
        theta_kind="human_pose_theta", device=device,
        theta_key=lambda width, depth, train, seed, rounds: {
            "body": body_key, "n_train": n_train, "noise": noise_px, "prior": prior_weight, "width": width,
            "depth": depth, "train": train, "seed": seed},
        notes={"problem": f"SMPL pose from 2D keypoints, x in R^72 ({body_info['source']} body)",
               "targets": f"poses from the training families, {noise_px} px keypoint noise (03's test_in)",
               "metric": "objective: squared reprojection error / focal length² + prior"},
        final_measures=final_measures,
        extras={"smpl": smpl, "body_info": body_info, "joints_of": joints_of, "camera": camera,
                "train_poses": train_poses, "mu": mu, "truth": truth, "truth_pose": truth_pose})


SETUPS = {"gan": mnist_gan_setup, "pose": pose_setup}    # the problems 04 ablates


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
