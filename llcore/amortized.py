"""An amortized start: a regressor E: Y → X trained on θ's training targets by the problem's own objective.

    min_E  mean_b  L(F(E(y_b)), y_b) + R(E(y_b))           (problem.objective; no ground-truth x needed)

E(y) is then a starting point like any other (`as_start`): descent in X from it (llcore.compare's "amortized then
X"), or descent in Z from its exact lift into θ's Z (`ExactLift`, llcore.inversion.lift), possibly with a θ trained
from that start (Trainer(start=as_start(net))). llcore.compare_amortized compares them fairly.

    net = Regressor(problem.y_shape, problem.x_shape, width=256)
    out = train_amortized(problem, y_train, net, steps=2000)      # out["history"], out["seconds"], ...
    start = as_start(net)                                          # targets (B, *y_shape) -> x_0 (B, *x_shape)
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor, nn
from tqdm import tqdm

from .inversion import LIFT_STEPS, lift
from .mapping import Mapping, _mlp
from .problem import Problem


class Regressor(nn.Module):
    """E: y (B, *y_shape) → x (B, *x_shape), an MLP on the flattened y.

    y_shape, x_shape: one target's and one x's shape (no batch dimension); width: hidden width (default 256);
    depth: linear layers (default 3); norm: LayerNorm + LeakyReLU(0.2) between them as in θ (default True)."""

    def __init__(self, y_shape: Sequence[int], x_shape: Sequence[int], width: int = 256, depth: int = 3,
                 norm: bool = True):
        super().__init__()
        self.y_shape, self.x_shape = tuple(int(s) for s in y_shape), tuple(int(s) for s in x_shape)
        self.dim_y, self.dim_x = math.prod(self.y_shape), math.prod(self.x_shape)
        self.net = _mlp(self.dim_y, self.dim_x, width, depth, norm)

    def forward(self, y: Tensor) -> Tensor:
        """x = E(y): y (B, *y_shape) → (B, *x_shape); ValueError for another y shape."""
        if tuple(y.shape[1:]) != self.y_shape:
            raise ValueError(f"Regressor expects targets of shape (B, *{self.y_shape}), got {tuple(y.shape)}")
        return self.net(y.reshape(y.shape[0], -1)).reshape(y.shape[0], *self.x_shape)


def train_amortized(problem: Problem, y_train: Tensor, net: nn.Module, steps: int, lr: float = 1e-3,
                    batch_size: int = 64, seed: int = 0, progress: bool = False) -> dict:
    """Train `net` (y (B, *y_shape) → x (B, *x_shape), e.g. a Regressor) in place: `steps` Adam steps at `lr` on
    mean_b problem.objective(net(y_b), y_b) over minibatches of `batch_size` targets drawn (with replacement) from
    y_train (N, *y_shape) by a CPU torch.Generator seeded `seed`; net's initial weights are the caller's (seed torch
    before building it); progress: a tqdm bar (default off). Deterministic for a seed and an initial net. Runs on
    y_train's device (net must be there).

    Returns {"state": net's state_dict on the CPU, "history": the loss of each step (steps,), "seconds": training
    wall seconds, "f_evaluations": steps · batch_size}. ValueError for steps or batch_size < 1, a y_train whose shape
    is not the problem's or net's (net.y_shape), a net whose output is not (B, *x_shape), or a non-finite loss (the
    step is named; net then holds the weights that produced it)."""
    for name, v in (("steps", steps), ("batch_size", batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"train_amortized: {name} must be an int >= 1, got {v!r}")
    y_train = problem.check_targets(y_train)
    expected = getattr(net, "y_shape", None)
    if expected is not None and tuple(y_train.shape[1:]) != tuple(expected):
        raise ValueError(f"train_amortized: net expects targets of shape (N, *{tuple(expected)}), y_train has "
                         f"shape {tuple(y_train.shape)}")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    history, start = [], time.perf_counter()
    for t in tqdm(range(steps), disable=not progress, desc="train E", mininterval=2.0):
        y = y_train[torch.randint(len(y_train), (batch_size,), generator=g).to(y_train.device)]
        x = net(y)
        if tuple(x.shape) != (batch_size, *problem.x_shape):
            raise ValueError(f"train_amortized: net returned shape {tuple(x.shape)}, expected (B, *x_shape) = "
                             f"{(batch_size, *problem.x_shape)}")
        loss = problem.objective(x, y).mean()
        if not torch.isfinite(loss):
            raise ValueError(f"train_amortized: the loss became {float(loss.detach())} at step {t}: lr={lr:g} may be too "
                             f"large (or F is NaN/Inf at the net's prediction)")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    seconds = time.perf_counter() - start
    return {"state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}, "history": history,
            "seconds": seconds, "f_evaluations": steps * batch_size}


def as_start(net: nn.Module, x_shape: Optional[Sequence[int]] = None) -> Callable[[Tensor], Tensor]:
    """A start function for llcore (compare.strongest's starts, run, Trainer(start=), invert's x0): targets
    (B, *y_shape) → x_0 = net(targets) (B, *x_shape), computed under no_grad and detached. x_shape: default
    net.x_shape."""
    shape = tuple(x_shape if x_shape is not None else net.x_shape)

    def start(y: Tensor) -> Tensor:
        with torch.no_grad():
            return net(y).reshape(y.shape[0], *shape).detach()
    return start


class ExactLift(Mapping):
    """θ itself (the same module, so the same parameters and output) whose `initial_z` is the exact lift
    (llcore.inversion.lift, `steps` evaluations of θ per target): given to strongest / run / invert in Z with a
    start function's x_0, descent starts at z_0 with θ(z_0) = x_0 as nearly as θ allows, instead of θ's rough
    initial_z. The last lift is cached by its x_0 (a sweep lifts the same validation starts at every lr), so θ must
    not change while this wrapper is used: build it where it is used."""

    def __init__(self, theta: Mapping, steps: int = LIFT_STEPS):
        super().__init__(theta.dim_x, theta.dim_z, theta.bound)
        self.theta, self.steps, self._last = theta, steps, None

    def forward(self, z: Tensor) -> Tensor:
        """θ(z): z (B, dim_z) → (B, dim_x), θ's bound included."""
        return self.theta(z)

    def unbounded(self, z: Tensor) -> Tensor:
        """θ's output before its bound: z (B, dim_z) → (B, dim_x)."""
        return self.theta.unbounded(z)

    def initial_z(self, x0: Tensor) -> Tensor:
        """z_0 = lift(θ, x0): x0 (B, dim_x) → (B, dim_z), on θ's device."""
        if self._last is None or self._last[0].shape != x0.shape or not torch.equal(self._last[0], x0):
            self._last = (x0.detach().clone(), lift(self.theta, x0, self.steps))
        return self._last[1].clone()
