"""Stand-ins for notebook 02's paper-scale files, in their real layouts, so that its paper path can run without them
(the tests at smoke size; `benchmarks/device_check.py` on a GPU): a RobustBench checkpoint of a randomly initialised
WideResNet and a CIFAR-10 folder of random images. Neither is CIFAR-10 or a RobustBench model: numbers computed on
them mean nothing, only that the path runs."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn
import yaml

from ..tasks.cifar import robustbench_path
from .paths import repo_root

STEM = "02_adversarial_defense"
SMALL = {"depth": 10, "widen_factor": 1}          # WRN-10-1: a stand-in for WRN-28-10 / 34-10


def save_checkpoint(model_dir: Path, name: str, model: nn.Module, wrap: bool = True) -> Path:
    """model's state dict at RobustBench's path for `name`, as RobustBench's files hold it: under 'state_dict' with
    DataParallel's 'module.' prefixes and numpy numbers beside them (wrap), or bare."""
    path = robustbench_path(model_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 7,
                "best_prec1": np.float64(0.6)} if wrap else state, path)
    return path


def write_cifar(root: Path, n_train: int = 40, n_test: int = 100, seed: int = 0) -> Path:
    """A CIFAR-10 folder in the real pickle layout: data_batch_1..5 (n_train random uint8 images (3072,) each),
    test_batch (n_test), batches.meta; labels cycle through the 10 classes."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name, n in [(f"data_batch_{i}", n_train) for i in range(1, 6)] + [("test_batch", n_test)]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": [int(v) for v in np.arange(n) % 10], b"batch_label": name.encode()}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)], b"num_vis": 3072}, f)
    return folder


def paper_smoke_parameters(cifar_root: Path, model_dir: Path, out_dir: Path, device: str = "cpu") -> dict:
    """The paper profile's parameters of 02 at smoke size: its data, backbone, threat model, reversal and SSL
    settings, with the smoke profile's sizes, one RobustBench backbone (a WRN-10-1 file), on `device`."""
    params = repo_root() / "notebooks" / "params"
    paper = yaml.safe_load((params / "paper" / f"{STEM}.yaml").read_text())
    smoke = yaml.safe_load((params / "smoke" / f"{STEM}.yaml").read_text())
    sizes = {k: v for k, v in smoke.items() if k not in ("attack_step", "attack_steps", "lr_grid")}
    b = ["robustbench:Standard"]
    ssl = {**paper["ssl"], "steps": sizes["ssl"]["steps"], "bank_size": sizes["ssl"]["bank_size"]}   # paper's loss, smoke's size
    return {**paper, **sizes, "ssl": ssl, "backbones": b, "robustbench_arch": SMALL, "landscape_lr_grid": [0.03],
            "apgd_eval": {**sizes["apgd_eval"], "backbones": b}, "adaptive_eval": {**sizes["adaptive_eval"], "backbones": b},
            "controls_backbones": b, "cifar_dir": str(cifar_root), "robustbench_dir": str(model_dir), "device": device,
            "out_dir": str(out_dir), "profile": "smoke"}


def paper_smoke_files(root: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write both stand-ins under root: (CIFAR folder's parent, RobustBench model dir holding a WRN-10-1 'Standard')."""
    from ..tasks.wideresnet import WideResNet
    write_cifar(Path(root) / "cifar10", seed=seed)
    torch.manual_seed(seed)
    save_checkpoint(Path(root) / "robustbench", "Standard", WideResNet(**SMALL))
    return Path(root) / "cifar10", Path(root) / "robustbench"
