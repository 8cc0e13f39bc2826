"""llcore.repro.builders: the 01 / 03 problems rebuilt in one call (tiny sizes, a temporary cache)."""
import pytest
import torch

from llcore.repro.builders import make_setup, training_work


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LLCORE_CACHE", str(tmp_path))


def check_setup(s, n_val, n_test):
    p = s.problem
    assert s.y_val.shape == (n_val, *p.y_shape) and s.y_train.shape[1:] == p.y_shape
    y0, y0_again, y1 = s.test_targets(0), s.test_targets(0), s.test_targets(1)
    assert y0.shape == (n_test, *p.y_shape)
    assert torch.equal(y0, y0_again) and not torch.equal(y0, y1), "test targets: fixed per seed, new per seed"
    x0 = p.initial_x(n_test, torch.Generator().manual_seed(0)).reshape(n_test, -1)
    for dim_z in (s.dim_x // 2, s.dim_x, 4 * s.dim_x):              # θ starts at the problem's x_0, any dim Z
        theta = s.theta(16, 2, dim_z)
        assert theta.dim_z == dim_z
        torch.testing.assert_close(theta(theta.initial_z(x0)), x0)
    r0, r0_again = s.random_theta(16, 2, 0), s.random_theta(16, 2, 0)
    z = torch.randn(3, s.dim_x)
    assert torch.equal(r0(z), r0_again(z)), "random θ is seeded"
    for label, start in s.start_candidates.items():
        if start is not None:
            assert start(0, y0).shape == (n_test, s.dim_x), label
    assert s.which in ("metric", "loss")


def test_pose_setup():
    s = make_setup("pose", n_train=32, n_val=4, n_test=5)
    check_setup(s, 4, 5)
    assert s.problem.x_shape == (72,) and s.metric == "objective"
    x = s.problem.initial_x(5, torch.Generator())
    assert s.final_measures(0, x)["mpjpe_mm"] > 0


def test_gan_setup():
    s = make_setup("gan", gan_steps=2, n_val=4, n_test=5, log=lambda msg: None)
    check_setup(s, 4, 5)
    assert s.problem.x_shape == (64,) and s.metric == "mse" and s.y_train.shape == (4000, 1, 28, 28)


def test_training_work_trains_the_asked_rounds():
    work = training_work("pose", {"n_train": 32, "n_val": 4, "n_test": 4}, {"width": 16, "depth": 2},
                         {"rounds": 2, "batch_size": 4, "inner_steps": 2, "theta_steps": 2, "theta_batch": 8})
    assert [h["round"] for h in work()] == [1, 2]


def test_unknown_problem():
    with pytest.raises(ValueError, match="unknown problem"):
        make_setup("faces")
