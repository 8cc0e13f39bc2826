"""Paper-scale inputs of the adversarial-defense experiment: CIFAR-10 from a folder, RobustBench backbones.

Neither is fetched here (no network at run time): the user downloads them on a machine with internet.

    load_cifar10(root)        the "CIFAR-10 python version" (https://www.cs.toronto.edu/~kriz/cifar.html): root is
                              the unpacked `cifar-10-batches-py` folder (or its parent) with data_batch_1 … 5 and
                              test_batch, each a pickled dict {b"data": uint8 (N, 3072), b"labels": [N ints]}.
                              Returns ((x_train (50000, 3, 32, 32), y_train), (x_test (10000, 3, 32, 32), y_test)),
                              float32 in [0, 1] and int64. The same files torchvision.datasets.CIFAR10 reads.
    load_robustbench(name)    a RobustBench CIFAR-10 L∞ model through the `robustbench` package (not installed by
                              default: pip install git+https://github.com/RobustBench/robustbench), from its model dir.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

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


def load_robustbench(name: str, model_dir="assets/robustbench", device="cpu"):
    """A RobustBench CIFAR-10 L∞ classifier (images in [0, 1] → logits), frozen."""
    try:
        from robustbench.utils import load_model
    except ImportError as e:
        raise ImportError("RobustBench backbones need the robustbench package: "
                          "pip install git+https://github.com/RobustBench/robustbench (and its checkpoints in "
                          f"{model_dir}, fetched once on a machine with internet).") from e
    model = load_model(model_name=name, model_dir=str(model_dir), dataset="cifar10", threat_model="Linf")
    return model.to(device).eval().requires_grad_(False)
