"""3D human pose from 2D keypoints: the SMPL body's joints seen through a perspective camera.

x = (global orientation (3), body pose (69)), SMPL axis-angle (see poses.py); shape β = 0. F(x) projects the
24 SMPL joints to pixels; a target y (24, 3) holds (u, v, visibility) per joint, so a partial observation is
the same problem with some visibilities 0:

    L(F(x), y) = Σ_j v_j ‖(F(x)_j - y_j) / f‖² / Σ_j v_j  +  λ ‖x[3:]‖²                (paper, Eq. 1)

Units and conventions:
    joints      metres (the body's units), pelvis-relative: the pelvis is the origin, in SMPL's body frame
                (x = body's left, y up, z forward). Translation is not estimated.
    camera      PerspectiveCamera: on the body's +z axis, `distance` metres in front of the pelvis, looking at
                it; pixels, u to the right (the body's left when it faces the camera), v down; focal length f
                and principal point in pixels. Default 256 x 256 image, f = 400 px, distance 4 m: the 1.7 m
                body spans ~170 px.
    data term   mean over visible joints of the squared reprojection error in focal-length units (pixels / f,
                i.e. tangent of the viewing angle): 1 px error gives (1/400)² = 6.25e-6; √loss · distance is
                the RMS error in metres at the body's depth.
    prior       λ ‖body pose - μ‖² (radians²), μ = 0 by default or the mean training pose (prior_mean);
                λ = 1e-5 by default: 1 rad² of prior costs as much as a 1.3 px RMS reprojection error;
                1e-3 swamps the data term (measured: fits stop ~6 px from the keypoints).
    metrics     mpjpe, pa_mpjpe in millimetres (joints in metres × 1000); Problem.metric is the RMS
                reprojection error of the visible joints in pixels.

Depth is ambiguous from one view (a limb tilted toward or away from the camera projects alike), so MPJPE
can stay high while the reprojection error is ~0; the rotations of the leaf joints (head, feet, hands) move
no joint and are set by the prior alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ..problem import Problem, zeros_init

N_JOINTS = 24

# camera

@dataclass(frozen=True)
class PerspectiveCamera:
    """A pinhole camera on the body's +z axis, `distance` metres from the pelvis, looking at it.

    focal (px), cx, cy (principal point, px), image_size (px, square; for plots), distance (metres)."""
    focal: float = 400.0
    cx: float = 128.0
    cy: float = 128.0
    image_size: int = 256
    distance: float = 4.0

    def project(self, joints3d: Tensor) -> Tensor:
        """Pelvis-relative body-frame points (..., 3) in metres → pixels (..., 2): u = cx + f x / (d - z),
        v = cy - f y / (d - z). Camera frame = body frame turned 180° about x, moved to z = d."""
        x, y, z = joints3d.unbind(-1)
        depth = self.distance - z                                # > 0 for any body near the origin
        return torch.stack([self.cx + self.focal * x / depth, self.cy - self.focal * y / depth], dim=-1)


# forward model

class BodyJoints(nn.Module):
    """x (B, 72) → pelvis-relative 3D joints (B, 24, 3) in metres, of the smplx SMPL model (β = 0).

    Only the 24 joints are computed, with smplx's own functions in the order of its forward (rest joints from the
    shaped template, Rodrigues, the kinematic chain); the skinned mesh, on which none of these joints depends, is
    skipped. That gives the same numbers as the whole smplx forward (bit for bit, forward and gradient: a test
    checks it) at a fraction of the cost (fit loops call F thousands of times). `whole_model=True` runs smplx's
    whole forward instead;
    a model without SMPL's buffers (J_regressor, v_template, shapedirs, parents) or with a joint_mapper always does."""

    def __init__(self, body_model: nn.Module, whole_model: bool = False):
        super().__init__()
        self.body = body_model
        self.register_buffer("betas", torch.zeros(1, body_model.num_betas))
        self.joints_only = (not whole_model and getattr(body_model, "joint_mapper", None) is None
                            and all(hasattr(body_model, k) for k in ("J_regressor", "v_template", "shapedirs", "parents")))

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        if self.joints_only:
            joints = self._kinematic_chain(x)
        else:
            out = self.body(betas=self.betas.expand(b, -1), global_orient=x[:, :3], body_pose=x[:, 3:],
                            transl=x.new_zeros(b, 3))
            joints = out.joints[:, :N_JOINTS]                    # (B, 24, 3); smplx appends extra joints
        return joints - joints[:, :1]                            # pelvis at the origin

    def _kinematic_chain(self, x: Tensor) -> Tensor:
        """The posed joints (B, 24, 3) in the body frame, as smplx's lbs computes them (no mesh)."""
        from smplx.lbs import batch_rigid_transform, batch_rodrigues, blend_shapes, vertices2joints
        m, b = self.body, x.shape[0]
        betas = self.betas.expand(b, -1)
        rest = vertices2joints(m.J_regressor, m.v_template + blend_shapes(betas, m.shapedirs))     # (B, 24, 3)
        pose = torch.cat([x[:, :3], x[:, 3:]], dim=1)                                            # (B, 72)
        rot = batch_rodrigues(pose.view(-1, 3)).view(b, -1, 3, 3)                               # (B, 24, 3, 3)
        posed, _ = batch_rigid_transform(rot, rest, m.parents, dtype=betas.dtype)               # (B, 24, 3)
        return posed[:, :N_JOINTS]


