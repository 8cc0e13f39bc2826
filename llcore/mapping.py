"""Mapping networks θ: Z → X.

Landscape learning replaces the descent on x by a descent on z with x = θ(z) (paper, Eq. 3):

    ẑ = argmin_z  L(F(θ(z)), y),    x̂ = θ(ẑ).

All mappings act on flattened vectors: z of shape (B, dim_z) → x of shape (B, dim_x); the inversion
loop reshapes x to the problem's x_shape. Each mapping also says where descent in Z starts,
`initial_z(x0)`, so that θ(z_0) = x_0 whenever θ is (still) the identity.

- `Identity`:     x = z. Descent in Z is then exactly the X-space baseline.
- `ResidualMLP`:  x = c + P z + g(z), g an MLP whose last layer starts at zero, so θ starts as the
                  identity (P is the identity when dim_z = dim_x, otherwise a fixed coordinate
                  embedding/truncation; c a fixed centre, default 0). The paper's θ: 3 linear layers,
                  width 1024, normalization, LeakyReLU(0.2).
- `MLP`:          x = g(z) with PyTorch's default random init (the "random θ" ablation).
Any of them can bound its output to an L∞ ball: x = ε·tanh(x'/ε) (attack-reversal vectors).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

# helpers

def _mlp(dim_in: int, dim_out: int, width: int, depth: int, norm: bool) -> nn.Sequential:
    """depth linear layers: dim_in → width → … → width → dim_out, with LayerNorm + LeakyReLU(0.2) between."""
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    layers, d = [], dim_in
    for _ in range(depth - 1):
        layers += [nn.Linear(d, width)]                          # (B, width)
        if norm:
            layers += [nn.LayerNorm(width)]
        layers += [nn.LeakyReLU(0.2)]
        d = width
    layers += [nn.Linear(d, dim_out)]                            # (B, dim_out)
    return nn.Sequential(*layers)


def _embed(z: Tensor, dim_x: int) -> Tensor:
    """P z: keep the first dim_x coordinates of z, or pad z with zeros up to dim_x. (B, dim_z) → (B, dim_x)."""
    dz = z.shape[1]
    if dz == dim_x:
        return z
    if dz > dim_x:
        return z[:, :dim_x]
    return torch.nn.functional.pad(z, (0, dim_x - dz))


def _lift(x: Tensor, dim_z: int) -> Tensor:
    """P⁺ x, the least-squares inverse of `_embed`. (B, dim_x) → (B, dim_z)."""
    return _embed(x, dim_z)


# classes

class Mapping(nn.Module):
    """Base class: θ: (B, dim_z) → (B, dim_x), optionally bounded to ‖x‖∞ < bound.

    dim_x: size of x (flattened, >= 1); dim_z: size of z (>= 1); bound: ε > 0 of the output bound x = ε·tanh(x'/ε),
    or None (default, unbounded). Subclasses implement `unbounded` and may override `initial_z`.
    `recipe` (a dict of make_mapping's arguments, or None) lets llcore.checkpoint.save_theta / load_theta
    rebuild a mapping without its constructor arguments; subclasses of other packages may leave it None."""

    recipe: dict | None = None

    def __init__(self, dim_x: int, dim_z: int, bound: float | None = None):
        super().__init__()
        if dim_x < 1 or dim_z < 1:
            raise ValueError(f"dim_x and dim_z must be >= 1, got {dim_x}, {dim_z}")
        if bound is not None and not bound > 0:
            raise ValueError(f"bound must be > 0, got {bound}")
        self.dim_x, self.dim_z, self.bound = int(dim_x), int(dim_z), bound

    @property
    def device(self) -> torch.device:
        """Where θ's parameters (or buffers) live; the CPU for a mapping with neither (Identity)."""
        for t in (*self.parameters(), *self.buffers()):
            return t.device
        return torch.device("cpu")

    def unbounded(self, z: Tensor) -> Tensor:
        """x' = θ's output before the bound: z (B, dim_z) → (B, dim_x). Implemented by each subclass."""
        raise NotImplementedError

    def forward(self, z: Tensor) -> Tensor:
        """x = θ(z): z (B, dim_z) → x (B, dim_x), ε·tanh(x'/ε) when `bound` is set; ValueError for another z shape."""
        if z.dim() != 2 or z.shape[1] != self.dim_z:
            raise ValueError(f"{type(self).__name__}: expected z of shape (B, {self.dim_z}), got {tuple(z.shape)}")
        x = self.unbounded(z)
        return x if self.bound is None else self.bound * torch.tanh(x / self.bound)

    def initial_z(self, x0: Tensor) -> Tensor:
        """Where descent in Z starts for a given X-space start x0 (B, dim_x) → (B, dim_z)."""
        return _lift(x0, self.dim_z)


class Identity(Mapping):
    """x = z (the baseline). dim_x: size of x; bound: as in ResidualMLP."""

    def __init__(self, dim_x: int, bound: float | None = None):
        super().__init__(dim_x, dim_x, bound)
        self.recipe = {"name": "identity", "dim_x": self.dim_x, "bound": bound}

    def unbounded(self, z: Tensor) -> Tensor:
        """x' = z, (B, dim_x)."""
        return z


class ResidualMLP(Mapping):
    """x = c + P z + g(z), with g's last layer initialised to zero so θ starts as the identity.

    dim_x: size of x (flattened); dim_z: size of z (default dim_x); width, depth: g's hidden width and number of
    linear layers (default 1024, 3: the paper's); norm: LayerNorm between them (default True); bound: ε of an
    output bound ε·tanh(x/ε) (None: unbounded); center: c, a fixed (dim_x,) offset (default 0), so that
    θ(P⁺(x0 − c)) = x0 at initialisation."""

    def __init__(self, dim_x: int, dim_z: int | None = None, width: int = 1024, depth: int = 3,
                 norm: bool = True, bound: float | None = None, center: Tensor | None = None):
        super().__init__(dim_x, dim_z or dim_x, bound)
        self.recipe = {"name": "residual", "dim_x": self.dim_x, "dim_z": self.dim_z, "width": width, "depth": depth,
                       "norm": norm, "bound": bound}                      # center is a buffer: in the state_dict
        self.g = _mlp(self.dim_z, dim_x, width, depth, norm)
        nn.init.zeros_(self.g[-1].weight)
        nn.init.zeros_(self.g[-1].bias)
        c = torch.zeros(dim_x) if center is None else torch.as_tensor(center, dtype=torch.float32).reshape(-1)
        if c.numel() != dim_x:
            raise ValueError(f"center must have {dim_x} elements, got {c.numel()}")
        self.register_buffer("center", c)

    def unbounded(self, z: Tensor) -> Tensor:
        """x' = c + P z + g(z): z (B, dim_z) → (B, dim_x)."""
        return self.center + _embed(z, self.dim_x) + self.g(z)

    def initial_z(self, x0: Tensor) -> Tensor:
        """z_0 = P⁺(x0 − c): x0 (B, dim_x), on c's device → (B, dim_z); θ(z_0) = x0 at initialisation when
        dim_z >= dim_x and θ is unbounded."""
        return _lift(x0 - self.center, self.dim_z)


class MLP(Mapping):
    """x = g(z), randomly initialised (PyTorch defaults): the paper's "random θ".

    dim_x: size of x (flattened); dim_z: size of z (default dim_x); width (default 1024), depth (default 3): g's
    hidden width and number of linear layers; norm: LayerNorm between them (default True); bound: ε of an output
    bound ε·tanh(x/ε) (None: unbounded). No centre: initial_z is P⁺ x0, and θ(z_0) ≠ x0 in general."""

    def __init__(self, dim_x: int, dim_z: int | None = None, width: int = 1024, depth: int = 3,
                 norm: bool = True, bound: float | None = None):
        super().__init__(dim_x, dim_z or dim_x, bound)
        self.recipe = {"name": "mlp", "dim_x": self.dim_x, "dim_z": self.dim_z, "width": width, "depth": depth,
                       "norm": norm, "bound": bound}
        self.g = _mlp(self.dim_z, dim_x, width, depth, norm)

    def unbounded(self, z: Tensor) -> Tensor:
        """x' = g(z): z (B, dim_z) → (B, dim_x)."""
        return self.g(z)


MAPPINGS = {"identity": Identity, "residual": ResidualMLP, "mlp": MLP}


def make_mapping(name: str, dim_x: int, **kwargs) -> Mapping:
    """Build a mapping by name: 'identity', 'residual' or 'mlp' (ValueError otherwise) for x of `dim_x` elements
    (flattened); kwargs go to its constructor (dim_z, width, depth, norm, bound, center as each accepts)."""
    if name not in MAPPINGS:
        raise ValueError(f"unknown mapping {name!r}; choose one of {sorted(MAPPINGS)}")
    return MAPPINGS[name](dim_x, **kwargs)
