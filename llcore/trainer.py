"""Training θ by coordinate descent with experience replay (paper, Sec. 3.2, Alg. 1).

The objective (paper, Eq. 5) is the loss along whole descent trajectories in Z:

    min_θ  E_y  Σ_{t=0..T} L(F(θ(z_t)), y),     z_{t+1} = opt_step(z_t, ∇_z L(F(θ(z_t)), y))

Rather than differentiating through the T steps, each round alternates
    E-step (θ frozen):  draw a batch of training targets, roll out T optimizer steps in Z with the
                        inversion loop, push every (z_t, y) into the replay buffer;
    M-step (z fixed):   K AdamW updates of θ on minibatches drawn uniformly from the buffer,
                        minimizing mean L(F(θ(z)), y).
Ablation switches: `trajectory_loss="last"` pushes only z_T; `buffer_rounds=1` keeps only the
current round's trajectory (no replay); `mode="unrolled"` drops coordinate descent and
back-propagates Σ_t L through the T inner steps (one θ update per round).

Long runs checkpoint every `checkpoint_every` rounds (θ, AdamW, buffer, RNG, history) and resume
from the file bit-exactly; a non-finite loss restores the last good θ and stops with a clear error.

Data parallelism: with `shards = N` the global E-step batch, buffer and θ minibatch are split into N
shards, each with its own random stream and replay buffer; a θ update descends the mean loss over all
shards' samples. One process can own all N shards, or M ≤ N torch.distributed processes share them
round-robin (distributed.py), combining gradients across processes: both compute the same θ, and a
checkpoint (which holds every shard) resumes with any M.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor
from tqdm import tqdm

from .buffer import ReplayBuffer
from .inversion import invert, starting_point
from .io import atomic_torch_save, torch_load
from .mapping import Mapping
from .metrics import reach
from .optim import OPTIMIZERS
from .problem import Problem


@dataclass
class TrainConfig:
    rounds: int = 300            # E/M rounds in total
    batch_size: int = 64         # training targets per E-step rollout
    inner_steps: int = 20        # T, optimizer steps per rollout (paper: 20)
    inner_optimizer: str = "adam"
    inner_lr: float = 0.1        # lr on z; use the same one at test time (paper: Adam, 0.1)
    theta_steps: int = 20        # K, θ updates per M-step
    theta_batch: int = 256       # (z, y) pairs per θ update (paper: 256)
    theta_lr: float = 1e-3       # AdamW lr on θ (paper: 1e-4)
    weight_decay: float = 0.0
    grad_clip: Optional[float] = 1.0   # max global grad norm of θ, None for no clipping
    buffer_rounds: int = 20      # buffer capacity in rounds of pushes; 1 = current trajectory only
    trajectory_loss: str = "all"  # "all": push z_0..z_T; "last": push z_T only
    mode: str = "coordinate"     # "coordinate" (E/M with replay) or "unrolled"
    probe_every: int = 0         # rounds between held-out speed-up probes; 0 = never
    probe_steps: int = 10        # N of the probe's speedup_at[N]
    checkpoint_every: int = 0    # rounds between checkpoints; 0 = only at the end (if a path is given)
    seed: int = 0
    shards: int = 1              # data-parallel shards (= processes under torch.distributed); divides the batches

    def __post_init__(self):
        for name in ("rounds", "batch_size", "inner_steps", "theta_steps", "theta_batch", "buffer_rounds", "shards"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                label = {"inner_steps": "T (inner_steps)", "theta_steps": "K (theta_steps)"}.get(name, name)
                raise ValueError(f"{label} must be an int >= 1, got {v!r}")
        if self.inner_optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown inner optimizer {self.inner_optimizer!r}; choose one of {list(OPTIMIZERS)}")
        if self.trajectory_loss not in ("all", "last"):
            raise ValueError(f"trajectory_loss must be 'all' or 'last', got {self.trajectory_loss!r}")
        if self.mode not in ("coordinate", "unrolled"):
            raise ValueError(f"mode must be 'coordinate' or 'unrolled', got {self.mode!r}")
        for name in ("inner_lr", "theta_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("batch_size", "theta_batch"):
            if getattr(self, name) % self.shards:
                raise ValueError(f"{name}={getattr(self, name)} must be divisible by shards={self.shards}")

    @property
    def pushes_per_round(self) -> int:
        return self.batch_size * (self.inner_steps + 1 if self.trajectory_loss == "all" else 1)

    @property
    def buffer_capacity(self) -> int:
        """Pairs kept, over all shards."""
        return self.buffer_rounds * self.pushes_per_round

    def shard_seed(self, shard: int) -> int:
        return self.seed + 7919 * shard


# settings that may differ between a run and its resumption
_RESUMABLE = {"rounds", "probe_every", "probe_steps", "checkpoint_every"}


class TrainingDiverged(FloatingPointError):
    """θ training met a NaN/Inf; the mapping holds the last good θ."""


class Trainer:
    """Trains `mapping` for `problem` on `train_targets` (N, *y_shape); see the module docstring.

    owned_shards / average_gradients: for torch.distributed (see distributed.py); by default this process
    owns every shard and averages nothing."""

    def __init__(self, problem: Problem, mapping: Mapping, train_targets: Tensor, config: TrainConfig,
                 probe_targets: Optional[Tensor] = None, checkpoint_path: Optional[str | Path] = None,
                 owned_shards: Optional[list] = None, average_gradients=None):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        if not isinstance(mapping, Mapping):
            raise TypeError(f"mapping must be an llcore Mapping, got {type(mapping).__name__}")
        if mapping.dim_x != problem.dim_x:
            raise ValueError(f"mapping outputs dim_x={mapping.dim_x}, the problem's x has {problem.dim_x} elements")
        self.problem, self.mapping, self.config = problem, mapping, config
        self.targets = problem.check_targets(train_targets)
        self.device = self.targets.device
        self.probe_targets = None if probe_targets is None else problem.check_targets(probe_targets).to(self.device)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.owned = list(range(config.shards)) if owned_shards is None else list(owned_shards)
        if not self.owned or any(not 0 <= k < config.shards for k in self.owned):
            raise ValueError(f"owned_shards must be a non-empty subset of range({config.shards}), got {owned_shards}")
        self.generators = {k: torch.Generator().manual_seed(config.shard_seed(k)) for k in self.owned}
        self.buffers = {k: ReplayBuffer(config.buffer_capacity // config.shards) for k in self.owned}
        self.optimizer = torch.optim.AdamW(mapping.parameters(), lr=config.theta_lr, weight_decay=config.weight_decay)
        self.average_gradients = average_gradients
        self.round = 0
        self.history: list[dict] = []
        self.seconds = 0.0           # wall seconds spent training, across resumptions
        self._probe_baseline = None

    # E-step: roll out the inner optimizer with θ frozen and remember every iterate
    @property
    def buffer(self) -> ReplayBuffer:
        """The replay buffer (of the first owned shard; the only one unless shards > 1)."""
        return self.buffers[self.owned[0]]

    def _sample_targets(self, shard: int) -> tuple[Tensor, Tensor, Tensor]:
        """(indices, targets, z_0) for one shard's share of the E-step batch."""
        n, g = self.config.batch_size // self.config.shards, self.generators[shard]
        idx = torch.randint(len(self.targets), (n,), generator=g)
        z0 = starting_point(self.problem, n, self.mapping, g).to(self.device)
        return idx, self.targets[idx.to(self.device)], z0

    def e_step(self) -> dict:
        cfg, first, last = self.config, [], []
        for k in self.owned:
            idx, y, z0 = self._sample_targets(k)
            rec = invert(self.problem, y, self.mapping, cfg.inner_optimizer, cfg.inner_lr, cfg.inner_steps,
                         z0=z0, keep_trajectory=True)
            traj = rec.trajectory if cfg.trajectory_loss == "all" else rec.trajectory[-1:]   # (T+1 or 1, B, dim_z)
            if not torch.isfinite(traj).all() or not torch.isfinite(rec.loss).all():
                raise TrainingDiverged(f"round {self.round}: the E-step rollout produced NaN/Inf "
                                       f"(inner_lr={cfg.inner_lr} may be too large for this θ)")
            self.buffers[k].push(z=traj.reshape(-1, traj.shape[-1]),
                                 y_index=idx.repeat(traj.shape[0]).to(self.device))
            first.append(rec.loss[0]); last.append(rec.loss[-1])
        return {"e_loss_0": float(torch.cat(first).mean()), "e_loss_T": float(torch.cat(last).mean())}

    def _theta_update(self, loss: Tensor) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.average_gradients is not None:
            self.average_gradients(self.mapping)
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.mapping.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return float(loss.detach())

    # M-step: fit θ to the remembered iterates, z fixed
    def m_step(self) -> dict:
        cfg, losses = self.config, []
        n = cfg.theta_batch // cfg.shards
        for _ in range(cfg.theta_steps):
            parts = [self.buffers[k].sample(n, self.generators[k]) for k in self.owned]
            z, y_index = torch.cat([p["z"] for p in parts]), torch.cat([p["y_index"] for p in parts])
            x = self.mapping(z).reshape(-1, *self.problem.x_shape)
            losses.append(self._theta_update(self.problem.objective(x, self.targets[y_index]).mean()))
        return {"m_loss": sum(losses) / len(losses), "m_loss_last": losses[-1]}

    # the "unrolled" ablation: back-propagate the trajectory loss through the T inner steps
    def unrolled_step(self) -> dict:
        cfg = self.config
        parts = [self._sample_targets(k) for k in self.owned]
        y, z0 = torch.cat([p[1] for p in parts]), torch.cat([p[2] for p in parts])
        rec = invert(self.problem, y, self.mapping, cfg.inner_optimizer, cfg.inner_lr, cfg.inner_steps,
                     z0=z0, differentiable=True)
        loss = rec.loss.mean() if cfg.trajectory_loss == "all" else rec.loss[-1].mean()
        m_loss = self._theta_update(loss)
        return {"e_loss_0": float(rec.loss[0].detach().mean()), "e_loss_T": float(rec.loss[-1].detach().mean()),
                "m_loss": m_loss, "m_loss_last": m_loss}

    def probe(self) -> float:
        """Held-out speedup_at[probe_steps] against X-space descent with the same optimizer and lr."""
        cfg = self.config
        n = cfg.probe_steps
        if self._probe_baseline is None:
            self._probe_baseline = invert(self.problem, self.probe_targets, None, cfg.inner_optimizer,
                                          cfg.inner_lr, 10 * n, generator=torch.Generator().manual_seed(1)).curve()
        rec = invert(self.problem, self.probe_targets, self.mapping, cfg.inner_optimizer, cfg.inner_lr, n,
                     generator=torch.Generator().manual_seed(1))
        hit = reach(self._probe_baseline, float(rec.curve()[n]))
        return (hit if hit is not None else 10 * n) / n

    def _round(self) -> dict:
        if self.config.mode == "unrolled":
            return self.unrolled_step()
        stats = self.e_step()
        stats.update(self.m_step())
        return stats

    def train(self, progress: bool = True, resume: bool = True) -> list[dict]:
        """Train up to config.rounds rounds (resuming from the checkpoint when one exists); returns the history."""
        cfg = self.config
        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.load_checkpoint(self.checkpoint_path)
        bar = tqdm(total=cfg.rounds, initial=self.round, disable=not progress, desc="train θ",
                   mininterval=2.0, dynamic_ncols=True)
        try:
            while self.round < cfg.rounds:
                good = copy.deepcopy(self.mapping.state_dict())
                start = time.perf_counter()
                stats = self._round()
                if not all(map(lambda v: v == v and abs(v) != float("inf"), stats.values())) or \
                        not all(torch.isfinite(p).all() for p in self.mapping.parameters()):
                    self.mapping.load_state_dict(good)
                    raise TrainingDiverged(f"round {self.round}: θ training produced NaN/Inf ({stats}); "
                                           f"θ was restored to its state before this round. "
                                           f"Lower theta_lr (now {cfg.theta_lr}) or set grad_clip.")
                self.seconds += time.perf_counter() - start
                self.round += 1
                stats = {"round": self.round, "seconds": self.seconds, **stats}
                if cfg.probe_every and self.probe_targets is not None and self.round % cfg.probe_every == 0:
                    stats["probe_speedup"] = self.probe()
                self.history.append(stats)
                bar.update(1)
                bar.set_postfix({k: f"{v:.3g}" for k, v in stats.items() if k in ("m_loss", "e_loss_T", "probe_speedup")})
                if self.checkpoint_path is not None and cfg.checkpoint_every and self.round % cfg.checkpoint_every == 0:
                    self.save_checkpoint(self.checkpoint_path)
        finally:
            bar.close()
        if self.checkpoint_path is not None:
            self.save_checkpoint(self.checkpoint_path)
        return self.history

    def state_dict(self) -> dict:
        return {"config": asdict(self.config), "round": self.round, "seconds": self.seconds,
                "history": self.history, "mapping": self.mapping.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "buffers": {k: b.state_dict() for k, b in self.buffers.items()},
                "generators": {k: g.get_state() for k, g in self.generators.items()}}

    def save_checkpoint(self, path) -> Path:
        return atomic_torch_save(path, self.state_dict())

    def load_checkpoint(self, path) -> None:
        state = torch_load(path, "θ checkpoint", "Delete it to start training afresh.")
        mine, theirs = asdict(self.config), state["config"]
        diff = {k: (theirs.get(k), mine[k]) for k in mine if k not in _RESUMABLE and theirs.get(k) != mine[k]}
        if diff:
            raise ValueError(f"checkpoint {path} was written with a different configuration "
                             f"(checkpoint, now): {diff}. Delete it or restore the settings.")
        self.mapping.load_state_dict(state["mapping"])
        self.optimizer.load_state_dict(state["optimizer"])
        missing = [k for k in self.owned if k not in state["buffers"]]
        if missing:
            raise ValueError(f"checkpoint {path} holds shards {sorted(state['buffers'])}, not {missing}")
        for k in self.owned:
            self.buffers[k].load_state_dict(state["buffers"][k])
            self.generators[k].set_state(state["generators"][k])
        self.round, self.seconds, self.history = state["round"], state["seconds"], state["history"]
