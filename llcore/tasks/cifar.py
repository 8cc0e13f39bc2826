"""Paper-scale inputs of the adversarial-defense experiment: CIFAR-10 from a folder, RobustBench backbones.

Neither is fetched here (no network at run time): the user downloads them on a machine with internet.

    load_cifar10(root)        the "CIFAR-10 python version" (https://www.cs.toronto.edu/~kriz/cifar.html): root is
                              the unpacked `cifar-10-batches-py` folder (or its parent) with data_batch_1 … 5 and
                              test_batch, each a pickled dict {b"data": uint8 (N, 3072), b"labels": [N ints]}.
                              Returns ((x_train (50000, 3, 32, 32), y_train), (x_test (10000, 3, 32, 32), y_test)),
                              float32 in [0, 1] and int64. The same files torchvision.datasets.CIFAR10 reads.
    load_robustbench(name, model_dir)
                              a RobustBench CIFAR-10 L∞ model (Standard, Carmon2019Unlabeled, Zhang2019Theoretically)
                              built here (wideresnet.py) and loaded from RobustBench's own file layout
                              <model_dir>/cifar10/Linf/<name>.pt; the robustbench package is not needed. Inputs in
                              [0, 1], no normalization (none of these three models has one).
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..checkpoint import torch_load

TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
HOW_TO_GET = ("Download 'CIFAR-10 python version' (cifar-10-python.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html "
              "or with torchvision.datasets.CIFAR10(root, download=True) on a machine with internet, unpack it, and pass "
              "the folder cifar-10-batches-py as cifar_dir.")


def _folder(root) -> Path:
    root = Path(root).expanduser()
    return root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")
        data, labels = np.asarray(d[b"data"], dtype=np.uint8), np.asarray(d[b"labels"], dtype=np.int64)
    except Exception as e:  # truncated, not a pickle, wrong keys
        raise ValueError(f"CIFAR-10 file {path} is corrupt or not in the python-version format "
                         f"({type(e).__name__}: {str(e)[:200]}). {HOW_TO_GET}") from e
    if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != labels.shape[0]:
        raise ValueError(f"CIFAR-10 file {path}: expected data (N, 3072) and N labels, got {data.shape} and "
                         f"{labels.shape}. {HOW_TO_GET}")
    return data, labels


def _load(folder: Path, names: list[str]) -> tuple[Tensor, Tensor]:
    parts = [_read_batch(folder / n) for n in names]
    data = np.concatenate([p[0] for p in parts]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([p[1] for p in parts])
    return torch.from_numpy(data.astype(np.float32) / 255.0), torch.from_numpy(labels)


def load_cifar10(root) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    if not root:
        raise FileNotFoundError(f"data = 'cifar10' needs cifar_dir. {HOW_TO_GET}")
    folder = _folder(root)
    missing = [n for n in TRAIN_FILES + TEST_FILES if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 folder {folder} lacks {', '.join(missing)}. {HOW_TO_GET}")
    return _load(folder, TRAIN_FILES), _load(folder, TEST_FILES)


def robustbench_path(model_dir, name: str) -> Path:
    """Where RobustBench's own layout keeps a CIFAR-10 L∞ checkpoint: <model_dir>/cifar10/Linf/<name>.pt."""
    return Path(model_dir).expanduser() / "cifar10" / "Linf" / f"{name}.pt"


def robustbench_how(name: str, model_dir) -> str:
    """How to get checkpoint `name` into model_dir (what the asset table, llcore/repro/assets.py, says too)."""
    return (f"On a machine with internet: pip install robustbench, then python -c \"from robustbench.utils import "
            f"load_model; load_model(model_name='{name}', dataset='cifar10', threat_model='Linf', "
            f"model_dir='{model_dir}')\" writes {robustbench_path(model_dir, name)} (RobustBench's own layout, model "
            f"zoo cifar10 Linf {name}, https://github.com/RobustBench/robustbench); or fetch it there and copy it to "
            f"that path (README, 'Paper scale on a GPU'; python -m llcore.repro.assets lists every asset)")


def _state_dict(path: Path, hint: str) -> dict:
    """The tensors of a checkpoint file: a top-level 'state_dict' (or 'model_state_dict') entry or the file itself,
    with DataParallel's 'module.' prefixes removed. Loaded weights-only; numpy scalars (epoch, best accuracy) allowed."""
    import numpy

    try:
        ckpt = torch_load(path, "RobustBench checkpoint", hint)
    except ValueError as e:
        if "Weights only load failed" not in str(e.__cause__):
            raise
        core = numpy._core if hasattr(numpy, "_core") else numpy.core
        safe = [core.multiarray.scalar, numpy.dtype] + [type(numpy.dtype(t)) for t in ("f8", "f4", "i8", "i4")]
        try:
            with torch.serialization.safe_globals(safe):
                ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e2:
            raise ValueError(f"RobustBench checkpoint at {path} holds objects other than tensors and numbers "
                             f"({type(e2).__name__}: {str(e2)[:200]}). {hint}") from e2
    if isinstance(ckpt, dict):
        ckpt = ckpt.get("state_dict", ckpt.get("model_state_dict", ckpt))
    if not isinstance(ckpt, dict) or not ckpt or not all(torch.is_tensor(v) for v in ckpt.values()):
        raise ValueError(f"RobustBench checkpoint at {path} holds no state dict of tensors. {hint}")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in ckpt.items()}


def load_robustbench(name: str, model_dir="assets/robustbench", arch: dict | None = None, device="cpu"):
    """RobustBench's CIFAR-10 L∞ model `name` (Standard, Carmon2019Unlabeled, Zhang2019Theoretically), built here
    (llcore.tasks.wideresnet) and loaded from <model_dir>/cifar10/Linf/<name>.pt; never downloaded. Images in [0, 1]
    (B, 3, 32, 32) → logits (B, 10), frozen, in eval mode; `features(x)` (B, 640) for WRN-*-10.

    arch: overrides of the architecture (depth, widen_factor, sub_block1) for checkpoints of another size (tests).
    Raises FileNotFoundError naming the expected path and how to get it, ValueError for an unknown name, a corrupt
    file or one whose tensors do not fit the architecture."""
    from .wideresnet import ROBUSTBENCH_CIFAR10_LINF, WideResNet

    if name not in ROBUSTBENCH_CIFAR10_LINF:
        raise ValueError(f"RobustBench model {name!r} is not built by this repository; choose one of "
                         f"{sorted(ROBUSTBENCH_CIFAR10_LINF)} (llcore.tasks.wideresnet)")
    path, hint = robustbench_path(model_dir, name), robustbench_how(name, model_dir)
    if not path.is_file():
        raise FileNotFoundError(f"RobustBench checkpoint not found: expected {path}. {hint}")
    state = _state_dict(path, hint)
    model = WideResNet(**{**ROBUSTBENCH_CIFAR10_LINF[name], **(arch or {})})
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"RobustBench checkpoint at {path} does not fit {model.name} "
                         f"({model.config}): {str(e)[:300]}. {hint}") from e
    return model.to(device).eval().requires_grad_(False)
