"""The inversion loop: the one gradient descent that every method and experiment runs.

Baseline (θ = None), descent in X (paper, Eq. 1):   x_{t+1} = opt_step(x_t, ∇_x L(F(x_t), y))
Landscape, descent in Z (paper, Eq. 4):             z_{t+1} = opt_step(z_t, ∇_z L(F(θ(z_t)), y)),  x_t = θ(z_t)

All B targets of a batch are optimized at once on the summed loss, which keeps every target's
(element-wise) update independent. The loop returns a `Record`: the per-step, per-target objective,
the wall-clock seconds at which each step's loss was known, the final x and z, x at requested
steps, and optionally the whole z trajectory (what the trainer's E-step pushes into its buffer).
With `differentiable=True` the updates build a graph, so a loss on the trajectory can be
back-propagated to θ (the "unrolled" ablation).
"""
from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Optional

import torch
from torch import Tensor

from . import lbfgs
from .mapping import Mapping
from .optim import InnerOptimizer
from .problem import Problem


@dataclass
class Record:
    """What one inversion run returns (`invert`). B targets, S = steps; "device" is y's device.

    loss:       (S+1, B) the objective L(F(x_t), y) + R(x_t) at x_0 … x_S; on the CPU, detached
                (with differentiable=True: on the device, still attached to the graph).
    seconds:    (S+1,) float64, CPU: wall-clock seconds from the start of the loop until loss[t] was known
                (CUDA synchronized first), so seconds[0] > 0 is the cost of the first forward pass.
    x:          (B, *x_shape) final x = θ(z_S) (x_S in X), detached, on the device.
    z:          (B, dim_z) with a mapping, (B, *x_shape) without: the final iterate z_S, detached, on the device.
    snapshots:  {step t: x_t (B, *x_shape)} for each of invert's `snapshot_steps`, detached, on the device.
    trajectory: (S+1, B, dim_z) or (S+1, B, *x_shape), iterates z_0 … z_S on the device with
                keep_trajectory=True; otherwise None.
    metric:     (S+1, B), CPU: the problem's metric m(F(x_t), y), or None (no metric, or differentiable=True).
    meta:       {"optimizer", "lr", "steps", "batch", "mapping" (class name or None), "problem", "device",
                "nonfinite": {target index: first step whose objective was NaN/Inf} (empty when all finite)}.
    With optimizer "lbfgs" (llcore.lbfgs), step t is the t-th evaluation of F and every row is the best so far.
    """
    loss: Tensor                  # (S+1, B) objective at x_0 … x_S
    seconds: Tensor               # (S+1,) cumulative wall seconds at which loss[t] was known
    x: Tensor                     # (B, *x_shape) final x = θ(z_S)
    z: Tensor                     # (B, dim_z) or (B, *x_shape) final iterate
    snapshots: dict = field(default_factory=dict)   # step -> x at that step, (B, *x_shape)
    trajectory: Optional[Tensor] = None             # (S+1, B, …) iterates z_0 … z_S
    metric: Optional[Tensor] = None                 # (S+1, B) the problem's metric, when it has one
    meta: dict = field(default_factory=dict)        # optimizer, lr, steps, batch, mapping, problem, device

    @property
    def steps(self) -> int:
        """S, the number of optimizer steps taken (loss has S+1 rows)."""
        return self.loss.shape[0] - 1

    def curve(self, which: str = "loss") -> Tensor:
        """Mean over targets per step, (S+1,), of the objective (which='loss', default) or the problem's 'metric'."""
        table = self.loss if which == "loss" else self.metric
        if table is None:
            raise ValueError(f"this record has no {which!r} (the problem defines no metric)")
        return table.mean(1)

    def to_dict(self) -> dict:
        """The fields as a plain dict, tensors where they lie (io.save_record moves them to the CPU)."""
        return {k: getattr(self, k) for k in ("loss", "seconds", "x", "z", "snapshots", "trajectory", "metric", "meta")}


