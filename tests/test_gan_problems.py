"""GAN-inversion forward models and their offline data (llcore/tasks/{data,gan,perceptual}.py)."""
import sys

import pytest
import torch
from torch import nn

from llcore import invert
from llcore.checkpoint import atomic_torch_save, torch_load
from llcore.tasks import data, gan, perceptual


# fixtures

@pytest.fixture(scope="module")
def face_g():
    return gan.load_face_generator()


@pytest.fixture(scope="module")
def effnet():
    return perceptual.EffNetLite0Distance()


class TinyGenerator(nn.Module):
    """z (B, 8) → (B, 1, 4, 4) in [0, 1]."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(8, 16)

    def forward(self, z):
        return torch.sigmoid(self.fc(z)).view(-1, 1, 4, 4)


class FlatGenerator(nn.Module):
    def forward(self, z):
        return z * 2.0                                          # (B, 8): not an image


def _in_unit_range(x):
    return x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1


# data

def test_mnist_digits_and_split():
    x, y = data.mnist_digits()
    assert x.shape == (5000, 1, 28, 28) and y.shape == (5000,) and y.dtype == torch.int64
    assert _in_unit_range(x) and x.max() == 1
    idx = data.mnist_split_indices(0)
    tr, ho = idx["train"], idx["held_out"]
    assert len(tr) == 4000 and len(ho) == 1000 and len(set(tr.tolist()) | set(ho.tolist())) == 5000
    assert torch.bincount(y[tr], minlength=10).tolist() == [400] * 10
    assert torch.bincount(y[ho], minlength=10).tolist() == [100] * 10
    assert torch.equal(y[ho][:20], torch.arange(20) % 10)           # prefixes are class-balanced
    split = data.mnist_split(0)
    assert torch.equal(split["held_out"][0], x[ho]) and torch.equal(split["train"][1], y[tr])
    assert torch.equal(data.mnist_split_indices(0)["train"], tr)    # deterministic
    assert not torch.equal(data.mnist_split_indices(1)["train"], tr)


def test_ood_faces_and_natural_crops():
    ood = data.mnist_ood(10, seed=0)
    assert ood.shape == (10, 1, 28, 28) and _in_unit_range(ood)
    assert torch.equal(ood, data.mnist_ood(10, seed=0)) and not torch.equal(ood, data.mnist_ood(10, seed=1))
    assert (ood.flatten(1).std(1) > 0.05).all()                     # no blank crops
    assert "LFW" in data.ood_sources() and "text" in data.ood_sources()

    faces = data.face_photos(32)
    assert faces.shape == (102, 3, 32, 32) and _in_unit_range(faces)
    assert torch.equal(faces[2:, 0], faces[2:, 1])                  # LFW rows are grey
    assert not torch.equal(faces[0, 0], faces[0, 2])                # the two photos are colour
    assert data.face_photos(64, lfw=False).shape == (2, 3, 64, 64)

    crops = data.natural_crops(64, n=7, seed=0)
    assert crops.shape == (7, 3, 64, 64) and _in_unit_range(crops)
    assert torch.equal(crops, data.natural_crops(64, n=7, seed=0))
    assert not torch.equal(crops, data.natural_crops(64, n=7, seed=1))


# generators

def test_mnist_gan_trains_and_reloads(tmp_path):
    x, _ = data.mnist_digits()
    imgs = x[::39][:128]
    a = gan.train_mnist_gan(imgs, nz=16, steps=5, batch=32, seed=0, progress=False)
    b = gan.train_mnist_gan(imgs, nz=16, steps=5, batch=32, seed=0, progress=False)
    assert len(a["losses"]) == 5 and a["seconds"] > 0
    assert all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"])   # deterministic given seed
    atomic_torch_save(tmp_path / "gan.pt", a)                       # what llcore.repro.cache.cached stores
    G = gan.mnist_generator(torch_load(tmp_path / "gan.pt"))
    out = G(torch.randn(3, 16))
    assert out.shape == (3, 1, 28, 28) and out.min() >= 0 and out.max() <= 1
    gan.MnistDiscriminator().load_state_dict(a["d_state"])
    assert gan.MnistGenerator().forward(torch.zeros(2, 64)).shape == (2, 1, 28, 28)


def test_face_generator_loads_the_wheel_weights(face_g):
    z = torch.randn(2, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = face_g(z)
    assert y.shape == (2, 3, 64, 64) and y.min() >= 0 and y.max() <= 1
    assert y.std() > 0.05 and (y[0] - y[1]).abs().mean() > 0.01      # not constant, depends on z
    assert not face_g.training


def test_frozen_generator_is_the_same_function(face_g):
    # the experiments run every DCGAN through its frozen copy (BatchNorm folded): it must compute G and its gradient
    mnist = gan.MnistGenerator().eval()
    g = torch.Generator().manual_seed(0)
    for m in mnist.modules():                          # statistics away from (0, 1), as after training
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.5, generator=g), m.running_var.uniform_(0.5, 2.0, generator=g)
            m.weight.data.normal_(1, 0.3, generator=g), m.bias.data.normal_(0, 0.3, generator=g)
    for G, nz in ((mnist, 64), (face_g, 100)):
        frozen = gan.frozen_generator(G)
        assert frozen is not G and not any(p.requires_grad for p in frozen.parameters())
        z = torch.randn(5, nz, generator=g).requires_grad_(True)
        a, b = G(z), frozen(z)
        assert a.shape == b.shape and b.is_contiguous()
        assert torch.allclose(a, b, atol=1e-5, rtol=0)
        w = torch.randn(a.shape, generator=g)
        (ga,), (gb,) = torch.autograd.grad((a * w).sum(), z), torch.autograd.grad((b * w).sum(), z)
        assert torch.allclose(ga, gb, rtol=1e-4, atol=1e-5 * float(ga.abs().max()))
    tiny = TinyGenerator()
    assert gan.frozen_generator(tiny) is tiny          # not a DCGAN: left as it is


def test_face_generator_bad_weights_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.tar"):
        gan.load_face_generator(tmp_path / "missing.tar")
    bad = tmp_path / "weights.tar"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="weights.tar.*corrupt.*gan-face-generate==1.1.1"):
        gan.load_face_generator(bad)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_custom_generator_from_torchscript_and_factory(tmp_path, monkeypatch):
    path = tmp_path / "g.pt"
    torch.jit.script(TinyGenerator()).save(str(path))
    G = gan.load_custom_generator(str(path), (8,))
    assert G(torch.zeros(2, 8)).shape == (2, 1, 4, 4)
    p = gan.gan_problem(G, 8)                                       # alive at z = 0, so x_0 = 0 is accepted
    assert p.y_shape == (1, 4, 4) and p.objective(torch.zeros(3, 8), torch.rand(3, 1, 4, 4)).shape == (3,)
    G11 = gan.load_custom_generator(path, 8, output_range="[-1,1]")
    torch.testing.assert_close(G11(torch.ones(1, 8)), (G(torch.ones(1, 8)) + 1) / 2)

    (tmp_path / "my_gens.py").write_text(
        "import torch\n"
        "from torch import nn\n"
        "def good():\n    return nn.Sequential(nn.Linear(8, 12), nn.Unflatten(1, (3, 2, 2)), nn.Sigmoid())\n"
        "def flat():\n    return nn.Linear(8, 12)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert gan.load_custom_generator("my_gens:good", (8,))(torch.zeros(1, 8)).shape == (1, 3, 2, 2)
    with pytest.raises(ValueError, match="my_gens:flat.*shape \\(1, C, H, W\\)"):
        gan.load_custom_generator("my_gens:flat", (8,))
    with pytest.raises(ImportError, match="my_gens:nope"):
        gan.load_custom_generator("my_gens:nope", (8,))
    with pytest.raises(ImportError, match="no_such_pkg.gens:make"):
        gan.load_custom_generator("no_such_pkg.gens:make", (8,))
    with pytest.raises(ValueError, match="g.pt.*forward pass"):
        gan.load_custom_generator(str(path), (5,))                  # wrong latent shape
    sys.modules.pop("my_gens", None)


def test_custom_generator_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pt.*torch.jit.trace"):
        gan.load_custom_generator(str(tmp_path / "absent.pt"), (8,))
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="corrupt.pt.*not a TorchScript"):
        gan.load_custom_generator(str(corrupt), (8,))
    state = tmp_path / "state.pt"
    torch.save(TinyGenerator().state_dict(), state)                 # a state_dict is not TorchScript
    with pytest.raises(ValueError, match="state.pt"):
        gan.load_custom_generator(str(state), (8,))


# perceptual distances

def test_effnet_distance(effnet):
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 3, 32, 32, generator=g), torch.rand(3, 3, 32, 32, generator=g)
    same = effnet(a, a.clone())
    assert same.shape == (3,) and same.abs().max() < 1e-6
    diff = effnet(a, b)
    assert diff.shape == (3,) and (diff > 0.05).all()
    assert effnet(a[:, :1], b[:, :1]).shape == (3,)                 # grey images are replicated
    assert "not LPIPS" in perceptual.EffNetLite0Distance.NAME
    effnet.train()
    assert not any(m.training for m in effnet.modules())           # stays in eval mode
    assert not any(p.requires_grad for p in effnet.parameters())


def test_lpips_without_checkpoint_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as e:
        perceptual.lpips_distance("alex")
    msg = str(e.value)
    assert "alexnet-owt-7be5be79.pth" in msg and str(tmp_path / "hub" / "checkpoints") in msg
    assert "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth" in msg


def test_lpips_loads_a_local_trunk_without_network(tmp_path, monkeypatch):
    import torchvision
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url",
                        lambda *a, **k: pytest.fail("lpips_distance tried to download"))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    features = torchvision.models.alexnet().features               # a random stand-in for the real file
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, folder / "alexnet-owt-7be5be79.pth")
    with pytest.raises(ValueError, match="sha256"):
        perceptual.lpips_distance("alex", torch_home=tmp_path)
    d = perceptual.lpips_distance("alex", torch_home=tmp_path, check_hash=False)
    torch.testing.assert_close(d.model.net.slice1._modules["0"].weight, features[0].weight)
    a, b = torch.rand(2, 3, 32, 32), torch.rand(2, 1, 32, 32)
    assert d(a, b).shape == (2,) and d(a, a).abs().max() < 1e-6


# the problem

def test_gan_problem_objective_is_differentiable(face_g, effnet):
    z_star, y = gan.sample_targets(face_g, 100, 2, seed=3)
    p = gan.gan_problem(face_g, 100, perceptual=effnet, perceptual_weight=0.1, init="normal", name="faces")
    assert p.x_shape == (100,) and p.y_shape == (3, 64, 64)
    z = p.initial_x(2, torch.Generator().manual_seed(0)).requires_grad_(True)
    value = p.objective(z, y)
    assert value.shape == (2,)
    value.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert p.objective(z_star, y).abs().max() < 1e-5                 # the true latent is a zero of the loss
    with pytest.raises(ValueError, match="perceptual"):
        gan.gan_problem(face_g, 100, perceptual=effnet, init="normal")
    with pytest.raises(ValueError, match="gradient at z = 0 is exactly zero"):
        gan.gan_problem(face_g, 100, init="zeros")                  # every first-layer ReLU is off at z = 0
    with pytest.raises(ValueError, match="init"):
        gan.gan_problem(face_g, 100, init="uniform")


def test_mnist_generator_inversion_descends():
    torch.manual_seed(0)
    G = gan.MnistGenerator(nz=16)
    p = gan.gan_problem(G, 16, init="normal")                       # an untrained G is dead at z = 0
    _, y = gan.sample_targets(G, 16, 8, seed=1)
    rec = invert(p, y, None, "adam", 0.05, 30, generator=torch.Generator().manual_seed(0))
    assert rec.loss[-1].mean() < 0.5 * rec.loss[0].mean()
