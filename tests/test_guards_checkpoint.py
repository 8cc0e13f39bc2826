"""save_theta takes llcore Mappings only, and says what to do with any other module."""
import pytest
import torch

from llcore import make_mapping, save_theta


def test_save_theta_refuses_a_plain_torch_module(tmp_path):
    with pytest.raises(TypeError, match=r"llcore Mapping.*torch\.save\(module\.state_dict\(\)"):
        save_theta(torch.nn.Linear(3, 3), tmp_path / "theta.pt")
    assert not any(tmp_path.iterdir())                          # nothing was written


def test_save_theta_still_saves_a_mapping(tmp_path):
    assert save_theta(make_mapping("identity", 3), tmp_path / "theta.pt").is_file()
