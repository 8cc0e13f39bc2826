"""Notebook 02 at paper scale without the real files: RobustBench's WideResNets built here and loaded from its file
layout, the base method's settings in the paper profile, the SimCLR views and head, the reversal's bound, the
adaptive evaluation, the runner's asset check, and the whole paper path at smoke size on synthetic files."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from llcore.repro import assets, runner
from llcore.repro.results import validate_metrics
from llcore.repro.synthetic import SMALL, STEM, paper_smoke_files, paper_smoke_parameters, save_checkpoint, write_cifar
from llcore.tasks.attacks import apgd, apgd_eot
from llcore.tasks.cifar import load_cifar10, load_robustbench, robustbench_path
from llcore.tasks.defense import DefendedClassifier, adaptive_accuracy, reversal_problem, uniform_start
from llcore.tasks.ssl import SimCLRAugment, SSLHead, SSLLoss
from llcore.tasks.wideresnet import ROBUSTBENCH_CIFAR10_LINF, WideResNet

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("Standard", "Carmon2019Unlabeled", "Zhang2019Theoretically")


# loaders


@pytest.mark.parametrize("name,wrap", [("Carmon2019Unlabeled", True), ("Standard", False)])
def test_robustbench_checkpoint_loads_from_its_layout(tmp_path, name, wrap):
    torch.manual_seed(0)
    ref = WideResNet(**{**ROBUSTBENCH_CIFAR10_LINF[name], **SMALL}).eval()
    for m in ref.modules():                                    # non-trivial BatchNorm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1), m.running_var.uniform_(0.5, 1.5)
    path = save_checkpoint(tmp_path, name, ref, wrap)
    assert path == tmp_path / "cifar10" / "Linf" / f"{name}.pt"
    model = load_robustbench(name, tmp_path, SMALL)
    x = torch.rand(5, 3, 32, 32)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model(x).shape == (5, 10) and model.features(x).shape == (5, 64)
    assert torch.allclose(model(x), ref(x), atol=1e-5)


def test_robustbench_architectures_are_the_model_zoo_ones():
    """Standard and Carmon2019Unlabeled are WRN-28-10, Zhang2019Theoretically (TRADES) WRN-34-10: 640 features,
    36.5M / 46.2M parameters (the released checkpoints' sizes; sub_block1 only adds unused keys)."""
    sizes = {}
    for name, cfg in ROBUSTBENCH_CIFAR10_LINF.items():
        m = WideResNet(**cfg)
        used = sum(p.numel() for n, p in m.named_parameters() if not n.startswith("sub_block1"))
        sizes[name] = (m.name, m.feature_dim, round(used / 1e6, 1), any(k.startswith("sub_block1") for k in m.state_dict()))
    assert sizes == {"Standard": ("WRN-28-10", 640, 36.5, False), "Carmon2019Unlabeled": ("WRN-28-10", 640, 36.5, True),
                     "Zhang2019Theoretically": ("WRN-34-10", 640, 46.2, True)}


def test_robustbench_missing_corrupt_or_mismatched_files_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        load_robustbench("Standard", tmp_path)
    assert str(tmp_path / "cifar10" / "Linf" / "Standard.pt") in str(e.value) and "load_model" in str(e.value)
    path = save_checkpoint(tmp_path, "Standard", WideResNet(**SMALL))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt"):
        load_robustbench("Standard", tmp_path, SMALL)
    save_checkpoint(tmp_path, "Standard", WideResNet(**SMALL))
    with pytest.raises(ValueError, match="does not fit WRN-28-10"):
        load_robustbench("Standard", tmp_path)
    with pytest.raises(ValueError, match="not built by this repository"):
        load_robustbench("Gowal2020Uncovering", tmp_path)


def test_cifar_folder_layout_shapes_and_range(tmp_path):
    write_cifar(tmp_path, n_train=4, n_test=6)
    (xtr, ytr), (xte, yte) = load_cifar10(tmp_path / "cifar-10-batches-py")
    assert xtr.shape == (20, 3, 32, 32) and xte.shape == (6, 3, 32, 32) and ytr.dtype == torch.int64
    assert xtr.min() >= 0 and xtr.max() <= 1 and xtr.max() > 0.9          # uint8 / 255, nothing else


# the base method's pieces


def test_models_see_01_images_and_nothing_normalizes():
    """The WRN's first layer gets the [0, 1] image itself; through the reversal defense every input to it stays in
    [0, 1] (views, purified images): no mean / std normalization anywhere outside the model."""
    torch.manual_seed(0)
    model = WideResNet(**SMALL).eval().requires_grad_(False)
    seen = []
    model.conv1.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].detach().clone()))
    x = torch.rand(4, 3, 32, 32)
    model(x)
    assert torch.equal(seen[0], x)
    loss = SSLLoss(model, SSLHead(64, 32, 16, batchnorm=True).eval(), SimCLRAugment(views=4, seed=1), negatives="batch")
    DefendedClassifier(model, loss, None, lr=2 / 255, steps=2, eps_r=16 / 255, random_start=True, eot=1)(x)
    assert len(seen) > 3 and all(s.min() >= 0 and s.max() <= 1 for s in seen)