class ProjectedJoints(nn.Module):
    """F: x (B, 72) → 2D keypoints (B, 24, 2) in pixels. `.joints` gives the 3D joints of the same x."""

    def __init__(self, joints: BodyJoints, camera: PerspectiveCamera):
        super().__init__()
        self.joints, self.camera = joints, camera

    def forward(self, x: Tensor) -> Tensor:
        return self.camera.project(self.joints(x))


def _as_joints(body) -> BodyJoints:
    if isinstance(body, BodyJoints):
        return body
    if isinstance(body, ProjectedJoints):
        return body.joints
    return BodyJoints(body)


# loss, prior, metrics

def reprojection_loss(pred: Tensor, y: Tensor, focal: float) -> Tensor:
    """(B,): mean over visible joints of ‖(pred - y_uv) / focal‖². pred (B, 24, 2) px, y (B, 24, 3) = (u, v,
    visibility); a hidden joint (visibility 0) adds nothing, whatever its u, v."""
    vis = y[..., 2]
    err = ((pred - y[..., :2]) / focal).pow(2).sum(-1)           # (B, 24)
    return (vis * err).sum(1) / vis.sum(1).clamp_min(1.0)


def reprojection_rmse(pred: Tensor, y: Tensor) -> Tensor:
    """(B,): RMS reprojection error of the visible joints, in pixels."""
    vis = y[..., 2]
    err = (pred - y[..., :2]).pow(2).sum(-1)
    return ((vis * err).sum(1) / vis.sum(1).clamp_min(1.0)).sqrt()


def pose_prior(x: Tensor, weight: float, mean: Optional[Tensor] = None) -> Tensor:
    """(B,): weight · ‖body pose - mean‖² (radians²; mean (69,) defaults to 0, the T-pose; the global
    orientation is free)."""
    body = x[:, 3:] if mean is None else x[:, 3:] - mean.to(x)
    return weight * body.pow(2).sum(1)


def mpjpe(pred: Tensor, true: Tensor) -> Tensor:
    """Mean per-joint position error (B,) in millimetres, for joints (B, J, 3) in metres (pelvis-relative)."""
    return 1000.0 * (pred - true).norm(dim=-1).mean(-1)


