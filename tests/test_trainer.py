import subprocess
import sys
import textwrap

import pytest
import torch

from llcore import ResidualMLP, TrainConfig, Trainer, TrainingDiverged, invert, make_mapping
from llcore.metrics import speedup_at
from llcore.tasks.toy import toy_problem, toy_targets
from llcore.sweep import sweep_lr


def small_config(**kw):
    return TrainConfig(**{**dict(rounds=4, batch_size=8, inner_steps=3, theta_steps=2, theta_batch=16,
                                 buffer_rounds=2, seed=0), **kw})


def test_it_learns_a_faster_landscape():
    # < 1 min of CPU training; held-out speedup_at["10"] >= 3 against the tuned baseline
    torch.manual_seed(0)
    p = toy_problem()
    _, y_train = toy_targets(p, 4096, seed=1)
    _, y_val = toy_targets(p, 128, seed=2)
    _, y_test = toy_targets(p, 256, seed=3)
    lr, _ = sweep_lr(p, y_val, [0.01, 0.03, 0.1, 0.3], steps=200)
    theta = ResidualMLP(p.dim_x, width=256, depth=3)
    cfg = TrainConfig(rounds=150, batch_size=64, inner_steps=20, inner_lr=0.1, theta_steps=20,
                      theta_batch=256, theta_lr=2e-3, seed=0)
    Trainer(p, theta, y_train, cfg).train(progress=False)
    base = invert(p, y_test, None, "adam", lr, 200).curve()
    land = invert(p, y_test, theta, "adam", cfg.inner_lr, 200).curve()
    sa, capped = speedup_at(base, land, [10], 200)
    assert sa["10"] >= 3, (sa, lr)


def test_forward_model_is_untouched(param_problem):
    # F's parameters are bit-identical after θ training and inversion, and get no gradient
    p, y = param_problem
    before = [q.detach().clone() for q in p.forward.parameters()]
    theta = make_mapping("residual", p.dim_x, width=32)
    Trainer(p, theta, y, small_config()).train(progress=False)
    Trainer(p, make_mapping("mlp", p.dim_x, width=32), y, small_config(mode="unrolled")).train(progress=False)
    invert(p, y, theta, steps=5)
    for q, q0 in zip(p.forward.parameters(), before):
        assert torch.equal(q, q0) and q.grad is None and not q.requires_grad


RESUME_SCRIPT = textwrap.dedent("""
    import sys, torch
    from llcore import ResidualMLP, TrainConfig, Trainer
    from llcore.tasks.toy import toy_problem, toy_targets
    rounds, ckpt, out, init_seed = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_num_threads(1)   # bit-exact across processes even on a loaded machine (MKL may drop threads there)
    p = toy_problem()
    _, y = toy_targets(p, 256, seed=1)
    torch.manual_seed(init_seed)
    theta = ResidualMLP(p.dim_x, width=32)
    cfg = TrainConfig(rounds=rounds, batch_size=16, inner_steps=5, theta_steps=4, theta_batch=32,
                      buffer_rounds=3, probe_every=2, seed=7)
    Trainer(p, theta, y, cfg, probe_targets=y[:8], checkpoint_path=ckpt if ckpt != "-" else None).train(progress=False)
    torch.save(theta.state_dict(), out)
""")


def test_resume_in_a_fresh_process_gives_identical_theta(tmp_path):
    # 2N rounds straight == N rounds, then a new process resuming for N more
    script = tmp_path / "run.py"
    script.write_text(RESUME_SCRIPT)
    run = lambda *a: subprocess.run([sys.executable, str(script), *map(str, a)], check=True)
    run(6, "-", tmp_path / "straight.pt", 0)
    run(3, tmp_path / "ckpt.pt", tmp_path / "first.pt", 0)
    run(6, tmp_path / "ckpt.pt", tmp_path / "resumed.pt", 123)   # a different init: the checkpoint must win
    a, b = torch.load(tmp_path / "straight.pt"), torch.load(tmp_path / "resumed.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    c = torch.load(tmp_path / "first.pt")
    assert not all(torch.equal(a[k], c[k]) for k in a)              # and training did move θ


def test_resume_refuses_a_different_configuration(tmp_path, toy):
    p, y = toy
    Trainer(p, make_mapping("residual", 16, width=16), y, small_config(), checkpoint_path=tmp_path / "c.pt").train(progress=False)
    t = Trainer(p, make_mapping("residual", 16, width=16), y, small_config(theta_lr=0.5), checkpoint_path=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="different configuration.*theta_lr"):
        t.train(progress=False)


def test_corrupt_checkpoint_is_reported(tmp_path, toy):
    p, y = toy
    (tmp_path / "c.pt").write_bytes(b"not a checkpoint")
    t = Trainer(p, make_mapping("residual", 16, width=16), y, small_config(), checkpoint_path=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="corrupt"):
        t.train(progress=False)


def test_nan_stops_training_and_keeps_the_last_good_theta(toy):
    p, y = toy
    calls = {"n": 0}
    base_loss = p.loss

    def loss(pred, target):          # turns NaN after a few rounds of M-step updates
        calls["n"] += 1
        out = base_loss(pred, target)
        return out * float("nan") if calls["n"] > 60 else out

    p.loss = loss
    theta = make_mapping("residual", 16, width=16)
    trainer = Trainer(p, theta, y, small_config(rounds=50))
    with pytest.raises(TrainingDiverged, match="NaN"):
        trainer.train(progress=False)
    assert 0 < trainer.round < 50
    assert all(torch.isfinite(q).all() for q in theta.parameters())


def test_switches_run_and_fill_the_buffer_as_described(toy):
    p, y = toy
    t = Trainer(p, make_mapping("residual", 16, width=16), y, small_config(trajectory_loss="last", buffer_rounds=1))
    t.train(progress=False)
    assert len(t.buffer) == 8                    # only z_T of the current round's 8 rollouts
    t = Trainer(p, make_mapping("residual", 16, width=16), y, small_config())
    t.train(progress=False)
    assert len(t.buffer) == 2 * 8 * 4            # two rounds of (T+1) iterates each
    hist = Trainer(p, make_mapping("residual", 16, width=16), y, small_config(mode="unrolled")).train(progress=False)
    assert len(hist) == 4 and all("m_loss" in h for h in hist)


def test_bad_configuration_is_refused(toy):
    p, y = toy
    with pytest.raises(ValueError, match="T \\(inner_steps\\) must be"):
        TrainConfig(inner_steps=0)
    with pytest.raises(ValueError, match="K \\(theta_steps\\) must be"):
        TrainConfig(theta_steps=0)
    with pytest.raises(ValueError, match="unknown inner optimizer"):
        TrainConfig(inner_optimizer="lbfgs")
    with pytest.raises(ValueError, match="trajectory_loss"):
        TrainConfig(trajectory_loss="some")
    with pytest.raises(ValueError, match="dim_x=8"):
        Trainer(p, make_mapping("residual", 8), y, TrainConfig())
    with pytest.raises(TypeError, match="TrainConfig"):
        Trainer(p, make_mapping("residual", 16), y, {"rounds": 3})
