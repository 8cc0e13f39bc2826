"""Data-parallel shards of θ's training in one process (distributed.py runs them across processes).

With TrainConfig(shards=N) the global E-step batch, the replay buffer and every θ minibatch are split into N
shards, each with its own random stream (seed + 7919·k) and its own buffer; a θ update descends the mean loss
over all shards' samples. N fixes the result: one process owning all N shards and M ≤ N processes sharing
them round-robin compute the same θ, and a checkpoint (which holds every shard) resumes with any M.
"""
from __future__ import annotations

from typing import Optional

import torch

from .buffer import ReplayBuffer
from .trainer import Trainer


class ShardedTrainer(Trainer):
    """A Trainer whose E-step and minibatches are split into config.shards shards; `owned_shards` (default:
    all) are the ones this process rolls out and samples (see distributed.py)."""

    def __init__(self, *args, owned_shards: Optional[list] = None, **kwargs):
        self._owned = owned_shards
        super().__init__(*args, **kwargs)

    def _init_streams(self) -> None:
        cfg = self.config
        self.owned = list(range(cfg.shards)) if self._owned is None else list(self._owned)
        if not self.owned or any(not 0 <= k < cfg.shards for k in self.owned):
            raise ValueError(f"owned_shards must be a non-empty subset of range({cfg.shards}), got {self._owned}")
        self._streams = {k: (torch.Generator().manual_seed(cfg.shard_seed(k)),
                             ReplayBuffer(cfg.buffer_capacity // cfg.shards)) for k in self.owned}

    def streams(self) -> dict[int, tuple[torch.Generator, ReplayBuffer]]:
        return self._streams

    @property
    def buffer(self) -> ReplayBuffer:
        """The buffer of the first owned shard."""
        return self._streams[self.owned[0]][1]