def procrustes_align(pred: Tensor, true: Tensor) -> Tensor:
    """pred (B, J, 3) moved by the similarity transform (scale s, rotation R, translation t) that minimises
    Σ_j ‖s R p_j + t - q_j‖² (Umeyama 1991; no reflection)."""
    mu_p, mu_q = pred.mean(1, keepdim=True), true.mean(1, keepdim=True)
    p, q = pred - mu_p, true - mu_q                              # (B, J, 3)
    u, sv, vh = torch.linalg.svd(q.transpose(1, 2) @ p)           # cross-covariance (B, 3, 3) = U S Vᵀ
    d = torch.sign(torch.det(u @ vh))                            # -1: the best orthogonal map is a reflection
    fix = torch.ones_like(sv)
    fix[:, -1] = d
    rot = u @ torch.diag_embed(fix) @ vh                         # R = U diag(1, 1, d) Vᵀ
    scale = (sv * fix).sum(1) / p.pow(2).sum((1, 2)).clamp_min(1e-12)
    return scale[:, None, None] * p @ rot.transpose(1, 2) + mu_q


def pa_mpjpe(pred: Tensor, true: Tensor) -> Tensor:
    """MPJPE (B,) in millimetres after Procrustes alignment (scale, rotation, translation) of pred to true."""
    return mpjpe(procrustes_align(pred, true), true)


# the problem and its targets

def pose_problem(body_model: nn.Module, camera: Optional[PerspectiveCamera] = None, prior_weight: float = 1e-5,
                 init_pose: Optional[Tensor] = None, prior_mean: Optional[Tensor] = None) -> Problem:
    """The inversion problem: x (B, 72) axis-angle, y (B, 24, 3) = (u, v, visibility). init_pose (72,): x_0 for
    every target (the mean training pose, poses.mean_pose, is the fair common start); default zeros (T-pose).
    prior_mean (72,) or (69,): centre of the prior, default 0 (‖body pose‖²); the mean training pose suits
    poses with arms down far better (the T-pose is not a typical pose).
    The same problem serves full, noisy and partial targets: noise and hidden joints live in y (make_targets)."""
    camera = camera or PerspectiveCamera()
    if prior_mean is not None:
        prior_mean = prior_mean.detach().float().cpu().reshape(-1)[-69:].clone()
    forward = ProjectedJoints(_as_joints(body_model), camera)
    if init_pose is None:
        init = zeros_init
    else:
        start = init_pose.detach().float().cpu().reshape(1, 72)
        init = lambda n, x_shape, generator: start.expand(n, 72).clone()  # noqa: E731
    return Problem(forward=forward, loss=lambda pred, y: reprojection_loss(pred, y, camera.focal),
                   x_shape=(72,), y_shape=(N_JOINTS, 3), init=init,
                   regularizer=(lambda x: pose_prior(x, prior_weight, prior_mean)) if prior_weight > 0 else None,
                   metric=reprojection_rmse, name="smpl_pose")


@torch.no_grad()
def make_targets(poses: Tensor, body_model: nn.Module, camera: Optional[PerspectiveCamera] = None,
                 noise: float = 0.0, hide_fraction: float = 0.0, seed: int = 0) -> tuple[Tensor, Tensor]:
    """(y (B, 24, 3), joints3d (B, 24, 3)) for poses (B, 72). y = (u, v, visibility), pixels; `noise`: std of
    Gaussian pixel noise on u and v; `hide_fraction`: round(hide_fraction · 24) joints hidden per target,
    chosen at random (their u, v set to 0, visibility 0). joints3d: pelvis-relative, metres, noise-free."""
    if not 0.0 <= hide_fraction < 1.0:
        raise ValueError(f"hide_fraction must lie in [0, 1), got {hide_fraction}")
    camera = camera or PerspectiveCamera()
    joints = _as_joints(body_model)
    joints3d = joints(poses.float())
    uv = camera.project(joints3d)
    g = torch.Generator().manual_seed(seed)
    if noise > 0:
        uv = uv + noise * torch.randn(uv.shape, generator=g)
    vis = torch.ones(uv.shape[:2])
    n_hidden = round(hide_fraction * N_JOINTS)
    if n_hidden > 0:
        hidden = torch.rand(uv.shape[:2], generator=g).argsort(1)[:, :n_hidden]
        vis.scatter_(1, hidden, 0.0)
        uv = uv * vis[..., None]
    return torch.cat([uv, vis[..., None]], dim=-1), joints3d