def test_ssl_head_and_simclr_views_shapes():
    head = SSLHead(640, 256, 16, batchnorm=True).eval()
    e = head(torch.randn(6, 640))
    assert e.shape == (6, 16) and torch.allclose(e.norm(dim=1), torch.ones(6), atol=1e-5)
    assert [type(m).__name__ for m in head.net] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    aug = SimCLRAugment(views=4, seed=3)
    x = torch.rand(3, 3, 32, 32, requires_grad=True)
    v = aug(x)
    assert v.shape == (12, 3, 32, 32) and v.min() >= 0 and v.max() <= 1
    v.sum().backward()
    assert x.grad.abs().sum() > 0                                   # the reversal's gradient flows through the views
    aug.seed(3)
    assert torch.equal(aug(x.detach()), v.detach())                 # seeded
    grey = SimCLRAugment(views=2, grey=1.0, seed=0)(torch.rand(2, 3, 8, 8))
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])


def test_reversal_respects_eps_r():
    eps_r = 16 / 255
    torch.manual_seed(0)
    model = WideResNet(**SMALL).eval().requires_grad_(False)
    loss = SSLLoss(model, SSLHead(64, 32, 16, batchnorm=True).eval(), SimCLRAugment(views=4, seed=1), negatives="batch")
    x = torch.rand(4, 3, 32, 32)
    r0 = uniform_start(eps_r, 5)(0, x)
    assert r0.abs().max() <= eps_r and r0.abs().max() > eps_r / 2 and torch.equal(r0, uniform_start(eps_r, 5)(0, x))
    from llcore import invert
    rec = invert(reversal_problem(loss, eps_r, (3, 32, 32)), x, None, "sign", 2 / 255, 12, x0=r0)
    assert rec.x.abs().max() <= eps_r + 1e-6
    defense = DefendedClassifier(model, loss, None, lr=4 / 255, steps=12, eps_r=eps_r, random_start=True, eot=1)
    r = defense.reversal(x)
    assert r.abs().max() <= eps_r + 1e-6 and r.abs().max() > 0


# the adaptive evaluation


class _Linear3(nn.Module):
    """3 logits of 16-pixel images: ±4·(u + 10 v)·(x − 0.5) and a constant −5 (DLR needs 3 classes)."""

    def __init__(self, u, v):
        super().__init__()
        self.register_buffer("w", u + 10 * v)

    def forward(self, x):
        t = 4 * (x.flatten(1) - 0.5) @ self.w
        return torch.stack([t, -t, torch.full_like(t, -5.0)], 1)


