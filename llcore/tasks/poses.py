"""The synthetic pose dataset of the human-pose experiment: SMPL poses drawn from a few pose families.

A pose is 72 numbers, SMPL's axis-angle layout: x[:3] the global orientation (pelvis), x[3:] the rotations
of the 23 body joints 1..23 in JOINT_NAMES order (left_hip, right_hip, spine1, ...), each a rotation vector
(radians) in the parent's frame. SMPL's frame: x = body's left, y up, z forward; zero pose = T-pose facing +z.

How to read the per-joint rotations (right-hand rule, in the rest T-pose):

    hip x < 0          leg forward (flexion)         knee x > 0     knee bends (shank back)
    left hip z > 0     leg out (abduction)           ankle x > 0    toes down (plantarflexion)
    spine x > 0        bend forward                  spine y        twist;  spine z: side bend
    left shoulder z    > 0 arm up, < 0 arm down      right shoulder z: the mirror (> 0 arm down)
    left shoulder y    < 0 arm forward               right shoulder y: > 0 arm forward
    left elbow y < 0   elbow bends (forearm forward) right elbow y > 0

RANGES gives, per joint, a [low, high] interval for each rotation-vector component (x, y, z), a coarse
anatomical range of motion (after standard range-of-motion tables; a rotation-vector component equals the
angle about that axis only for single-axis rotations, which dominate these families).

Families (each draws per-joint angles from its own template + noise; in-distribution families are clipped
to RANGES; the global orientation is yaw ∈ [-0.7, 0.7] rad, pitch and roll ∈ [-0.1, 0.1], for every family):

    family     split            what
    standing   train, test_in   arms down at the sides, weight shift, small spine/head motion
    walking    train, test_in   a gait cycle parameterised by phase φ (walking_pose): hips ∓a·sin φ,
                                knees flex in swing, arms swing against the legs, stride a ∈ [0.3, 0.55]
    reaching   train, test_in   one or both arms extended toward a random direction, torso leaning with it
    dance      train, test_in   arms raised, one leg lifted, hip and torso twist and side bend
    sitting    test_ood         hips and knees flexed ~90° at once, hands on the thighs (held-out family)
    crouching  test_ood         deep hip and knee flexion, torso forward, arms forward (held-out family)
    extreme    test_ood         a dance or reaching pose with 4-8 joint components pushed 0.2-0.8 rad beyond
                                their RANGES limit (beyond anatomical range)

sample_poses(n, families, seed) interleaves the families (sample i is of families[i % len(families)]) and is
deterministic: each family's draws come from its own generator seeded by (seed, family), so asking for other
families does not change them. pose_splits() gives train / test_in / test_ood from distinct seeds; the
partial-observation split test_partial is test_in with 30% of the keypoints hidden (see pose.make_targets).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from .body import JOINT_NAMES

# anatomical ranges (radians), per body joint and rotation-vector component (x, y, z)

_SIDED = {  # left side; the right side mirrors y and z (x stays)
    "hip": ((-2.0, 0.5), (-0.6, 0.6), (-0.3, 0.8)),
    "knee": ((0.0, 2.3), (-0.15, 0.15), (-0.05, 0.05)),
    "ankle": ((-0.35, 0.8), (-0.3, 0.3), (-0.3, 0.3)),
    "foot": ((-0.5, 0.3), (-0.1, 0.1), (-0.1, 0.1)),
    "collar": ((-0.2, 0.2), (-0.3, 0.3), (-0.2, 0.4)),
    "shoulder": ((-1.0, 1.0), (-1.5, 0.6), (-1.6, 1.2)),
    "elbow": ((-0.8, 0.8), (-2.5, 0.0), (-0.1, 0.1)),
    "wrist": ((-0.8, 0.8), (-0.4, 0.4), (-1.0, 1.0)),
    "hand": ((-0.3, 0.3), (-0.3, 0.3), (-0.3, 0.3)),
}
_MIDLINE = {
    "spine1": ((-0.3, 0.6), (-0.3, 0.3), (-0.3, 0.3)),
    "spine2": ((-0.2, 0.4), (-0.25, 0.25), (-0.2, 0.2)),
    "spine3": ((-0.2, 0.4), (-0.25, 0.25), (-0.2, 0.2)),
    "neck": ((-0.5, 0.6), (-0.6, 0.6), (-0.4, 0.4)),
    "head": ((-0.4, 0.5), (-0.5, 0.5), (-0.3, 0.3)),
}


def _ranges() -> dict:
    out = {}
    for name in JOINT_NAMES[1:]:
        if name in _MIDLINE:
            out[name] = _MIDLINE[name]
        else:
            side, kind = name.split("_", 1)
            (xl, xh), (yl, yh), (zl, zh) = _SIDED[kind]
            out[name] = _SIDED[kind] if side == "left" else ((xl, xh), (-yh, -yl), (-zh, -zl))
    return out


RANGES = _ranges()                                           # {joint name: ((lo, hi) for x, y, z)}
BODY_LOW = np.array([[r[0] for r in RANGES[n]] for n in JOINT_NAMES[1:]])    # (23, 3)
BODY_HIGH = np.array([[r[1] for r in RANGES[n]] for n in JOINT_NAMES[1:]])   # (23, 3)
GLOBAL_RANGE = {"yaw": (-0.7, 0.7), "pitch": (-0.1, 0.1), "roll": (-0.1, 0.1)}

IN_DISTRIBUTION = ("standing", "walking", "reaching", "dance")
OUT_OF_DISTRIBUTION = ("sitting", "crouching", "extreme")
FAMILIES = IN_DISTRIBUTION + OUT_OF_DISTRIBUTION
SPLITS = {"train": IN_DISTRIBUTION, "test_in": IN_DISTRIBUTION, "test_ood": OUT_OF_DISTRIBUTION}

# helpers

_J = {name: i - 1 for i, name in enumerate(JOINT_NAMES) if i > 0}   # body joint name -> row of (23, 3)
_AX = {"x": 0, "y": 1, "z": 2}


def _set(pose: np.ndarray, joint: str, axis: str, value) -> None:
    pose[:, _J[joint], _AX[axis]] = value


def _mirror(pose: np.ndarray, kind: str, axis: str, left_value, right_value=None) -> None:
    """Set left_<kind> to left_value and right_<kind> to the mirror of right_value (default: the same
    motion): x stays, y and z change sign."""
    right_value = left_value if right_value is None else right_value
    sign = 1.0 if axis == "x" else -1.0
    _set(pose, "left_" + kind, axis, left_value)
    _set(pose, "right_" + kind, axis, sign * np.asarray(right_value))


def _arms_down(pose: np.ndarray, rng: np.random.Generator) -> None:
    n = len(pose)
    _mirror(pose, "shoulder", "z", -rng.uniform(1.1, 1.45, n), -rng.uniform(1.1, 1.45, n))
    _mirror(pose, "shoulder", "y", rng.normal(0, 0.1, n), rng.normal(0, 0.1, n))
    _mirror(pose, "elbow", "y", -rng.uniform(0.0, 0.4, n), -rng.uniform(0.0, 0.4, n))


def _jitter(pose: np.ndarray, rng: np.random.Generator, scale: float = 0.03) -> np.ndarray:
    return pose + rng.normal(0.0, scale, pose.shape)


def _global(rng: np.random.Generator, n: int) -> np.ndarray:
    """Global orientation (n, 3) as a rotation vector: R = R_y(yaw) R_x(pitch) R_z(roll)."""
    from scipy.spatial.transform import Rotation
    angles = np.stack([rng.uniform(*GLOBAL_RANGE[k], n) for k in ("yaw", "pitch", "roll")], axis=1)
    return Rotation.from_euler("YXZ", angles).as_rotvec()


# families: (rng, n) -> body pose (n, 23, 3)

def walking_pose(phase, stride=0.45, knee=0.8, arm_swing=0.35) -> np.ndarray:
    """The walking cycle at gait phase φ (radians; φ = π/2: left leg forward), (n, 23, 3), noise-free.
    Scalars or arrays of length n for every argument."""
    phase = np.atleast_1d(np.asarray(phase, dtype=np.float64))
    n = len(phase)
    pose = np.zeros((n, 23, 3))
    s = np.sin(phase)
    _mirror(pose, "hip", "x", -stride * s, stride * s)
    _mirror(pose, "knee", "x", 0.1 + knee * np.maximum(0.0, np.sin(phase + 0.5)),
            0.1 + knee * np.maximum(0.0, np.sin(phase + 0.5 + math.pi)))
    _mirror(pose, "ankle", "x", 0.15 * np.sin(phase + 1.0), 0.15 * np.sin(phase + 1.0 + math.pi))
    _mirror(pose, "shoulder", "z", -1.3, -1.3)
    _mirror(pose, "shoulder", "y", arm_swing * s, -arm_swing * s)       # arms swing against the legs
    _mirror(pose, "elbow", "y", -0.35 - 0.15 * np.maximum(0.0, -s), -0.35 - 0.15 * np.maximum(0.0, s))
    _set(pose, "spine1", "y", 0.1 * s)                                  # torso counter-rotates
    _set(pose, "spine1", "x", 0.05)
    return pose


def _standing(rng, n):
    pose = np.zeros((n, 23, 3))
    _arms_down(pose, rng)
    shift = rng.uniform(-0.1, 0.1, n)                                   # weight shift: both hips tilt
    _set(pose, "left_hip", "z", shift)
    _set(pose, "right_hip", "z", shift)
    _mirror(pose, "knee", "x", rng.uniform(0.0, 0.15, n), rng.uniform(0.0, 0.15, n))
    for joint in ("spine1", "spine2", "neck", "head"):
        pose[:, _J[joint]] += rng.normal(0.0, 0.06, (n, 3))
    return _jitter(pose, rng)


def _walking(rng, n):
    pose = walking_pose(rng.uniform(0.0, 2 * math.pi, n), stride=rng.uniform(0.3, 0.55, n),
                        knee=rng.uniform(0.6, 1.0, n), arm_swing=rng.uniform(0.2, 0.5, n))
    return _jitter(pose, rng)


def _reaching(rng, n):
    pose = np.zeros((n, 23, 3))
    _arms_down(pose, rng)
    side = rng.integers(0, 3, n)                                        # 0 left, 1 right, 2 both
    for s, kind_side in ((0, "left"), (1, "right")):
        reach = (side == s) | (side == 2)
        mirror = 1.0 if kind_side == "left" else -1.0
        up, fwd = rng.uniform(-0.5, 1.1, n), rng.uniform(0.0, 1.4, n)
        for axis, value in (("z", mirror * up), ("y", -mirror * fwd), ("x", rng.normal(0, 0.3, n))):
            pose[reach, _J[f"{kind_side}_shoulder"], _AX[axis]] = value[reach]
        pose[reach, _J[f"{kind_side}_elbow"], 1] = (-mirror * rng.uniform(0.0, 0.4, n))[reach]
        pose[reach, _J[f"{kind_side}_wrist"], 2] = rng.normal(0, 0.3, n)[reach]
    lean = np.where(side == 0, 1.0, np.where(side == 1, -1.0, 0.0))     # side bend toward the reaching arm
    _set(pose, "spine1", "x", rng.uniform(0.0, 0.4, n))
    _set(pose, "spine2", "z", -lean * rng.uniform(0.0, 0.2, n))
    _set(pose, "spine2", "y", lean * rng.uniform(0.0, 0.2, n))
    _mirror(pose, "knee", "x", rng.uniform(0.0, 0.3, n), rng.uniform(0.0, 0.3, n))
    return _jitter(pose, rng)


def _dance(rng, n):
    pose = np.zeros((n, 23, 3))
    _mirror(pose, "shoulder", "z", rng.uniform(-0.3, 1.2, n), rng.uniform(-0.3, 1.2, n))
    _mirror(pose, "shoulder", "y", rng.uniform(-1.0, 0.4, n), rng.uniform(-1.0, 0.4, n))
    _mirror(pose, "shoulder", "x", rng.normal(0, 0.4, n), rng.normal(0, 0.4, n))
    _mirror(pose, "elbow", "y", -rng.uniform(0.0, 2.0, n), -rng.uniform(0.0, 2.0, n))
    _mirror(pose, "wrist", "z", rng.normal(0, 0.4, n), rng.normal(0, 0.4, n))
    lifted = rng.integers(0, 2, n)                                      # which leg is lifted
    hip, knee, out = -rng.uniform(0.3, 1.4, n), rng.uniform(0.3, 1.8, n), rng.uniform(0.0, 0.5, n)
    for s, name in ((0, "left"), (1, "right")):
        m = lifted == s
        sign = 1.0 if name == "left" else -1.0
        pose[m, _J[f"{name}_hip"], 0] = hip[m]
        pose[m, _J[f"{name}_hip"], 2] = sign * out[m]
        pose[m, _J[f"{name}_knee"], 0] = knee[m]
        pose[~m, _J[f"{name}_knee"], 0] = rng.uniform(0.0, 0.3, n)[~m]
    _set(pose, "spine1", "y", rng.uniform(-0.3, 0.3, n))
    _set(pose, "spine2", "z", rng.uniform(-0.2, 0.2, n))
    _set(pose, "neck", "z", rng.uniform(-0.3, 0.3, n))
    _set(pose, "head", "x", rng.uniform(-0.3, 0.3, n))
    return _jitter(pose, rng)


def _sitting(rng, n):
    pose = np.zeros((n, 23, 3))
    hip, knee = -rng.uniform(1.3, 1.7, n), rng.uniform(1.3, 1.7, n)
    _mirror(pose, "hip", "x", hip + rng.normal(0, 0.05, n), hip + rng.normal(0, 0.05, n))
    _mirror(pose, "hip", "z", rng.uniform(0.0, 0.3, n), rng.uniform(0.0, 0.3, n))
    _mirror(pose, "knee", "x", knee + rng.normal(0, 0.05, n), knee + rng.normal(0, 0.05, n))
    _mirror(pose, "ankle", "x", rng.uniform(-0.3, 0.1, n), rng.uniform(-0.3, 0.1, n))
    _mirror(pose, "shoulder", "z", -rng.uniform(1.0, 1.4, n), -rng.uniform(1.0, 1.4, n))
    _mirror(pose, "shoulder", "y", -rng.uniform(0.2, 0.6, n), -rng.uniform(0.2, 0.6, n))
    _mirror(pose, "elbow", "y", -rng.uniform(0.6, 1.4, n), -rng.uniform(0.6, 1.4, n))
    _set(pose, "spine1", "x", rng.uniform(0.0, 0.3, n))
    return _jitter(pose, rng)


def _crouching(rng, n):
    pose = np.zeros((n, 23, 3))
    _mirror(pose, "hip", "x", -rng.uniform(1.8, 2.0, n), -rng.uniform(1.8, 2.0, n))
    _mirror(pose, "hip", "z", rng.uniform(0.1, 0.5, n), rng.uniform(0.1, 0.5, n))
    _mirror(pose, "knee", "x", rng.uniform(1.9, 2.3, n), rng.uniform(1.9, 2.3, n))
    _mirror(pose, "ankle", "x", -rng.uniform(0.2, 0.35, n), -rng.uniform(0.2, 0.35, n))
    _set(pose, "spine1", "x", rng.uniform(0.3, 0.6, n))
    _mirror(pose, "shoulder", "y", -rng.uniform(0.6, 1.2, n), -rng.uniform(0.6, 1.2, n))
    _mirror(pose, "shoulder", "z", -rng.uniform(0.6, 1.2, n), -rng.uniform(0.6, 1.2, n))
    _mirror(pose, "elbow", "y", -rng.uniform(0.3, 1.2, n), -rng.uniform(0.3, 1.2, n))
    _set(pose, "neck", "x", -rng.uniform(0.0, 0.4, n))                  # head up, looking ahead
    return _jitter(pose, rng)


def _extreme(rng, n):
    pose = np.clip(np.where(rng.random((n, 1, 1)) < 0.5, _dance(rng, n), _reaching(rng, n)), BODY_LOW, BODY_HIGH)
    flat_low, flat_high, flat = BODY_LOW.reshape(-1), BODY_HIGH.reshape(-1), pose.reshape(n, -1)
    for i in range(n):
        k = rng.integers(4, 9)
        idx = rng.choice(69, size=k, replace=False)
        beyond = rng.uniform(0.2, 0.8, k)
        above = rng.random(k) < 0.5
        flat[i, idx] = np.where(above, flat_high[idx] + beyond, flat_low[idx] - beyond)
    return flat.reshape(n, 23, 3)


_FAMILY_FN = {"standing": _standing, "walking": _walking, "reaching": _reaching, "dance": _dance,
              "sitting": _sitting, "crouching": _crouching, "extreme": _extreme}


# the dataset

def sample_poses(n: int, families: Sequence[str] | str = IN_DISTRIBUTION, seed: int = 0,
                 return_families: bool = False):
    """n poses (n, 72) float32 = global orientation (3) + body pose (69), axis-angle; sample i is of
    families[i % len(families)]. With return_families, also the list of family names per sample."""
    families = (families,) if isinstance(families, str) else tuple(families)
    unknown = [f for f in families if f not in _FAMILY_FN]
    if unknown or not families:
        raise ValueError(f"unknown pose families {unknown or families}; known: {', '.join(FAMILIES)}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    out = np.zeros((n, 72))
    labels = [families[i % len(families)] for i in range(n)]
    for fam in dict.fromkeys(families):
        rows = [i for i, lab in enumerate(labels) if lab == fam]
        if not rows:
            continue
        rng = np.random.default_rng([seed, FAMILIES.index(fam)])
        body = _FAMILY_FN[fam](rng, len(rows))
        if fam != "extreme":
            body = np.clip(body, BODY_LOW, BODY_HIGH)
        out[rows, :3] = _global(rng, len(rows))
        out[rows, 3:] = body.reshape(len(rows), 69)
    poses = torch.from_numpy(out).float()
    return (poses, labels) if return_families else poses


def pose_splits(n_train: int, n_test: int, seed: int = 0) -> dict:
    """{"train", "test_in", "test_ood"}: poses (n, 72) from SPLITS' families, each split from its own seed."""
    sizes = {"train": n_train, "test_in": n_test, "test_ood": n_test}
    return {name: sample_poses(sizes[name], SPLITS[name], seed=1000 * seed + k)
            for k, name in enumerate(("train", "test_in", "test_ood"))}


def in_range(poses: Tensor) -> Tensor:
    """(n,) bool: every body-pose component within RANGES (the global orientation is not checked)."""
    body = poses[:, 3:].reshape(-1, 23, 3).double()
    low, high = torch.from_numpy(BODY_LOW), torch.from_numpy(BODY_HIGH)
    return ((body >= low - 1e-6) & (body <= high + 1e-6)).flatten(1).all(1)


def mean_pose(poses: Tensor) -> Tensor:
    """The mean pose (72,): per joint (global orientation included), the chordal L2 mean of the rotations,
    as a rotation vector. The fair common start x_0 for every method."""
    from scipy.spatial.transform import Rotation
    rv = poses.detach().double().cpu().numpy().reshape(len(poses), 24, 3)
    mean = [Rotation.from_rotvec(rv[:, j]).mean().as_rotvec() for j in range(24)]
    return torch.from_numpy(np.concatenate(mean)).float()
