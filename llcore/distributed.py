"""Data-parallel θ training with torch.distributed: `torchrun --nproc_per_node=N your_script.py`.

With TrainConfig(shards=N), process r owns shard r (trainer.py): it rolls out its share of the E-step
targets into its own replay buffer and draws its share of every θ minibatch. After each backward the
gradients are averaged over processes (all_reduce / N, the same averaging DistributedDataParallel does),
so all processes hold one θ, equal (up to summation order) to one process owning all N shards:

    ∇θ = (1/N) Σ_r ∇θ mean_{(z,y) ∈ minibatch_r} L(F(θ(z)), y)

Backend: gloo on CPU, nccl on CUDA. Checkpoints gather every shard's buffer and RNG to rank 0, which
writes the file; each process resumes its own shard from it (with the same N).
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist

from .io import atomic_torch_save
from .trainer import Trainer


def init_process_group(backend: str | None = None) -> tuple[int, int]:
    """Join the group torchrun describes (env:// rendezvous); returns (rank, world size)."""
    if not dist.is_initialized():
        if "RANK" not in os.environ:
            raise RuntimeError("not launched by torchrun: RANK/WORLD_SIZE are unset "
                               "(run `torchrun --nproc_per_node=N script.py`)")
        dist.init_process_group(backend or ("nccl" if torch.cuda.is_available() else "gloo"))
    return dist.get_rank(), dist.get_world_size()


def average_gradients(module: torch.nn.Module) -> None:
    world = dist.get_world_size()
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world)


class DistributedTrainer(Trainer):
    """A Trainer owning shard `rank` of `world` (= config.shards) processes."""

    def __init__(self, problem, mapping, train_targets, config, **kwargs):
        rank, world = dist.get_rank(), dist.get_world_size()
        if config.shards != world:
            raise ValueError(f"config.shards={config.shards} must equal the number of processes ({world})")
        with torch.no_grad():                      # start from rank 0's θ whatever each process drew
            for p in mapping.parameters():
                dist.broadcast(p, src=0)
        super().__init__(problem, mapping, train_targets, config, owned_shards=[rank],
                         average_gradients=average_gradients, **kwargs)
        self.rank = rank

    def probe(self) -> float:
        return super().probe() if self.rank == 0 else float("nan")

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
