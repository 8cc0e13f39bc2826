"""Training θ by coordinate descent with experience replay (paper, Sec. 3.2, Alg. 1).

The objective (paper, Eq. 5) is the loss along whole descent trajectories in Z:

    min_θ  E_y  Σ_{t=0..T} L(F(θ(z_t)), y),     z_{t+1} = opt_step(z_t, ∇_z L(F(θ(z_t)), y))

Rather than differentiating through the T steps, each round alternates
    E-step (θ frozen):  roll out T optimizer steps in Z for a batch of training targets; buffer every (z_t, y);
    M-step (z fixed):   K AdamW updates of θ on buffer minibatches, minimizing mean L(F(θ(z)), y).
A non-finite loss restores the last good θ and stops with `TrainingDiverged`. Settings: config.py; beside this
file: checkpoint.py (resume), probes.py, unrolled.py (the unrolled ablation), shards.py and distributed.py.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch
from torch import Tensor
from tqdm import tqdm

from . import checkpoint
from .buffer import ReplayBuffer
from .config import TrainConfig, check_training_inputs
from .inversion import invert, starting_point
from .mapping import Mapping
from .probes import SpeedupProbe
from .problem import Problem
from .unrolled import unrolled_round


class TrainingDiverged(FloatingPointError):
    """θ training met a NaN/Inf; the mapping holds the last good θ."""


class Trainer:
    """Trains `mapping` (θ) for `problem` on `train_targets` (N, *y_shape) with `config` (TrainConfig).

    probe_targets:   held-out targets (M, *y_shape) for llcore.probes.SpeedupProbe every `probe_every` rounds: the
                     fair comparison's speed-up at probe_steps, against a reference chosen on these targets once
                     (or `probe_reference`, a llcore.compare.Choice); with stop_patience it also ends training.
    checkpoint_path: saved every `checkpoint_every` rounds and at the end; `train()` resumes from it bit-exactly.
    callbacks:       functions trainer -> dict called after each round; their items join the round's stats.
    start:           optional start function, targets (n, *y_shape) -> x_0 (n, *x_shape) (e.g. an encoder's guess
                     E(y)): the E-step's roll-outs then start from z_0 with θ(z_0) = x_0 (the exact lift,
                     llcore.inversion.lift, redone each round as θ changes) instead of the problem's draw, so θ
                     learns the landscape around that start. Deterministic in y, so a resumed run stays bit-exact;
                     a resumption must pass the same function (it is code, not a setting the checkpoint can check).
    Device: all on one, CPU or CUDA: train_targets', where training runs; probe targets are moved there, θ and F
    are not. z_0 is drawn on the CPU and lifted on θ's device. One buffer; shards > 1: shards.ShardedTrainer."""

    def __init__(self, problem: Problem, mapping: Mapping, train_targets: Tensor, config: TrainConfig,
                 probe_targets: Optional[Tensor] = None, checkpoint_path: Optional[str | Path] = None,
                 callbacks: Sequence[Callable[["Trainer"], dict]] = (), probe_reference=None,
                 start: Optional[Callable[[Tensor], Tensor]] = None):
        check_training_inputs(problem, mapping, config)
        self.problem, self.mapping, self.config = problem, mapping, config
        # what θ trains on: the problem with F at config.train_autocast's precision (probes use `problem` as given)
        self.train_problem = problem if config.train_autocast is None else dataclasses.replace(
            problem, autocast=config.train_autocast)
        self.targets = problem.check_targets(train_targets)
        self.device = self.targets.device
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.callbacks, self.start = list(callbacks), start
        if probe_targets is not None and config.probe_every:
            self.callbacks.append(SpeedupProbe.from_config(problem, probe_targets.to(self.device), config,
                                                           probe_reference))
        self.optimizer = torch.optim.AdamW(mapping.parameters(), lr=config.theta_lr, weight_decay=config.weight_decay)
        self.round, self.history, self.seconds = 0, [], 0.0     # seconds: training time, across resumptions
        self._init_streams()

    def _init_streams(self) -> None:
        if self.config.shards != 1:
            raise ValueError(f"shards={self.config.shards}: use llcore.ShardedTrainer (DistributedTrainer: torchrun)")
        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.buffer = ReplayBuffer(self.config.buffer_capacity)

    def streams(self) -> dict[int, tuple[torch.Generator, ReplayBuffer]]:
        """shard -> (its random stream, its replay buffer); here the one of this trainer."""
        return {0: (self.generator, self.buffer)}

    def draw(self, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """(indices (n,), targets (n, *y_shape), z_0 (n, dim_z)) for one stream's share of the E-step batch: z_0 lifts
        the problem's x_0 drawn from the stream, or `start(targets)` when the trainer has a start function."""
        n = self.config.batch_size // self.config.shards
        idx = torch.randint(len(self.targets), (n,), generator=generator)
        y = self.targets[idx.to(self.device)]
        x0 = None
        if self.start is not None:
            with torch.no_grad():
                x0 = self.start(y).detach()
        z0 = starting_point(self.problem, n, self.mapping, generator, x0=x0, exact=x0 is not None).to(self.device)
        return idx, y, z0

    def e_step(self) -> dict:
        """E-step (θ frozen): T inner steps per stream, each (z_t, y_index) buffered; e_loss_0/_T: mean at z_0/z_T."""
        cfg, first, last = self.config, [], []
        for generator, buffer in self.streams().values():
            idx, y, z0 = self.draw(generator)
            rec = invert(self.train_problem, y, self.mapping, cfg.inner_optimizer, cfg.inner_lr, cfg.inner_steps,
                         z0=z0, keep_trajectory=True)
            traj = rec.trajectory if cfg.trajectory_loss == "all" else rec.trajectory[-1:]   # (T+1 or 1, n, dim_z)
            if not torch.isfinite(traj).all() or not torch.isfinite(rec.loss).all():
                raise TrainingDiverged(self._nonfinite_rollout(rec, y))
            buffer.push(z=traj.reshape(-1, traj.shape[-1]), y_index=idx.repeat(traj.shape[0]).to(self.device))
            first.append(rec.loss[0]); last.append(rec.loss[-1])
        return {"e_loss_0": float(torch.cat(first).mean()), "e_loss_T": float(torch.cat(last).mean())}

    def _nonfinite_rollout(self, rec, y: Tensor) -> str:
        """Why an E-step rollout went NaN/Inf: z diverged (it is non-finite, or ran 100x farther than its start's
        scale: the lr), θ's output did at a z near its start (θ), or F/the loss did at a finite x (F)."""
        bad = ~torch.isfinite(rec.loss)                                           # (T+1, n)
        z_bad = (~torch.isfinite(rec.trajectory)).reshape(*rec.trajectory.shape[:2], -1).any(2)
        t, b = (int(i) for i in (bad | z_bad).nonzero()[0])
        z, z0 = rec.trajectory[t, b:b + 1], rec.trajectory[0, b:b + 1]
        head = f"round {self.round}: the E-step rollout produced NaN/Inf at inner step {t} (a target of the batch"
        if not torch.isfinite(z).all() or float(z.norm()) > 100 * (float(z0.norm()) + 1):
            return (f"{head}; |z| went from {float(z0.norm()):.3g} to {float(z.norm()):.3g}: the descent in Z "
                    f"diverged): inner_lr={self.config.inner_lr} is too large for this θ")
        with torch.no_grad():
            x = self.mapping(z).reshape(1, *self.problem.x_shape)
            if not torch.isfinite(x).all():
                return f"{head}): θ(z) is NaN/Inf at a finite z; lower theta_lr (now {self.config.theta_lr})"
            value = self.problem.objective(x, y[b:b + 1])
        where = ", ".join(f"{v:.4g}" for v in x.reshape(-1)[:6].tolist())
        return (f"{head}): F or the loss returned {float(value[0])} at a finite x = θ(z) = "
                f"[{where}{', …' if x.numel() > 6 else ''}] (x_shape {self.problem.x_shape}); the forward model is "
                f"undefined there: make F finite on θ's range (or bound θ's output), a lower inner_lr will not help")

    def m_step(self) -> dict:
        """M-step (z fixed): K AdamW steps of θ on buffer minibatches, mean L(F(θ(z)), y); m_loss, m_loss_last."""
        cfg, losses = self.config, []
        n = cfg.theta_batch // cfg.shards
        for _ in range(cfg.theta_steps):
            parts = [buffer.sample(n, generator) for generator, buffer in self.streams().values()]
            z, y_index = torch.cat([p["z"] for p in parts]), torch.cat([p["y_index"] for p in parts])
            x = self.mapping(z).reshape(-1, *self.problem.x_shape)
            losses.append(self.theta_update(self.train_problem.objective(x, self.targets[y_index]).mean()))
        return {"m_loss": sum(losses) / len(losses), "m_loss_last": losses[-1]}

    def theta_update(self, loss: Tensor) -> float:
        """One AdamW step of θ on `loss` (gradients reduced across processes, then clipped)."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.reduce_gradients()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.mapping.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return float(loss.detach())

    def reduce_gradients(self) -> None:
        """Nothing in one process; DistributedTrainer sums its share across processes."""

    def train(self, progress: bool = True, resume: bool = True) -> list[dict]:
        """Train up to config.rounds rounds, or until the early stop (stop_patience) ends it; progress: a tqdm bar.

        resume=True (default): when checkpoint_path exists, continue that run from its last round (its settings must
        match, apart from rounds, the probe's and the stop's; a line on stderr says so); resume=False starts over and
        overwrites it. Returns the history, one dict per round: round, seconds (θ's training time so far, cumulative
        across rounds and resumptions, probes excluded), e_loss_0 / e_loss_T, m_loss, m_loss_last, the callbacks'
        items (probe_speedup, probe_speedup_curve, probe_fraction_gain); the last round's also has "stopped", why
        training ended (the rounds reached, or the early stop with its best probe)."""
        cfg = self.config
        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.load_checkpoint(self.checkpoint_path)
            print(f"resuming θ training from {self.checkpoint_path} at round {self.round} of {cfg.rounds} "
                  f"(train(resume=False) starts over)", file=sys.stderr)
        bar = tqdm(total=cfg.rounds, initial=self.round, disable=not progress, desc="train θ",
                   mininterval=2.0, dynamic_ncols=True)
        try:
            while self.round < cfg.rounds and not self.early_stop():
                good = copy.deepcopy(self.mapping.state_dict())
                start = time.perf_counter()
                stats = unrolled_round(self) if cfg.mode == "unrolled" else {**self.e_step(), **self.m_step()}
                finite = all(map(math.isfinite, stats.values()))
                if not (finite and all(p.isfinite().all() for p in self.mapping.parameters())):
                    self.mapping.load_state_dict(good)
                    raise TrainingDiverged(f"round {self.round}: θ training produced NaN/Inf ({stats}); θ was restored "
                                           f"to its state before this round. Lower theta_lr (now {cfg.theta_lr}) or set "
                                           f"grad_clip.")
                self.seconds += time.perf_counter() - start
                self.round += 1
                stats = {"round": self.round, "seconds": self.seconds, **stats}
                for callback in self.callbacks:
                    stats.update(callback(self))
                self.history.append(stats)
                if self.round == cfg.rounds or self.early_stop():
                    stats["stopped"] = self.early_stop() or f"reached rounds={cfg.rounds}"
                bar.update(1)
                bar.set_postfix({k: f"{stats[k]:.3g}" for k in ("m_loss", "e_loss_T", "probe_speedup") if k in stats})
                if self.checkpoint_path and cfg.checkpoint_every and self.round % cfg.checkpoint_every == 0:
                    self.save_checkpoint(self.checkpoint_path)
        finally:
            bar.close()
        if self.checkpoint_path is not None:
            self.save_checkpoint(self.checkpoint_path)
        return self.history

    def early_stop(self) -> str:
        """Why training should stop now under config.stop_patience ("" if it should go on): probe_speedup has not
        risen above its best by more than stop_min_delta for stop_patience probes. Read from the history, so a
        resumed run stops where the uninterrupted one would."""
        patience, delta = self.config.stop_patience, self.config.stop_min_delta
        probes = [(h["round"], h["probe_speedup"]) for h in self.history if "probe_speedup" in h]
        if not patience or len(probes) <= patience:
            return ""
        best_round, best, since = probes[0][0], probes[0][1], 0
        for r, v in probes[1:]:
            if v > best + delta:
                best_round, best, since = r, v, 0
            else:
                since += 1
        if since < patience:
            return ""
        return (f"early stop at round {self.round}: probe_speedup has not risen above {best:.3g} (round {best_round}) "
                f"by more than {delta:g} for {since} probes (stop_patience={patience})")

    state_dict = checkpoint.trainer_state              # θ, AdamW, buffers, random streams, history
    load_checkpoint = checkpoint.restore_trainer       # the settings must match

    def save_checkpoint(self, path) -> Path:
        """Write state_dict() to `path` atomically; returns the path."""
        return checkpoint.atomic_torch_save(path, self.state_dict())
