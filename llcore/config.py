"""TrainConfig: every setting of θ's training (trainer.py), with its default and what it means.

How the settings relate to test time: landscape learning trains θ on the optimizer's own trajectories, so
`inner_optimizer` is the optimizer that will run in Z at test time and `inner_lr` the lr its landscape was shaped
for: the place to *start* the test-time lr search, not the answer. Tune the test-time lr of descent in Z on
validation targets like every other method's (llcore.sweep.sweep_lr, or llcore.compare, which searches it); it
often lands a few times above inner_lr. `inner_steps` (T) is the horizon θ is trained for; a test budget longer
than T still works (the buffer holds the iterates z_0..z_T, and θ generalises past them), but the gain is largest
at steps ≤ T.

How much θ to train: θ's width (ResidualMLP's, default 1024) is its capacity; 128-256 suffices for an x of a few
dozen numbers, wider pays for images and long trajectories; ablate it on validation targets (the reproduction's 04
does). For the number of rounds, give the Trainer probe targets and set probe_every and stop_patience: the probe
reports the fair comparison's speed-up (llcore.probes) and training stops once it stops improving.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .optim import OPTIMIZERS


@dataclass
class TrainConfig:
    """Settings of `Trainer` (coordinate descent with experience replay, paper Alg. 1).

    Each round is one E-step (roll out T steps in Z for `batch_size` training targets, push every z_t) and
    one M-step (K AdamW updates of θ on minibatches of `theta_batch` buffer pairs).

    rounds:          E/M rounds in total (300). Training time grows linearly; see the probe for when to stop.
    batch_size:      training targets per E-step rollout (64).
    inner_steps:     T, optimizer steps per rollout (20, as in the paper).
    inner_optimizer: the optimizer in Z: "adam", "sgd" (plain gradient descent) or "sign" (llcore.optim).
    inner_lr:        its learning rate on z (0.1). Use the same optimizer and lr at test time.
    theta_steps:     K, θ updates per M-step (20).
    theta_batch:     (z, y) pairs per θ update (256, as in the paper).
    theta_lr:        AdamW learning rate on θ (1e-3; the paper uses 1e-4 with a larger θ).
    weight_decay:    AdamW weight decay on θ (0).
    grad_clip:       max global gradient norm of θ per update (1.0); None for no clipping.
    buffer_rounds:   replay capacity, in rounds of pushes (20); 1 keeps the current round only (no replay).
    trajectory_loss: "all" pushes z_0..z_T (the trajectory loss of Eq. 5); "last" pushes z_T only.
    mode:            "coordinate" (E/M with replay, the method) or "unrolled" (ablation: back-propagate the
                     trajectory loss through the T inner steps, one θ update per round; llcore.unrolled).
    probe_every:     rounds between held-out probes (0 = never); needs Trainer(probe_targets=...) (llcore.probes).
    probe_steps:     N of the probe's speed-up at N steps (10).
    stop_patience:   early stop: end training when probe_speedup has not risen above its best by more than
                     stop_min_delta for this many consecutive probes (0 = never, the default); needs the probe.
    stop_min_delta:  the improvement that counts for stop_patience (0.0: any rise).
    train_autocast:  precision of F while θ trains (E-step roll-outs and M-step updates): None (default, float32),
                     "bf16" (CPUs with bf16 support, and CUDA) or "fp16" (CUDA): F under torch.autocast, θ, its
                     optimizer state, z and the losses stay float32 (llcore.problem). Every evaluation, sweep and
                     probe still runs the problem as given. Check on validation targets that it leaves θ's speed-up
                     and final quality within the noise before relying on it.
    checkpoint_every: rounds between checkpoints (0 = only at the end, when a checkpoint path is given).
    seed:            seeds the target draws, starting points and buffer sampling (θ's initial weights are
                     the caller's: seed torch before building θ).
    shards:          data-parallel shards (1). N > 1 needs llcore.shards.ShardedTrainer (one process) or
                     llcore.distributed.DistributedTrainer (N processes); batch sizes must divide by N.
    """
    rounds: int = 300
    batch_size: int = 64
    inner_steps: int = 20
    inner_optimizer: str = "adam"
    inner_lr: float = 0.1
    theta_steps: int = 20
    theta_batch: int = 256
    theta_lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: Optional[float] = 1.0
    buffer_rounds: int = 20
    trajectory_loss: str = "all"
    mode: str = "coordinate"
    probe_every: int = 0
    probe_steps: int = 10
    stop_patience: int = 0
    stop_min_delta: float = 0.0
    train_autocast: Optional[str] = None
    checkpoint_every: int = 0
    seed: int = 0
    shards: int = 1

    def __post_init__(self):
        for name in ("rounds", "batch_size", "inner_steps", "theta_steps", "theta_batch", "buffer_rounds", "shards"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                label = {"inner_steps": "T (inner_steps)", "theta_steps": "K (theta_steps)"}.get(name, name)
                raise ValueError(f"{label} must be an int >= 1, got {v!r}")
        if self.inner_optimizer not in OPTIMIZERS:
            extra = (" ('lbfgs' is a per-target solver for inference, llcore.lbfgs: θ trains on a step rule's "
                     "trajectories)") if self.inner_optimizer == "lbfgs" else ""
            raise ValueError(f"unknown inner optimizer {self.inner_optimizer!r}; choose one of {list(OPTIMIZERS)}"
                             f"{extra}")
        if not isinstance(self.stop_patience, int) or self.stop_patience < 0 or not self.stop_min_delta >= 0:
            raise ValueError(f"stop_patience must be an int >= 0 and stop_min_delta >= 0, got "
                             f"{self.stop_patience!r}, {self.stop_min_delta!r}")
        if self.train_autocast not in (None, "bf16", "fp16"):
            raise ValueError(f"train_autocast must be None, 'bf16' or 'fp16', got {self.train_autocast!r}")
        if self.stop_patience and not self.probe_every:
            raise ValueError("stop_patience needs the probe: set probe_every >= 1 (and give the Trainer probe_targets)")
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
        """(z, y) pairs one round pushes into the buffer (over all shards)."""
        return self.batch_size * (self.inner_steps + 1 if self.trajectory_loss == "all" else 1)

    @property
    def buffer_capacity(self) -> int:
        """Pairs kept, over all shards."""
        return self.buffer_rounds * self.pushes_per_round

    def shard_seed(self, shard: int) -> int:
        """The seed of shard k's random stream (shard 0: `seed` itself)."""
        return self.seed + 7919 * shard


def check_training_inputs(problem, mapping, config) -> None:
    """Clear errors before training: a TrainConfig (not a dict), an llcore Mapping, θ's output size = x's."""
    from .mapping import Mapping
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(mapping, Mapping):
        raise TypeError(f"mapping must be an llcore Mapping, got {type(mapping).__name__}")
    if mapping.dim_x != problem.dim_x:
        raise ValueError(f"mapping outputs dim_x={mapping.dim_x}, the problem's x has {problem.dim_x} elements")


# settings that may differ between a run and its resumption
RESUMABLE = frozenset({"rounds", "probe_every", "probe_steps", "checkpoint_every", "stop_patience", "stop_min_delta"})