class _OffManifold(nn.Module):
    """A label-free loss per image: 5·((x − 0.5)·v)², the squared distance from the clean images' line."""

    def __init__(self, v):
        super().__init__()
        self.register_buffer("v", v)

    def forward(self, x):
        return 5 * ((x.flatten(1) - 0.5) @ self.v) ** 2


def test_adaptive_attack_breaks_a_defense_that_static_attacks_do_not():
    """Clean images lie on a line (direction u); the classifier is most sensitive off it (v), so a static attack on the
    classifier moves along sign(v), which one reversal step removes exactly: 100% under the static attack. APGD through
    the defense (BPDA straight-through on the sign step) finds the on-line direction and breaks it."""
    u, v = torch.full((16,), 0.25), torch.tensor([0.25, -0.25] * 8)
    a = torch.where(torch.arange(8) % 2 == 0, 0.25, -0.25)
    x, y = (0.5 + a[:, None] * u).reshape(8, 1, 4, 4), torch.arange(8) % 2
    f = _Linear3(u, v)

    def defense():
        return DefendedClassifier(f, _OffManifold(v), None, lr=0.1, eot=1, steps=1, eps_r=0.1)

    static_examples = apgd(f, x, y, eps=0.1, steps=10, loss="ce", n_classes=3)           # ART, on f alone
    assert (f(static_examples).argmax(1) != y).all()
    static = adaptive_accuracy({}, defense(), x, y, eps=0.1, steps=10, static=static_examples)
    assert (defense()(x).argmax(1) == y).all() and static["robust_accuracy"] == 1.0   # all reversed
    adaptive = adaptive_accuracy({"straight_through": defense()}, defense(), x, y, eps=0.1, steps=10, eot=2,
                                 static=static_examples)
    assert list(adaptive["per_attack"]) == ["clean", "static", "apgd_ce/straight_through", "apgd_dlr/straight_through"]
    assert adaptive["per_attack"]["static"] == 1.0 and adaptive["per_attack"]["apgd_dlr/straight_through"] <= 0.25
    assert adaptive["robust_accuracy"] <= 0.25 and len(adaptive["correct"]) == 8


def test_apgd_eot_stays_in_the_ball_is_seeded_and_beats_no_attack():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 10)).eval().requires_grad_(False)
    x, y = torch.rand(12, 3, 4, 4), torch.arange(12) % 10
    for loss in ("ce", "dlr"):
        a = apgd_eot(model, x, y, eps=0.05, steps=8, loss=loss, seed=1, batch=5)
        assert a.shape == x.shape and (a - x).abs().max() <= 0.05 + 1e-6 and a.min() >= 0 and a.max() <= 1
        assert torch.equal(a, apgd_eot(model, x, y, eps=0.05, steps=8, loss=loss, seed=1, batch=5))
        ce = lambda v: nn.functional.cross_entropy(model(v), y, reduction="none")       # noqa: E731
        assert (ce(a) >= ce(x) - 1e-6).float().mean() > 0.9


# the paper profile and the runner


def test_paper_profile_has_the_base_methods_settings():
    p = yaml.safe_load((ROOT / "notebooks/params/paper" / f"{STEM}.yaml").read_text())
    assert p["data"] == "cifar10" and p["backbones"] == [f"robustbench:{m}" for m in MODELS]
    assert p["robustbench_dir"] == "$LLCORE_ASSETS/robustbench" and p["cifar_dir"] == "$LLCORE_ASSETS/cifar10"
    close = lambda a, b: abs(a - b) < 1e-9                      # noqa: E731
    assert close(p["eps"], 8 / 255) and close(p["attack_step"], 2 / 255) and p["attack_steps"] == 10
    assert close(p["eps_r"], 16 / 255) and [close(v, 2 / 255) for v in p["lr_grid"]] == [True]
    assert p["budget"] == 40 and p["reversal_start"] == "random"
    ssl = p["ssl"]
    assert ssl["head"] == {"width": 256, "out": 16, "batchnorm": True} and ssl["views"] == 4 and ssl["tau"] == 0.2
    assert ssl["augment"] == "simclr" and ssl["negatives"] == "batch"
    aug = SimCLRAugment()
    assert (aug.jitter, aug.grey, aug.views) == ((0.8, 0.8, 0.8, 0.2), 0.2, 4)
    assert WideResNet(**ROBUSTBENCH_CIFAR10_LINF["Standard"]).feature_dim == 640       # 640 → 256 → 16
    ae = p["adaptive_eval"]
    assert ae["eot"] == 20 and ae["losses"] == ["ce", "dlr"] and ae["bpda"] == ["straight_through"]
    assert ae["backbones"] == p["backbones"]


