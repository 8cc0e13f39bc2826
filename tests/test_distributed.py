"""CPU processes under torchrun (gloo, loopback) train the same θ as one process owning every shard, also when a
checkpoint resumes in a different number of processes."""
import os
import socket
import subprocess
import sys
import textwrap

import torch

from llcore import ResidualMLP, ShardedTrainer, TrainConfig
from llcore.tasks.toy import toy_problem, toy_targets

CONFIG = dict(rounds=4, batch_size=16, inner_steps=5, theta_steps=3, theta_batch=32, buffer_rounds=2,
              seed=3, shards=2)
THREE_SHARDS = {**CONFIG, "batch_size": 12, "theta_batch": 24, "shards": 3}   # 2 processes own 2 and 1 shards

WORKER = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from llcore import ResidualMLP, TrainConfig
    from llcore.distributed import DistributedTrainer, process_group
    from llcore.tasks.toy import toy_problem, toy_targets
    with process_group("gloo") as (rank, world):
        p = toy_problem()
        _, y = toy_targets(p, 512, seed=1)
        torch.manual_seed(100 + rank)             # different draws per process: rank 0's θ must win
        theta = ResidualMLP(p.dim_x, width=32)
        if rank == 0:
            torch.manual_seed(0); theta = ResidualMLP(p.dim_x, width=32)
        t = DistributedTrainer(p, theta, y, TrainConfig(**CONFIG), checkpoint_path=sys.argv[2])
        t.train(progress=False)
        if rank == 0:
            torch.save(theta.state_dict(), sys.argv[1])
""").replace("TrainConfig(**CONFIG)", f"TrainConfig(**{CONFIG!r})")


RESUME_WORKER = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from llcore import ResidualMLP, TrainConfig
    from llcore.distributed import DistributedTrainer, process_group
    from llcore.tasks.toy import toy_problem, toy_targets
    with process_group("gloo") as (rank, world):
        p = toy_problem()
        _, y = toy_targets(p, 512, seed=1)
        torch.manual_seed(0)
        theta = ResidualMLP(p.dim_x, width=32)
        config = TrainConfig(**{**THREE_SHARDS, "rounds": int(sys.argv[2])})
        DistributedTrainer(p, theta, y, config, checkpoint_path=sys.argv[1]).train(progress=False)
        if rank == 0:
            torch.save(theta.state_dict(), sys.argv[3])
""").replace("**THREE_SHARDS", f"**{THREE_SHARDS!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(script, nproc: int, *args) -> None:
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc_per_node={nproc}",
                    "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(script), *map(str, args)],
                   check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)


def one_process_theta(config: dict) -> dict:
    """θ trained by one ShardedTrainer owning every shard."""
    p = toy_problem()
    _, y = toy_targets(p, 512, seed=1)
    torch.manual_seed(0)
    theta = ResidualMLP(p.dim_x, width=32)
    ShardedTrainer(p, theta, y, TrainConfig(**config)).train(progress=False)
    return theta.state_dict()


def test_two_processes_match_one(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    torchrun(script, 2, tmp_path / "ddp.pt", tmp_path / "ckpt.pt")
    ddp = torch.load(tmp_path / "ddp.pt")
    for k, v in one_process_theta(CONFIG).items():
        assert torch.allclose(ddp[k], v, atol=1e-5, rtol=0), k
    ckpt = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert sorted(ckpt["buffers"]) == [0, 1] and ckpt["round"] == 4     # rank 0 wrote every shard


def test_a_checkpoint_resumes_in_a_different_number_of_processes(tmp_path):
    script, ckpt, out = tmp_path / "resume.py", tmp_path / "ckpt.pt", tmp_path / "theta.pt"
    script.write_text(RESUME_WORKER)
    for nproc, rounds in ((2, 2), (1, 3)):      # 2 processes (shards {0, 2} and {1}), then 1 owning all 3
        torchrun(script, nproc, ckpt, rounds, out)
        assert torch.load(ckpt, weights_only=True)["round"] == rounds
    resumed = torch.load(out)
    for k, v in one_process_theta({**THREE_SHARDS, "rounds": 3}).items():
        assert torch.allclose(resumed[k], v, atol=1e-5, rtol=0), k
