"""Problem(autocast=...): F runs in low precision, everything the optimizer sees stays float32 (CPU, bf16)."""
import pytest
import torch
from torch import nn

from llcore import Problem, invert


def problem(autocast=None):
    """F: (B, 8) → (B, 16), a tiny MLP; seen[-1] is the dtype of its hidden activation on the last call."""
    torch.manual_seed(0)
    F = nn.Sequential(nn.Linear(8, 64), nn.Tanh(), nn.Linear(64, 16))
    seen = []
    F[1].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].dtype))
    p = Problem(forward=F, loss=lambda pred, y: (pred - y).pow(2).mean(1), x_shape=(8,), y_shape=(16,),
                autocast=autocast)
    return p, seen


def test_bf16_runs_F_in_bfloat16_and_keeps_loss_and_gradients_float32():
    full, seen_full = problem()
    half, seen_half = problem("bf16")
    with torch.no_grad():
        y = full.forward(torch.randn(32, 8, generator=torch.Generator().manual_seed(1)))
    x = torch.randn(32, 8, generator=torch.Generator().manual_seed(2), requires_grad=True)
    reference = full.objective(x, y)
    value = half.objective(x, y)
    assert seen_full[-1] == torch.float32 and seen_half[-1] == torch.bfloat16
    assert value.dtype == torch.float32 and torch.autograd.grad(value.sum(), x)[0].dtype == torch.float32
    assert torch.allclose(value, reference, rtol=5e-2, atol=1e-3)              # bf16: ~3 significant digits
    record = invert(half, y, None, "adam", lr=0.05, steps=100)
    curve = record.curve()
    assert record.x.dtype == torch.float32 and curve[-1] < 0.2 * curve[0]


def test_an_unknown_autocast_or_fp16_off_cuda_is_refused():
    with pytest.raises(ValueError, match="autocast must be None, 'bf16' or 'fp16', got 'fp32'"):
        problem("fp32")
    fp16, _ = problem("fp16")
    with pytest.raises(ValueError, match="'fp16' needs CUDA"):
        fp16.objective(torch.zeros(2, 8), torch.zeros(2, 16))
