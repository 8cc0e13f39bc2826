"""Human-pose forward model and data (llcore/tasks/{body,poses,pose}.py)."""
import hashlib
import pickle

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

import smplx  # noqa: E402

from llcore.tasks import body, pose, poses  # noqa: E402


# fixtures

@pytest.fixture(scope="module")
def smpl_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("procedural_smpl")
    body.write_procedural_smpl(folder)
    return folder


@pytest.fixture(scope="module")
def model(smpl_folder):
    m, info = body.load_body(model_dir=smpl_folder)
    assert info["source"] == "procedural" and info["units"] == "metres" and info["n_vertices"] == 920
    return m


def _random_pose(n, seed=0, scale=0.4):
    return scale * torch.randn(n, 72, generator=torch.Generator().manual_seed(seed))


# the procedural SMPL file

def test_generated_file_loads_with_smplx_and_joints_follow_the_tree(smpl_folder):
    data = pickle.loads((smpl_folder / "SMPL_NEUTRAL.pkl").read_bytes())
    ids = body.procedural_vertex_ids(data["v_template"], body.REST_JOINTS)     # smplx's own ids go up to 6787
    m = smplx.SMPL(model_path=str(smpl_folder), vertex_ids=ids)                 # the call real files use
    assert m.get_num_verts() == 920 and tuple(m.J_regressor.shape) == (24, 920)
    assert m.parents.tolist() == [-1, *body.PARENTS[1:]]
    with torch.no_grad():
        rest = m().joints[0, :24]                                               # zero pose, β = 0
    template = m.J_regressor @ m.v_template
    assert torch.allclose(rest, template, atol=1e-6)
    assert np.allclose(rest.numpy(), body.REST_JOINTS, atol=1e-6)
    # each child joint sits at the end of its bone: under any pose, bone lengths stay the rest lengths
    joints = pose.BodyJoints(m)
    with torch.no_grad():
        posed = joints(_random_pose(8))
    parents = list(body.PARENTS[1:])
    rest_len = (rest[1:] - rest[parents]).norm(dim=-1)
    posed_len = (posed[:, 1:] - posed[:, parents]).norm(dim=-1)
    assert torch.allclose(posed_len, rest_len.expand_as(posed_len), atol=1e-5)
    assert rest_len.min() > 0.05 and rest_len.max() < 0.45                      # plausible bones, metres


def test_joints_only_forward_equals_the_whole_smplx_forward_bit_for_bit(model):
    # the fit loops skip the mesh; a different number anywhere (joints or their gradient) would change every result
    fast, whole = pose.BodyJoints(model), pose.BodyJoints(model, whole_model=True)
    assert fast.joints_only and not whole.joints_only
    g = torch.Generator().manual_seed(3)
    for batch, scale in ((1, 0.0), (5, 0.1), (64, 1.0)):
        x = (scale * torch.randn(batch, 72, generator=g)).requires_grad_(True)
        a, b = fast(x), whole(x)
        w = torch.randn(a.shape, generator=g)
        (ga,), (gb,) = torch.autograd.grad((a * w).sum(), x), torch.autograd.grad((b * w).sum(), x)
        assert torch.equal(a, b) and torch.equal(ga, gb)


def test_rotating_a_knee_moves_only_its_descendants(model):
    joints = pose.BodyJoints(model)
    x = torch.zeros(2, 72)
    knee = body.JOINT_NAMES.index("left_knee")
    x[1, 3 * knee] = 1.0                                                        # x[3 * j] is joint j's first component
    with torch.no_grad():
        j0, j1 = joints(x)
    moved = ((j1 - j0).norm(dim=-1) > 1e-5).nonzero().flatten().tolist()
    ankle, foot = body.JOINT_NAMES.index("left_ankle"), body.JOINT_NAMES.index("left_foot")
    assert moved == [ankle, foot]
    assert torch.isclose((j1[ankle] - j1[knee]).norm(), (j0[ankle] - j0[knee]).norm(), atol=1e-6)


def test_generated_file_is_byte_identical(tmp_path):
    a = body.write_procedural_smpl(tmp_path / "a").read_bytes()
    b = body.write_procedural_smpl(tmp_path / "b").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    data = pickle.loads(a)
    assert all(k in data for k in body.REQUIRED_KEYS)
    assert data["shapedirs"].shape == (920, 3, 10) and data["posedirs"].shape == (920, 3, 207)
    assert data["kintree_table"][0, 0] == 4294967295 and np.allclose(data["weights"].sum(1), 1.0)


