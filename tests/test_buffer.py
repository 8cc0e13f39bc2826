import pytest
import torch

from llcore import ReplayBuffer


def rows(a, b):
    return torch.arange(a, b, dtype=torch.float32)[:, None].repeat(1, 3)


def test_capacity_and_fifo_eviction():
    buf = ReplayBuffer(10)
    buf.push(z=rows(0, 6), y_index=torch.arange(6))
    assert len(buf) == 6
    buf.push(z=rows(6, 13), y_index=torch.arange(6, 13))
    assert len(buf) == 10 and buf.pushed == 13
    kept = sorted(buf.storage["z"][:, 0].tolist())
    assert kept == list(range(3, 13))                     # the three oldest rows went first
    buf.push(z=rows(13, 40), y_index=torch.arange(13, 40))  # more than capacity at once
    assert sorted(buf.storage["z"][:, 0].tolist()) == list(range(30, 40))
    assert torch.equal(buf.storage["z"][:, 0].long(), buf.storage["y_index"])  # fields stay aligned


def test_sampling_is_uniform():
    # chi-square goodness of fit over 20 stored rows, 20000 draws: df = 19, P(chi2 > 43.8) = 0.001
    buf = ReplayBuffer(20)
    buf.push(z=rows(0, 25))
    counts = torch.bincount(buf.sample(20000, torch.Generator().manual_seed(0))["z"][:, 0].long() - 5,
                            minlength=20).double()
    chi2 = ((counts - 1000) ** 2 / 1000).sum()
    assert counts.numel() == 20 and chi2 < 43.8


def test_state_round_trip_samples_identically():
    a = ReplayBuffer(16)
    a.push(z=rows(0, 11), y_index=torch.arange(11))
    b = ReplayBuffer(16)
    b.load_state_dict(a.state_dict())
    for buf in (a, b):
        buf.push(z=rows(11, 20), y_index=torch.arange(11, 20))
    ga, gb = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    sa, sb = a.sample(50, ga), b.sample(50, gb)
    assert torch.equal(sa["z"], sb["z"]) and torch.equal(sa["y_index"], sb["y_index"])
    assert (len(a), a.next, a.pushed) == (len(b), b.next, b.pushed)
    assert a.memory_bytes == 16 * 3 * 4 + 16 * 8


def test_bad_use_is_refused():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0)
    buf = ReplayBuffer(4)
    with pytest.raises(RuntimeError, match="empty"):
        buf.sample(1, torch.Generator())
    buf.push(z=rows(0, 2))
    with pytest.raises(ValueError, match="row shape"):
        buf.push(z=torch.zeros(2, 5))
    with pytest.raises(ValueError, match="differ"):
        buf.push(w=torch.zeros(2, 3))
