"""Two CPU processes under torchrun (gloo, loopback) train the same θ as one process owning both shards."""
import os
import socket
import subprocess
import sys
import textwrap

import torch

from llcore import ResidualMLP, TrainConfig, Trainer
from llcore.problems.toy import toy_problem, toy_targets

CONFIG = dict(rounds=4, batch_size=16, inner_steps=5, theta_steps=3, theta_batch=32, buffer_rounds=2,
              seed=3, shards=2)

WORKER = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    from llcore import ResidualMLP, TrainConfig
    from llcore.distributed import DistributedTrainer, init_process_group
    from llcore.problems.toy import toy_problem, toy_targets
    rank, world = init_process_group("gloo")
    p = toy_problem()
    _, y = toy_targets(p, 512, seed=1)
    torch.manual_seed(100 + rank)                 # different draws per process: rank 0's θ must win
    theta = ResidualMLP(p.dim_x, width=32)
    if rank == 0:
        torch.manual_seed(0); theta = ResidualMLP(p.dim_x, width=32)
    t = DistributedTrainer(p, theta, y, TrainConfig(**CONFIG), checkpoint_path=sys.argv[2])
    t.train(progress=False)
    if rank == 0:
        torch.save(theta.state_dict(), sys.argv[1])
""").replace("TrainConfig(**CONFIG)", f"TrainConfig(**{CONFIG!r})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
                    "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(script),
                    str(tmp_path / "ddp.pt"), str(tmp_path / "ckpt.pt")], check=True, env=env, timeout=300)
    p = toy_problem()
    _, y = toy_targets(p, 512, seed=1)
    torch.manual_seed(0)
    theta = ResidualMLP(p.dim_x, width=32)
    Trainer(p, theta, y, TrainConfig(**CONFIG)).train(progress=False)
    ddp = torch.load(tmp_path / "ddp.pt")
    for k, v in theta.state_dict().items():
        assert torch.allclose(ddp[k], v, atol=1e-5, rtol=0), k
    ckpt = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert sorted(ckpt["buffers"]) == [0, 1] and ckpt["round"] == 4     # rank 0 wrote every shard
