"""The adversarial-defense pieces: backbones' files, the SSL loss, the reversal problem, attacks, CIFAR loading."""
import pickle

import numpy as np
import pytest
import torch

from llcore import ResidualMLP, invert
from llcore.tasks.attacks import pgd_linf
from llcore.tasks.cifar import load_cifar10
from llcore.tasks.classifiers import SmallCNN, load_classifier, train_classifier
from llcore.tasks.defense import DefendedClassifier, accuracy_along, reversal_problem
from llcore.tasks.ssl import Augment, SSLHead, SSLLoss, multiview_nce


def tiny_images(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 10


def ssl_loss(seed=0):
    torch.manual_seed(0)
    loss = SSLLoss(SmallCNN(width=4).eval(), SSLHead(128, 32, 16), Augment(views=3, seed=seed))
    loss.set_bank(tiny_images(8, seed=5)[0])
    return loss


def test_classifier_file_errors_are_clear(tmp_path):
    x, y = tiny_images(32)
    art = train_classifier(x, y, "standard", epochs=1, batch=16, width=4, progress=False)
    good = tmp_path / "cnn.pt"
    torch.save(art, good)
    assert isinstance(load_classifier(good), SmallCNN)
    with pytest.raises(FileNotFoundError, match="classifier file not found"):
        load_classifier(tmp_path / "missing.pt")
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt"):
        load_classifier(tmp_path / "cut.pt")
    torch.save({"state": [1, 2, 3]}, tmp_path / "list.pt")
    with pytest.raises(ValueError, match="no state dict"):
        load_classifier(tmp_path / "list.pt")


def test_bank_nce_is_per_image():
    """With a bank of negatives, an image's loss does not depend on the other images in its batch."""
    e = torch.nn.functional.normalize(torch.randn(6, 4, 8), dim=2)
    bank = torch.nn.functional.normalize(torch.randn(10, 8), dim=1)
    full = multiview_nce(e, 0.2, bank)
    assert full.shape == (6,)
    assert torch.allclose(full[:2], multiview_nce(e[:2], 0.2, bank), atol=1e-6)
    agree = torch.nn.functional.normalize(torch.randn(6, 1, 8), dim=2).expand(6, 4, 8)
    assert (multiview_nce(agree, 0.2, bank) < full).all()        # identical views: lowest loss


def test_batch_negatives_are_the_other_images_views():
    """negatives='batch' is the training loss (in-batch negatives) per image; it needs >= 2 images, no bank."""
    torch.manual_seed(0)
    x, _ = tiny_images(6)
    loss = SSLLoss(SmallCNN(width=4).eval(), SSLHead(128, 32, 16), Augment(views=3, seed=1), negatives="batch")
    out = loss(x)
    loss.augment.seed(1)
    e = loss.embed(x)
    assert out.shape == (6,) and torch.allclose(out, multiview_nce(e, loss.tau), atol=1e-6)
    with pytest.raises(ValueError, match="at least 2 images"):
        loss(x[:1])
    with pytest.raises(ValueError, match="'batch' or 'bank'"):
        SSLLoss(SmallCNN(width=4).eval(), SSLHead(128, 32, 16), Augment(views=3), negatives="memory")


def test_reversal_stays_in_budget_and_accuracy_reads_the_trajectory():
    x, y = tiny_images(8)
    problem = reversal_problem(ssl_loss(), eps=0.1, image_shape=(1, 28, 28))
    rec = invert(problem, x, None, "sign", 0.05, 3, keep_trajectory=True)
    assert rec.x.abs().max() <= 0.1 + 1e-6
    clf = SmallCNN(width=4).eval()
    acc = accuracy_along(clf, x, y, rec.trajectory)
    assert acc.shape == (4,) and ((acc >= 0) & (acc <= 1)).all()
    with pytest.raises(ValueError, match="eps must be > 0"):
        reversal_problem(ssl_loss(), eps=0.0, image_shape=(1, 28, 28))


def test_defended_classifier_is_the_one_step_defense_and_has_gradients():
    """The module an adaptive attack differentiates computes the same r_1 as llcore's inversion (same augmentations)."""
    x, _ = tiny_images(4)
    theta = ResidualMLP(784, dim_z=32, width=16, depth=2, bound=0.3)
    torch.nn.init.normal_(theta.g[-1].weight, std=0.01)             # a non-identity θ
    loss = ssl_loss(seed=3)
    problem = reversal_problem(loss, eps=0.3, image_shape=(1, 28, 28))
    loss.augment.seed(3)
    rec = invert(problem, x, theta, "sign", 0.2, 1)
    loss.augment.seed(3)
    defended = DefendedClassifier(SmallCNN(width=4).eval(), loss, theta, lr=0.2, eot=1)
    assert torch.allclose(defended.reversal(x), rec.x, atol=1e-6)
    for bpda in ("straight_through", "identity"):
        xg = x.clone().requires_grad_(True)
        DefendedClassifier(SmallCNN(width=4).eval(), loss, theta, lr=0.2, bpda=bpda, eot=2)(xg).sum().backward()
        assert xg.grad is not None and xg.grad.abs().sum() > 0, bpda


def test_art_pgd_is_seeded_and_within_eps():
    x, y = tiny_images(8)
    clf = SmallCNN(width=4).eval()
    a = pgd_linf(clf, x, y, eps=0.1, step=0.05, steps=3, seed=1)
    assert a.shape == x.shape and (a - x).abs().max() <= 0.1 + 1e-5 and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, pgd_linf(clf, x, y, eps=0.1, step=0.05, steps=3, seed=1))


def test_cifar_folder_loads_and_missing_or_corrupt_files_are_named(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    rng = np.random.default_rng(0)
    for n in names:
        with open(folder / n, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), b"labels": [0, 1, 2]}, f)
    (xtr, ytr), (xte, yte) = load_cifar10(tmp_path)
    assert xtr.shape == (15, 3, 32, 32) and xte.shape == (3, 3, 32, 32) and 0 <= xtr.min() and xtr.max() <= 1
    (folder / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="test_batch is corrupt"):
        load_cifar10(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_cifar10(folder)
