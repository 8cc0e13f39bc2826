"""Wide residual networks (Zagoruyko & Komodakis, BMVC 2016) in the layout RobustBench's CIFAR-10 checkpoints use.

Written for this repository; the parameter names follow the pre-activation WRN of the TRADES and Carmon et al.
releases that RobustBench (Croce et al., NeurIPS 2021 Datasets and Benchmarks) distributes, so their state dicts
load as they are:

    conv1                                      3 → 16, 3x3
    block1 [sub_block1] block2 block3          NetworkBlock: .layer = Sequential of BasicBlock, (depth − 4) / 6 each,
                                               widths 16k, 32k, 64k (k = widen_factor), strides 1, 2, 2
    bn1, relu, global average pool, fc         64k → n_classes

    BasicBlock: bn1 → relu → conv1 (3x3, stride) → bn2 → relu → conv2 (3x3); the shortcut is the input, or
    convShortcut (1x1, stride) of the pre-activated input when the width or the stride changes.

`sub_block1` is a fourth NetworkBlock that some released checkpoints carry (Carmon2019Unlabeled, TRADES'
Zhang2019Theoretically) but the forward pass never uses; it exists only so that those files load with strict keys.
Inputs are images in [0, 1], (B, 3, H, W); there is no normalization inside (the three models below have none).
`features(x)` is the penultimate representation (B, 64k) (640 for k = 10), `forward(x)` the logits (B, n_classes).

ROBUSTBENCH_CIFAR10_LINF: the architecture of each RobustBench CIFAR-10 L∞ model this repository can build.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

# name -> (depth, widen_factor, sub_block1): RobustBench's model zoo entries for these checkpoints
ROBUSTBENCH_CIFAR10_LINF = {
    "Standard": {"depth": 28, "widen_factor": 10, "sub_block1": False},               # standard training
    "Carmon2019Unlabeled": {"depth": 28, "widen_factor": 10, "sub_block1": True},     # RST, unlabeled data
    "Zhang2019Theoretically": {"depth": 34, "widen_factor": 10, "sub_block1": True},  # TRADES
}


class BasicBlock(nn.Module):
    """Pre-activation residual block: (B, c_in, H, W) → (B, c_out, H / stride, W / stride)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False)
        self.equalInOut = c_in == c_out and stride == 1
        self.convShortcut = None if self.equalInOut else nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        a = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(a))))
        return out + (x if self.equalInOut else self.convShortcut(a))


class NetworkBlock(nn.Module):
    """n BasicBlocks, the first one changing the width (and the resolution, by `stride`)."""

    def __init__(self, n: int, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.layer = nn.Sequential(*[BasicBlock(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1)
                                     for i in range(n)])

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x)


class WideResNet(nn.Module):
    """WRN-depth-widen_factor for 3-channel images in [0, 1]; depth = 6n + 4 (10, 16, 22, 28, 34, ...)."""

    def __init__(self, depth: int = 28, widen_factor: int = 10, n_classes: int = 10, sub_block1: bool = False):
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 34, ...), got {depth}")
        n, k = (depth - 4) // 6, widen_factor
        widths = [16, 16 * k, 32 * k, 64 * k]
        self.config = {"depth": depth, "widen_factor": k, "n_classes": n_classes, "sub_block1": sub_block1}
        self.conv1 = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.block1 = NetworkBlock(n, widths[0], widths[1], 1)
        if sub_block1:
            self.sub_block1 = NetworkBlock(n, widths[0], widths[1], 1)      # in the checkpoints, unused
        self.block2 = NetworkBlock(n, widths[1], widths[2], 2)
        self.block3 = NetworkBlock(n, widths[2], widths[3], 2)
        self.bn1 = nn.BatchNorm2d(widths[3])
        self.relu = nn.ReLU()
        self.fc = nn.Linear(widths[3], n_classes)
        self.feature_dim = widths[3]
        for m in self.modules():                                           # He init, as the WRN paper
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    @property
    def name(self) -> str:
        return f"WRN-{self.config['depth']}-{self.config['widen_factor']}"

    def features(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] → (B, 64·widen_factor), the globally pooled last activations."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"WideResNet expects images (B, 3, H, W), got {tuple(x.shape)}")
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        return F.adaptive_avg_pool2d(self.relu(self.bn1(out)), 1).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] → logits (B, n_classes)."""
        return self.fc(self.features(x))
