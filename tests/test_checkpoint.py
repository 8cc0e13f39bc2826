"""A trained θ saved with save_theta comes back from load_theta, in a fresh process, with identical outputs."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from llcore import TrainConfig, Trainer, load_theta, make_mapping, save_theta

ROOT = Path(__file__).resolve().parents[1]

LOAD = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)        # the same kernels as the parent's reference, whatever the machine's load
    from llcore import load_theta
    theta = load_theta(sys.argv[1])
    torch.save(theta(torch.load(sys.argv[2])), sys.argv[3])
""")


@pytest.mark.parametrize("name,kwargs", [("residual", dict(dim_z=6, width=32, depth=2, bound=2.0)),
                                          ("mlp", dict(width=16, depth=3, norm=False)),
                                          ("identity", dict())])
def test_load_theta_in_a_fresh_process_gives_identical_outputs(tmp_path, toy, name, kwargs):
    p, y = toy
    torch.manual_seed(0)
    theta = make_mapping(name, p.dim_x, **kwargs)
    if name == "residual":
        Trainer(p, theta, y, TrainConfig(rounds=3, batch_size=8, inner_steps=3, theta_steps=2, theta_batch=16)
                ).train(progress=False)
    z = torch.randn(5, theta.dim_z)
    torch.save(z, tmp_path / "z.pt")
    save_theta(theta, tmp_path / "theta.pt", note="test")
    (tmp_path / "load.py").write_text(LOAD)
    subprocess.run([sys.executable, str(tmp_path / "load.py"), str(tmp_path / "theta.pt"), str(tmp_path / "z.pt"),
                    str(tmp_path / "x.pt")], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            assert torch.equal(torch.load(tmp_path / "x.pt"), theta.eval()(z))
    finally:
        torch.set_num_threads(threads)


def test_load_theta_refuses_what_save_theta_did_not_write(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a θ written by"):
        load_theta(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="saved θ not found"):
        load_theta(tmp_path / "missing.pt")