@dataclass(frozen=True)
class RefineInX:
    """Landscape, then descent in X (invert's `refine_in_x`): after `after` = k steps in Z, continue from
    x_k = θ(z_k) with `optimizer` (an InnerOptimizer step rule with its own lr and a fresh state), the problem's
    projection applied as in any descent in X. k = the budget gives plain landscape, k = 0 plain descent in X from
    θ(z_0): what removes landscape's late plateau while keeping its early steps, when it does."""
    after: int
    optimizer: InnerOptimizer

    def __post_init__(self):
        if not isinstance(self.after, int) or self.after < 0:
            raise ValueError(f"RefineInX.after (k, the steps in Z) must be an int >= 0, got {self.after!r}")
        if not isinstance(self.optimizer, InnerOptimizer) or self.optimizer.name == "lbfgs":
            raise ValueError(f"RefineInX.optimizer must be an InnerOptimizer step rule (adam, sgd, sign), got "
                             f"{self.optimizer!r}")


@contextmanager
def _frozen(module: Optional[torch.nn.Module]):
    """Temporarily stop gradients to a module's parameters (θ is frozen during inference)."""
    if module is None:
        yield
        return
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, f in zip(module.parameters(), flags):
            p.requires_grad_(f)


def _sync(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


LIFT_STEPS = 30          # evaluations of θ per target for an exact lift (per-target L-BFGS on ‖θ(z) − x_0‖²)


def lift(mapping: Mapping, x0: Tensor, steps: int = LIFT_STEPS) -> Tensor:
    """z_0 with θ(z_0) = x_0 as nearly as θ allows: x0 (B, *x_shape) → (B, dim_z), on θ's device.

    mapping.initial_z(x0) is exact only while θ is the identity; a trained θ moves away from it (θ(initial_z(x0)) is
    then another start than x0). This solves min_z mean (θ(z) − x0)² from initial_z(x0) by per-target L-BFGS
    (`steps` evaluations of θ each, the one inversion loop on an identity forward model). Check the residual
    (θ(z) − x0).abs().max() where exactness matters: a bounded θ cannot reach an x0 outside its bound."""
    target = x0.reshape(x0.shape[0], -1).to(mapping.device)
    fit = Problem(forward=lambda x: x, loss=lambda pred, y: (pred - y).pow(2).mean(1), x_shape=(mapping.dim_x,),
                  name="exact lift")
    return invert(fit, target, mapping, "lbfgs", lr=1.0, steps=steps, z0=mapping.initial_z(target)).z


def starting_point(problem: Problem, batch: int, mapping: Optional[Mapping] = None,
                   generator: Optional[torch.Generator] = None, x0: Optional[Tensor] = None,
                   exact: bool = False) -> Tensor:
    """z_0 for `batch` targets: the problem's x_0 (or the given one), lifted into Z when θ is given.

    problem: supplies x_0 = problem.initial_x(batch, generator) (drawn on the CPU) when x0 is None.
    batch: B, the number of targets.
    mapping: θ; None returns x_0 itself, (B, *x_shape); otherwise mapping.initial_z(x_0 flattened), (B, dim_z).
    generator: CPU torch.Generator for the problem's init (default: a fresh one seeded 0, so the start is fixed).
    x0: optional X-space start (B, *x_shape), used instead of the problem's draw (shape checked).
    exact: lift x_0 into Z with `lift` (θ(z_0) = x_0 for a trained θ) instead of mapping.initial_z (default False:
    exact only while θ is the identity).
    Without θ the result is on x_0's device; with θ, x_0 is moved to θ's device (Mapping.device) and lifted there."""
    if x0 is None:
        x0 = problem.initial_x(batch, generator if generator is not None else torch.Generator().manual_seed(0))
    elif tuple(x0.shape) != (batch, *problem.x_shape):
        raise ValueError(f"x0 must have shape {(batch, *problem.x_shape)}, got {tuple(x0.shape)}")
    if mapping is None:
        return x0
    if exact:
        return lift(mapping, x0)
    return mapping.initial_z(x0.reshape(batch, -1).to(mapping.device))


def invert(problem: Problem, y: Tensor, mapping: Optional[Mapping] = None, optimizer: str = "adam",
           lr: Optional[float] = None, steps: int = 200, z0: Optional[Tensor] = None, x0: Optional[Tensor] = None,
           generator: Optional[torch.Generator] = None, snapshot_steps: Iterable[int] = (),
           keep_trajectory: bool = False, differentiable: bool = False,
           refine_in_x: Optional[RefineInX] = None) -> Record:
    """Run `steps` optimizer steps on x (mapping=None, Eq. 1) or on z with x = mapping(z) (Eq. 4); returns a Record.

    problem: F, the loss and x's shape; its `project` is applied after each step in X only.
    y: targets (B, *y_shape), checked by problem.check_targets.
    mapping: θ, or None for the X-space baseline. θ is frozen during the run (requires_grad restored after).
    optimizer: 'adam' (default), 'sgd', 'sign' or 'lbfgs' (per-target L-BFGS, one step per evaluation of F:
        llcore.lbfgs), or an InnerOptimizer (e.g. Adam with other betas) that carries its own lr.
    lr: the inner step size (default None: 0.1, or the InnerOptimizer's own); with an InnerOptimizer, a different lr
        is a ValueError (it would be ignored).
    steps: S >= 0 (default 200); the objective is recorded at S+1 iterates, z_0 … z_S.
    z0: start in Z, (B, dim_z), or (B, *x_shape) without a mapping; wins over x0 and generator.
    x0: start in X, (B, *x_shape), lifted by starting_point when z0 is None.
    generator: CPU generator for the problem's x_0 when neither z0 nor x0 is given (default: seeded 0).
    snapshot_steps: steps t in [0, S] at which to keep x_t in Record.snapshots.
    keep_trajectory: keep every iterate z_0 … z_S in Record.trajectory (what the E-step pushes).
    differentiable: build a graph through the updates (the unrolled ablation): θ is not frozen, Record.loss stays
        attached on the device, and the metric is not computed.
    refine_in_x: a RefineInX(after=k, optimizer): with θ, steps 0..k-1 in Z, then descent in X from x_k = θ(z_k)
        with that optimizer (the same loop, one Record; Record.z is then the final x, meta["refine_in_x"] says k).
    Device: everything must be on one device, CPU or CUDA: the run happens on y's device, and θ and F are not
    moved there. z0, or the start lifted from x0 / the problem's x_0 (drawn on the CPU; the lift runs on θ's
    device, see starting_point), is copied to y's device as float32.
    NaN/Inf: a target whose objective becomes non-finite gets a warning naming it and the step, and
    Record.meta["nonfinite"]; the other targets' descents are unaffected (updates are per target).
    Raises ValueError for a bad `steps`, snapshot step, z0 shape, a non-finite z0, a θ whose output size is not
    x's, or an lr that contradicts the InnerOptimizer's.
    """
    y = problem.check_targets(y)
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if isinstance(optimizer, InnerOptimizer):
        if lr is not None and lr != optimizer.lr:
            raise ValueError(f"lr={lr!r} and an InnerOptimizer with lr={optimizer.lr!r}: the InnerOptimizer's lr is "
                             f"used; pass one of them (e.g. dataclasses.replace(optimizer, lr={lr!r}))")
        opt = optimizer
    else:
        opt = InnerOptimizer(optimizer, 0.1 if lr is None else lr)
    if mapping is not None and mapping.dim_x != problem.dim_x:
        raise ValueError(f"θ outputs dim_x={mapping.dim_x} values, {problem.name}'s x has {problem.dim_x} elements "
                         f"(x_shape {problem.x_shape}): build θ with dim_x={problem.dim_x}")
    if differentiable and opt.name == "lbfgs":
        raise ValueError("differentiable=True needs a step rule (adam, sgd, sign), not the 'lbfgs' solver")
    if refine_in_x is not None:
        if mapping is None or differentiable or keep_trajectory or opt.name == "lbfgs":
            raise ValueError("refine_in_x needs θ (a mapping) and a step rule in Z, without differentiable or "
                             "keep_trajectory")
        if refine_in_x.after > steps:
            raise ValueError(f"refine_in_x.after={refine_in_x.after} is past the budget, steps={steps}")
    batch, device = y.shape[0], y.device
    snaps = sorted(set(int(s) for s in snapshot_steps))
    if snaps and (snaps[0] < 0 or snaps[-1] > steps):
        raise ValueError(f"snapshot_steps must lie in [0, {steps}], got {snaps}")
    if z0 is None:
        z0 = starting_point(problem, batch, mapping, generator, x0)
    expected = (batch, mapping.dim_z) if mapping is not None else (batch, *problem.x_shape)
    if tuple(z0.shape) != expected:
        raise ValueError(f"z0 must have shape {expected}, got {tuple(z0.shape)}")
    if not torch.isfinite(z0).all():
        raise ValueError("z0 contains NaN or Inf")

    theta = mapping                                       # set to None where refine_in_x moves the descent to X

    def decode(z: Tensor) -> Tensor:
        return z if theta is None else theta(z).reshape(batch, *problem.x_shape)

    z = z0.detach().to(device=device, dtype=torch.float32).clone().requires_grad_(True)
    meta = {"optimizer": opt.name, "lr": opt.lr, "steps": steps, "batch": batch,
            "mapping": type(mapping).__name__ if mapping is not None else None, "problem": problem.name,
            "device": str(device)}
    if refine_in_x is not None:
        meta["refine_in_x"] = {"after": refine_in_x.after, "optimizer": refine_in_x.optimizer.name,
                               "lr": refine_in_x.optimizer.lr, "betas": list(refine_in_x.optimizer.betas)}
    if opt.name == "lbfgs":
        one = lambda v: v if mapping is None else mapping(v).reshape(1, *problem.x_shape)         # noqa: E731
        decode_one = one if mapping is not None or problem.project is None else lambda v: problem.project(v)
        with _frozen(mapping), torch.enable_grad():
            out = lbfgs.solve(problem, y, decode_one, z, opt.lr, steps, snaps, keep_trajectory, lambda: _sync(device))
        return _checked(Record(meta=meta, **out))
    state = opt.init_state(z)
    losses, metrics, seconds, trajectory, snapshots = [], [], [], [], {}
    project = problem.project if mapping is None else None
    context = _frozen(None) if differentiable else _frozen(mapping)
    with context, torch.enable_grad():
        _sync(device)
        start = time.perf_counter()
        for t in range(steps + 1):
            x = decode(z)
            loss, metric = problem.objective_and_metric(x, y, with_metric=not differentiable)   # (B,), (B,)|None
            _sync(device)
            seconds.append(time.perf_counter() - start)
            losses.append(loss if differentiable else loss.detach())
            if metric is not None:
                metrics.append(metric)
            if keep_trajectory:
                trajectory.append(z.detach().clone())
            if t in snaps:
                snapshots[t] = x.detach().clone()
            if t == steps:
                break
            if refine_in_x is not None and t == refine_in_x.after:   # from here on, descent in X from x_t = θ(z_t)
                (grad,) = torch.autograd.grad(loss.sum(), x)
                z = x.detach().clone().requires_grad_(True)
                theta, opt, project = None, refine_in_x.optimizer, problem.project
                state = opt.init_state(z)
                with torch.no_grad():
                    opt.step(z, grad, state)
                    if project is not None:
                        z.copy_(project(z))
                continue
            (grad,) = torch.autograd.grad(loss.sum(), z, create_graph=differentiable)
            if differentiable:
                z = opt.step(z, grad, state, differentiable=True)
                if project is not None:
                    z = project(z)
            else:
                with torch.no_grad():
                    opt.step(z, grad, state)
                    if project is not None:
                        z.copy_(project(z))
    loss_table = torch.stack(losses)
    return _checked(Record(
        loss=loss_table if differentiable else loss_table.cpu(),
        seconds=torch.tensor(seconds, dtype=torch.float64),
        x=x.detach().clone(), z=z.detach().clone(), snapshots=snapshots,
        trajectory=torch.stack(trajectory) if keep_trajectory else None,
        metric=torch.stack(metrics).cpu() if metrics else None, meta=meta))


def _checked(record: Record) -> Record:
    """Mark (meta["nonfinite"]) and warn about the targets whose objective became NaN/Inf, with the first step."""
    bad = ~torch.isfinite(record.loss.detach())                                  # (S+1, B)
    first = {int(b): int(bad[:, b].nonzero()[0]) for b in bad.any(0).nonzero().flatten().tolist()}
    record.meta["nonfinite"] = first
    if first:
        shown = ", ".join(f"target {b} from step {t}" for b, t in list(first.items())[:10])
        warnings.warn(f"{record.meta['problem']}: the objective became NaN/Inf for {len(first)} of "
                      f"{record.loss.shape[1]} targets ({shown}{', …' if len(first) > 10 else ''}): F or the loss "
                      f"returned NaN/Inf there, or the lr is too large; the other targets are unaffected",
                      RuntimeWarning, stacklevel=3)
    return record