def test_paper_run_without_files_stops_before_anything_runs(tmp_path, monkeypatch, capsys):
    """`./run_all.sh --profile paper --only 02` with no CIFAR-10 and no RobustBench files: exit 2 before any notebook
    runs, one list of each missing file, its expected path and how to get it."""
    monkeypatch.setenv("LLCORE_ASSETS", str(tmp_path / "assets"))
    monkeypatch.setattr(runner, "execute_all", lambda *a, **k: pytest.fail("a notebook was run"))
    assert runner.main(["--profile", "paper", "--only", "02"]) == 2
    err = capsys.readouterr().err
    assert "no notebook was run" in err
    assert str(tmp_path / "assets" / "cifar10" / "cifar-10-batches-py" / "test_batch") in err
    for m in MODELS:
        assert str(tmp_path / "assets" / "robustbench" / "cifar10" / "Linf" / f"{m}.pt") in err
    assert err.count("load_model(model_name=") == 3 and "cifar-10-python.tar.gz" in err


def test_paper_path_end_to_end_on_synthetic_files(tmp_path, monkeypatch):
    """The whole notebook on the paper path (CIFAR-format folder, RobustBench layout) at smoke size: the runner's
    asset check passes, it runs, and its metrics.json follows the results contract."""
    monkeypatch.setenv("LLCORE_CACHE", str(tmp_path / "cache"))
    cifar_root, model_dir = paper_smoke_files(tmp_path)
    params = paper_smoke_parameters(cifar_root, model_dir, tmp_path / "out")
    nb = ROOT / "notebooks" / f"{STEM}.ipynb"
    runner.validate([k for k in params if k != "profile"], runner.declared_parameters(nb), nb, "test")
    assert assets.missing([(STEM, "test", params)]) == []
    result = runner.execute_run(runner.Run(nb, None, params), tmp_path / "runs", ROOT / "notebooks")
    assert result.status == "ok", f"{result.failed_cell}: {result.error}"
    m = validate_metrics(json.loads((tmp_path / "out" / "metrics.json").read_text()))
    s = m["splits"]["robustbench_standard"]
    assert s["metric"] == "robust_accuracy" and s["higher_is_better"] is True
    assert {"baseline", "landscape", "no_defense"} <= set(s["clean_accuracy"]) and s["reversal"]["baseline_start"] == "random"
    assert "WRN-10-1" in m["data"]
    a = m["adaptive_attack"]["robustbench_standard"]
    for meth in ("landscape", "baseline"):
        r = a["methods"][meth]
        assert 0 <= r["robust_accuracy"] <= 1 and 0 <= r["static_pgd_same_images"] <= 1
        assert list(r["per_attack"]) == ["clean", "static", "apgd_ce/straight_through", "apgd_dlr/straight_through"]
        assert r["robust_accuracy"] <= min(r["per_attack"].values()) + 1e-9
    assert a["methods"]["baseline"]["defense_steps"] == params["budget"] and a["eot"] == params["adaptive_eval"]["eot"]
    assert a["seeds"] == m["seeds"][:params["adaptive_eval"]["seeds"]]
