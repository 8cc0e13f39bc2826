"""Data-parallel θ training with torch.distributed: `torchrun --nproc_per_node=M your_script.py`.

TrainConfig(shards=N) splits the data into N shards (shards.py), each with its own targets, random stream
and replay buffer; N fixes the result, M ≤ N processes compute it. Process r owns the shards k with
k mod M = r (round-robin; with M = N, shard r alone): it rolls out their share of the E-step targets into
their buffers and draws their share of every θ minibatch. After each backward every process scales its
gradient by its share of the shards, n_r / N, and the gradients are summed over processes (all_reduce),
so all processes hold one θ, equal (up to summation order) to one process owning all N shards:

    ∇θ = Σ_r (n_r / N) ∇θ mean_{(z,y) ∈ minibatch_r} L(F(θ(z)), y)      (= (1/M) Σ_r ... when n_r = N / M)

Backend: gloo on CPU, nccl on CUDA. Checkpoints gather every shard's buffer and RNG to rank 0, which
writes the file; the processes of the resumed run take their shards from it, so a checkpoint written by
M processes resumes in any number of processes up to N (e.g. 2 → 1 → 2), or in one ShardedTrainer.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import torch
import torch.distributed as dist

from .checkpoint import atomic_torch_save
from .shards import ShardedTrainer


def init_process_group(backend: str | None = None) -> tuple[int, int]:
    """Join the group torchrun describes (env:// rendezvous); returns (rank, world size)."""
    if not dist.is_initialized():
        if "RANK" not in os.environ:
            raise RuntimeError("not launched by torchrun: RANK/WORLD_SIZE are unset "
                               "(run `torchrun --nproc_per_node=N script.py`)")
        dist.init_process_group(backend or ("nccl" if torch.cuda.is_available() else "gloo"))
    return dist.get_rank(), dist.get_world_size()


@contextmanager
def process_group(backend: str | None = None):
    """`with process_group() as (rank, world): ...`: init_process_group, then, once every process is done, a
    barrier and destroy_process_group. A process that leaves while another still talks to it (rank 0 writing θ
    after training, say) otherwise tears the group down under it: gloo aborts the other process
    ("terminate called without an active exception")."""
    rank, world = init_process_group(backend)
    try:
        yield rank, world
        dist.barrier()
    finally:
        dist.destroy_process_group()


def shards_of(rank: int, world: int, shards: int) -> list[int]:
    """The shards process `rank` of `world` owns: round-robin, k mod world = rank."""
    return list(range(rank, shards, world))


def average_gradients(module: torch.nn.Module, weight: float | None = None) -> None:
    """Replace each gradient by Σ over processes of weight × gradient; weight defaults to 1 / world size."""
    weight = 1.0 / dist.get_world_size() if weight is None else weight
    for p in module.parameters():
        if p.grad is not None:
            p.grad.mul_(weight)
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)


class DistributedTrainer(ShardedTrainer):
    """A ShardedTrainer owning the shards shards_of(rank, world, config.shards); needs config.shards ≥ world.
    Only rank 0 runs the held-out probe and writes checkpoints."""

    def __init__(self, problem, mapping, train_targets, config, **kwargs):
        rank, world = dist.get_rank(), dist.get_world_size()
        if config.shards < world:
            raise ValueError(f"config.shards={config.shards} is less than the number of processes ({world}): "
                             f"every process needs a shard. Use at most {config.shards} processes, or more shards "
                             f"(shards fix the result, so pick the most processes you will ever use).")
        with torch.no_grad():                      # start from rank 0's θ whatever each process drew
            for p in mapping.parameters():
                dist.broadcast(p, src=0)
        owned = shards_of(rank, world, config.shards)
        if rank != 0:
            kwargs.pop("probe_targets", None)
        super().__init__(problem, mapping, train_targets, config, owned_shards=owned, **kwargs)
        self.rank, self.weight = rank, len(owned) / config.shards

    def reduce_gradients(self) -> None:
        average_gradients(self.mapping, weight=self.weight)

    def state_dict(self) -> dict:
        state = super().state_dict()
        for key in ("buffers", "generators"):
            parts = [None] * dist.get_world_size()
            dist.all_gather_object(parts, state[key])
            state[key] = {k: v for part in parts for k, v in part.items()}
        return state

    def save_checkpoint(self, path):
        state = self.state_dict()                  # every process takes part in the gather
        if self.rank == 0:
            atomic_torch_save(path, state)
        dist.barrier()
        return path