def test_missing_model_file_gives_layout_guidance(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        body.load_body(model_dir=tmp_path)
    msg = str(e.value)
    assert "SMPL_NEUTRAL.pkl" in msg and str(tmp_path) in msg and "smpl.is.tue.mpg.de" in msg
    with pytest.raises(FileNotFoundError, match="SMPL_NEUTRAL.pkl"):
        body.load_body(model_dir=tmp_path / "nowhere")


def test_model_dir_accepts_smplx_create_layout_and_env(tmp_path, monkeypatch):
    body.write_procedural_smpl(tmp_path / "smpl")
    m, info = body.load_body(model_dir=tmp_path)
    assert info["path"] == str(tmp_path / "smpl" / "SMPL_NEUTRAL.pkl") and m.get_num_verts() == 920
    monkeypatch.setenv("SMPL_MODEL_DIR", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="empty"):
        body.load_body()


def test_malformed_model_file_names_the_missing_keys(tmp_path):
    data = body.procedural_smpl_arrays()
    del data["J_regressor"], data["weights"]
    (tmp_path / "SMPL_NEUTRAL.pkl").write_bytes(pickle.dumps(data))
    with pytest.raises(ValueError) as e:
        body.load_body(model_dir=tmp_path)
    assert "J_regressor" in str(e.value) and "weights" in str(e.value) and "SMPL_NEUTRAL.pkl" in str(e.value)
    (tmp_path / "SMPL_NEUTRAL.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="could not be unpickled"):
        body.load_body(model_dir=tmp_path)


# the pose data

def test_pose_sampler_is_deterministic_and_in_range():
    a, fams = poses.sample_poses(70, poses.IN_DISTRIBUTION, seed=3, return_families=True)
    assert a.shape == (70, 72) and a.dtype == torch.float32
    assert torch.equal(a, poses.sample_poses(70, poses.IN_DISTRIBUTION, seed=3))
    assert not torch.equal(a, poses.sample_poses(70, poses.IN_DISTRIBUTION, seed=4))
    assert fams[:5] == ["standing", "walking", "reaching", "dance", "standing"]
    assert poses.in_range(a).all()
    assert poses.in_range(poses.sample_poses(30, ("sitting", "crouching"), seed=0)).all()
    assert not poses.in_range(poses.sample_poses(10, "extreme", seed=0)).any()
    yaw = a[:, :3].norm(dim=1)                                                  # global rotation angle
    assert yaw.max() < 0.75
    mean = poses.mean_pose(a)
    assert mean.shape == (72,) and torch.isfinite(mean).all()


# camera, metrics, problem

def test_camera_projects_a_known_point():
    cam = pose.PerspectiveCamera(focal=400.0, cx=128.0, cy=128.0, distance=4.0)
    pts = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.5, 0.0, 2.0]])
    uv = cam.project(pts)
    assert torch.allclose(uv, torch.tensor([[128.0, 128.0], [178.0, 128.0], [128.0, 78.0], [228.0, 128.0]]))


def test_mpjpe_and_pa_mpjpe():
    g = torch.Generator().manual_seed(0)
    true = torch.randn(4, 24, 3, generator=g) * 0.3
    assert torch.allclose(pose.mpjpe(true, true), torch.zeros(4))
    assert torch.allclose(pose.pa_mpjpe(true, true), torch.zeros(4), atol=1e-3)
    assert torch.allclose(pose.mpjpe(true + torch.tensor([0.01, 0.0, 0.0]), true), torch.full((4,), 10.0))
    pred = true + 0.02 * torch.randn(4, 24, 3, generator=g)
    q, _ = torch.linalg.qr(torch.randn(4, 3, 3, generator=g))
    q = q * torch.det(q)[:, None, None].sign()                                  # proper rotations
    moved = 1.7 * pred @ q.transpose(1, 2) + torch.tensor([0.3, -1.0, 2.0])
    assert torch.allclose(pose.pa_mpjpe(moved, true), pose.pa_mpjpe(pred, true), atol=1e-3)
    assert (pose.pa_mpjpe(pred, true) <= pose.mpjpe(pred, true) + 1e-4).all()


def test_pose_problem_objective_is_per_target_differentiable_and_ignores_hidden_joints(model):
    cam = pose.PerspectiveCamera()
    x_true = poses.sample_poses(4, poses.IN_DISTRIBUTION, seed=0)
    y, joints3d = pose.make_targets(x_true, model, cam, hide_fraction=0.3, seed=1)
    assert y.shape == (4, 24, 3) and joints3d.shape == (4, 24, 3)
    assert (y[..., 2].sum(1) == 24 - 7).all()
    problem = pose.pose_problem(model, cam, prior_weight=1e-5)
    x = _random_pose(4, seed=2, scale=0.2).requires_grad_(True)
    value = problem.objective(x, y)
    assert value.shape == (4,)
    value.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    hidden = (y[..., 2] == 0).nonzero()[0]
    y2 = y.clone()
    y2[hidden[0], hidden[1], :2] += torch.tensor([50.0, -30.0])
    assert torch.equal(problem.objective(x.detach(), y2), problem.objective(x.detach(), y))
    visible = (y[..., 2] == 1).nonzero()[0]
    y2[visible[0], visible[1], :2] += 5.0
    assert not torch.equal(problem.objective(x.detach(), y2), problem.objective(x.detach(), y))
    # the true pose has zero data term: only the prior remains
    full, _ = pose.make_targets(x_true, model, cam)
    expected = 1e-5 * x_true[:, 3:].pow(2).sum(1)
    assert torch.allclose(problem.objective(x_true, full), expected, rtol=1e-3, atol=1e-9)
