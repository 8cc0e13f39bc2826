import pytest
import torch
from torch import nn

from llcore import Problem
from llcore.tasks.toy import mse_loss, toy_problem, toy_targets


@pytest.fixture
def toy():
    """(problem, targets): the 16-D toy decoder and 32 held-out observations."""
    p = toy_problem()
    _, y = toy_targets(p, 32, seed=5)
    return p, y


@pytest.fixture
def param_problem():
    """A problem whose F has real nn.Parameters (the toy keeps its weights in buffers)."""
    torch.manual_seed(0)
    f = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 12))
    p = Problem(forward=f, loss=mse_loss, x_shape=(8,), y_shape=(12,), name="param")
    with torch.no_grad():
        y = f(torch.randn(64, 8))
    return p, y
