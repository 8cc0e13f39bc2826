"""The body model: real SMPL files when the user has them, else a procedural body in SMPL's file format.

Every caller goes through `smplx.SMPL(model_path=...)`, so the same code runs on both. SMPL's linear blend
skinning (Loper et al. 2015, Eq. 1-4) maps shape β and pose θ (24 axis-angle joint rotations) to

    J(β) = 𝒥 (T̄ + B_S(β)),   joints posed along the kinematic tree:  J'_k = G_k(θ, J) · J_k

so the 24 posed joints depend only on the joint regressor 𝒥, the template T̄, the shape directions and the
tree; vertices, skinning weights and pose correctives matter only for the mesh.

The procedural body (write_procedural_smpl) is a set of tubes along the 23 bones of the real SMPL
kinematic tree, in metres, T-pose, y up, facing +z, body's left on +x (SMPL's frame):

    vertices     n_stations rings of n_ring vertices per bone (default 5 x 8 x 23 = 920), radius per bone
    J_regressor  joint k = mean of every ring centred on k (the t = 0 rings of its child bones and the t = 1
                 ring of its own bone), so 𝒥 T̄ gives the rest joints below (up to 1e-8 m rounding)
    weights      a vertex at fraction t along bone (p → c): 1 - t/2 on p, t/2 on c
    shapedirs    10 directions, each a change of bone lengths (stature, legs, arms, torso, ...) or girth;
                 β = ±1 moves joints by a few centimetres (SHAPE_DIRECTIONS)
    posedirs     zeros (no pose correctives)

It is not a human body: it has SMPL's joints, tree and file layout, and plausible proportions (1.7 m).
The file's bytes depend only on the arguments (numbers rounded to 1e-8), so its hash is stable.

load_body() returns (smplx.SMPL, info); a missing file raises FileNotFoundError saying where SMPL_NEUTRAL.pkl
goes and where real SMPL comes from; an unreadable or incomplete file raises ValueError naming the file and
what is missing.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

# the real SMPL kinematic tree

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand",
    "right_hand",
)
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
N_JOINTS = 24
ROOT_PARENT = 4294967295                       # what SMPL files store as the root's parent (uint32 -1)
FILE_NAME = "SMPL_NEUTRAL.pkl"
REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
GENERATOR_TAG = "llcore procedural SMPL-format body"      # names the generator in the file, whatever module holds it
UNITS = "metres"

# rest joints of the procedural body (metres; T-pose; pelvis at the origin; x = body's left, y up, z forward)
_HALF = {  # one side (left, +x) and the midline; the right side mirrors x
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.07, -0.09, 0.0),
    "spine1": (0.0, 0.11, -0.01),
    "left_knee": (0.10, -0.48, 0.01),
    "spine2": (0.0, 0.24, 0.0),
    "left_ankle": (0.09, -0.88, -0.03),
    "spine3": (0.0, 0.30, 0.01),
    "left_foot": (0.11, -0.94, 0.10),
    "neck": (0.0, 0.52, -0.01),
    "left_collar": (0.07, 0.43, 0.0),
    "head": (0.0, 0.62, 0.04),
    "left_shoulder": (0.18, 0.46, -0.01),
    "left_elbow": (0.44, 0.45, -0.03),
    "left_wrist": (0.69, 0.45, -0.02),
    "left_hand": (0.78, 0.44, -0.02),
}


def _rest_joints() -> np.ndarray:
    out = []
    for name in JOINT_NAMES:
        if name in _HALF:
            out.append(_HALF[name])
        else:
            x, y, z = _HALF["left_" + name[len("right_"):]]
            out.append((-x, y, z))
    return np.array(out, dtype=np.float64)


REST_JOINTS = _rest_joints()                   # (24, 3), metres

# tube radius of the bone ending at each joint (metres)
_RADIUS = {"hip": 0.07, "spine1": 0.12, "knee": 0.065, "spine2": 0.12, "ankle": 0.045, "spine3": 0.12,
           "foot": 0.04, "neck": 0.055, "collar": 0.05, "head": 0.09, "shoulder": 0.05, "elbow": 0.045,
           "wrist": 0.035, "hand": 0.03}

# shape directions: relative bone-length changes at β = 1 (bone named by its child joint), or "girth"
SHAPE_DIRECTIONS = (
    ("stature", {"*": 0.03}),
    ("girth", "girth"),
    ("leg_length", {"knee": 0.05, "ankle": 0.05}),
    ("arm_length", {"elbow": 0.05, "wrist": 0.05, "hand": 0.05}),
    ("torso_length", {"spine1": 0.06, "spine2": 0.06, "spine3": 0.06, "neck": 0.06}),
    ("shoulder_width", {"collar": 0.15, "shoulder": 0.15}),
    ("hip_width", {"hip": 0.15}),
    ("thigh_vs_shin", {"knee": 0.05, "ankle": -0.05}),
    ("upper_vs_forearm", {"elbow": 0.05, "wrist": -0.05}),
    ("head_and_feet", {"head": 0.15, "foot": 0.10}),
)


def _kind(name: str) -> str:
    """'left_knee' -> 'knee', 'spine1' -> 'spine1'."""
    return name.split("_", 1)[1] if name.startswith(("left_", "right_")) else name


# the procedural body

def _ring_basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to `axis` and to each other, chosen deterministically."""
    a = axis / np.linalg.norm(axis)
    ref = np.eye(3)[int(np.argmin(np.abs(a)))]          # the coordinate axis least aligned with the bone
    e1 = np.cross(a, ref)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(a, e1)


def _joint_displacement(bone_scale: dict) -> np.ndarray:
    """Per-joint displacement (24, 3) when each bone (p → c) grows by bone_scale[kind(c)] of its length,
    descendants carried along."""
    new = REST_JOINTS.copy()
    for c in range(1, N_JOINTS):                        # parents come before children in SMPL's order
        p = PARENTS[c]
        s = bone_scale.get("*", 0.0) + bone_scale.get(_kind(JOINT_NAMES[c]), 0.0)
        new[c] = new[p] + (1.0 + s) * (REST_JOINTS[c] - REST_JOINTS[p])
    return new - REST_JOINTS


def procedural_smpl_arrays(n_ring: int = 8, n_stations: int = 5) -> dict:
    """The procedural body as the dict an SMPL file holds (float64, rounded to 1e-8; see the module docstring)."""
    if n_ring < 3 or n_stations < 2:
        raise ValueError(f"need n_ring >= 3 and n_stations >= 2, got n_ring={n_ring}, n_stations={n_stations}")
    phi = 2.0 * np.pi * np.arange(n_ring) / n_ring
    ts = np.linspace(0.0, 1.0, n_stations)
    displacements = [None if d == "girth" else _joint_displacement(d) for _, d in SHAPE_DIRECTIONS]

    verts, weights, shapedirs, faces = [], [], [], []
    ring_of = []                                        # (joint the ring is centred on or None, first vertex)
    for c in range(1, N_JOINTS):                        # one tube per bone (p → c)
        p = PARENTS[c]
        axis = REST_JOINTS[c] - REST_JOINTS[p]
        e1, e2 = _ring_basis(axis)
        r = _RADIUS[_kind(JOINT_NAMES[c])]
        base = len(verts)
        for k, t in enumerate(ts):
            centre = REST_JOINTS[p] + t * axis
            ring_of.append((p if k == 0 else c if k == n_stations - 1 else None, len(verts)))
            for a in phi:
                radial = np.cos(a) * e1 + np.sin(a) * e2            # unit, perpendicular to the bone
                verts.append(centre + r * radial)
                w = np.zeros(N_JOINTS)
                w[p], w[c] = 1.0 - t / 2.0, t / 2.0
                weights.append(w)
                dirs = [0.2 * r * radial if d is None else (1.0 - t) * d[p] + t * d[c] for d in displacements]
                shapedirs.append(np.stack(dirs, axis=1))            # (3, n_shape)
        for k in range(n_stations - 1):                 # quads between consecutive rings, as two triangles
            for i in range(n_ring):
                a0, a1 = base + k * n_ring + i, base + k * n_ring + (i + 1) % n_ring
                b0, b1 = a0 + n_ring, a1 + n_ring
                faces += [(a0, a1, b1), (a0, b1, b0)]

    n_verts = len(verts)
    regressor = np.zeros((N_JOINTS, n_verts))
    for j, first in ring_of:
        if j is not None:
            regressor[j, first:first + n_ring] = 1.0
    regressor /= regressor.sum(1, keepdims=True)

    import scipy.sparse as sp
    kintree = np.array([[ROOT_PARENT] + list(PARENTS[1:]), list(range(N_JOINTS))], dtype=np.int64)
    v_template = np.round(np.array(verts), 8)
    return {
        "v_template": v_template,                                          # (V, 3)
        "shapedirs": np.round(np.array(shapedirs), 8),                     # (V, 3, 10)
        "posedirs": np.zeros((n_verts, 3, 207)),                           # (V, 3, 207)
        "J_regressor": sp.csc_matrix(regressor),                           # (24, V), sparse like SMPL's own
        "weights": np.round(np.array(weights), 8),                         # (V, 24)
        "kintree_table": kintree,                                          # (2, 24)
        "f": np.array(faces, dtype=np.uint32),                             # (F, 3)
        "J": np.round(REST_JOINTS, 8),                                     # (24, 3) rest joints
        "bs_style": "lbs",
        "bs_type": "lrotmin",
        "joint_names": list(JOINT_NAMES),
        "shape_directions": [name for name, _ in SHAPE_DIRECTIONS],
        "generator": f"{GENERATOR_TAG}(n_ring={n_ring}, n_stations={n_stations})",
    }


def procedural_smpl_bytes(n_ring: int = 8, n_stations: int = 5) -> bytes:
    """The pickled SMPL_NEUTRAL.pkl of the procedural body (pickle protocol 4)."""
    return pickle.dumps(procedural_smpl_arrays(n_ring, n_stations), protocol=4)


def write_procedural_smpl(folder: str | Path, n_ring: int = 8, n_stations: int = 5) -> Path:
    """Write folder/SMPL_NEUTRAL.pkl (atomically); the same arguments always give the same bytes."""
    from ..checkpoint import atomic_write_bytes
    return atomic_write_bytes(Path(folder) / FILE_NAME, procedural_smpl_bytes(n_ring, n_stations))


# loading (real or procedural)

def _guidance(folder: Path) -> str:
    return (f"Put {FILE_NAME} in {folder} (smplx.SMPL(model_path='{folder}') reads {folder / FILE_NAME}; "
            f"{folder / 'smpl' / FILE_NAME}, the layout of smplx.create(model_type='smpl'), is read too). "
            "Real SMPL: register at https://smpl.is.tue.mpg.de, download 'SMPL for Python' and rename its neutral "
            f"model (basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl) to {FILE_NAME}. Or leave the model folder "
            "unset (and SMPL_MODEL_DIR unset) to use the procedural body.")


def resolve_model_file(model_path: str | Path) -> Path:
    """The SMPL_NEUTRAL.pkl that model_path names: the file itself, <dir>/SMPL_NEUTRAL.pkl or
    <dir>/smpl/SMPL_NEUTRAL.pkl. FileNotFoundError with the expected layout otherwise."""
    path = Path(model_path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"SMPL model folder not found: {path}. " + _guidance(path))
    for candidate in (path / FILE_NAME, path / "smpl" / FILE_NAME):
        if candidate.is_file():
            return candidate
    found = sorted(str(p.relative_to(path)) for p in list(path.glob("*.pkl")) + list(path.glob("smpl/*.pkl")))
    seen = f" It holds {', '.join(found[:6])}." if found else " It holds no .pkl file."
    raise FileNotFoundError(f"no {FILE_NAME} in {path}.{seen} " + _guidance(path))


def read_smpl_file(path: str | Path) -> dict:
    """Unpickle an SMPL model file (as smplx does) and check its keys and shapes; ValueError naming the file
    and what is wrong otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = pickle.load(f, encoding="latin1")
    except ModuleNotFoundError as e:
        raise ValueError(f"SMPL model file {path} needs the module '{e.name}' to unpickle. The original SMPL "
                         "downloads store chumpy arrays: `pip install chumpy`, or convert the file to plain numpy "
                         "arrays (smplx's tools/clean_ch.py does that).") from e
    except Exception as e:  # truncated, not a pickle, wrong protocol
        raise ValueError(f"SMPL model file {path} could not be unpickled ({type(e).__name__}: {str(e)[:200]}). "
                         + _guidance(path.parent)) from e
    if not isinstance(data, dict):
        raise ValueError(f"SMPL model file {path} holds a {type(data).__name__}, expected a dict with keys "
                         f"{', '.join(REQUIRED_KEYS)}.")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ValueError(f"SMPL model file {path} lacks the keys {', '.join(missing)} (an SMPL file needs "
                         f"{', '.join(REQUIRED_KEYS)}; found {', '.join(sorted(map(str, data))[:12]) or 'none'}).")
    shape = {k: tuple(getattr(data[k], "shape", np.shape(data[k]))) for k in REQUIRED_KEYS}
    n_verts = shape["v_template"][0] if len(shape["v_template"]) == 2 else -1
    expected = {"v_template": (n_verts, 3), "posedirs": (n_verts, 3, 207), "J_regressor": (N_JOINTS, n_verts),
                "weights": (n_verts, N_JOINTS), "kintree_table": (2, N_JOINTS)}
    bad = [f"{k} {shape[k]} (expected {v})" for k, v in expected.items() if shape[k] != v]
    if len(shape["shapedirs"]) != 3 or shape["shapedirs"][:2] != (n_verts, 3):
        bad.append(f"shapedirs {shape['shapedirs']} (expected ({n_verts}, 3, n_betas))")
    if len(shape["f"]) != 2 or shape["f"][1] != 3:
        bad.append(f"f {shape['f']} (expected (n_faces, 3))")
    if bad:
        raise ValueError(f"SMPL model file {path} has arrays of the wrong shape: {'; '.join(bad)}.")
    return data


def procedural_vertex_ids(v_template: np.ndarray, joints: np.ndarray) -> dict:
    """Vertex ids for smplx's extra joints (face, feet, fingertips) on a small mesh: the vertex nearest to a
    landmark placed near the matching joint. smplx's defaults index SMPL's 6890-vertex mesh (ids up to 6787)
    and would fail on a smaller one."""
    j = {name: joints[i] for i, name in enumerate(JOINT_NAMES)}
    landmarks = {
        "nose": j["head"] + (0.0, 0.02, 0.10), "reye": j["head"] + (-0.03, 0.05, 0.08),
        "leye": j["head"] + (0.03, 0.05, 0.08), "rear": j["head"] + (-0.08, 0.03, 0.0),
        "lear": j["head"] + (0.08, 0.03, 0.0),
    }
    for side, s in (("l", 1.0), ("r", -1.0)):
        name = "left" if side == "l" else "right"
        hand, wrist = j[f"{name}_hand"], j[f"{name}_wrist"]
        for i, tip in enumerate(("thumb", "index", "middle", "ring", "pinky")):
            landmarks[side + tip] = hand + (hand - wrist) + (0.0, 0.0, 0.02 * (2 - i))
        side_u = side.upper()
        landmarks[f"{side_u}BigToe"] = j[f"{name}_foot"] + (-0.02 * s, 0.0, 0.05)
        landmarks[f"{side_u}SmallToe"] = j[f"{name}_foot"] + (0.03 * s, 0.0, 0.04)
        landmarks[f"{side_u}Heel"] = j[f"{name}_ankle"] + (0.0, -0.05, -0.06)
    return {k: int(np.argmin(np.linalg.norm(v_template - np.asarray(p)[None], axis=1)))
            for k, p in landmarks.items()}


def _default_cache() -> Path:
    return Path(os.environ.get("LLCORE_CACHE") or Path(tempfile.gettempdir()) / "llcore")


def load_body(model_dir: str | Path | None = None, cache_dir: str | Path | None = None):
    """(smplx.SMPL model, info). model_dir (else $SMPL_MODEL_DIR): a folder with SMPL_NEUTRAL.pkl (or smpl/
    SMPL_NEUTRAL.pkl) or the file itself. Neither set: the procedural body, written to cache_dir (default
    $LLCORE_CACHE/procedural_smpl, else <temp dir>/llcore/procedural_smpl) when missing or when its bytes differ
    from what the generator makes now.

    info: source ("real" | "procedural"), path, sha256 (of the file), n_vertices, n_joints (24), units
    ("metres"), joint_names, parents.
    """
    import smplx
    model_dir = model_dir if model_dir not in (None, "") else os.environ.get("SMPL_MODEL_DIR") or None
    if model_dir is None:
        folder = Path(cache_dir) if cache_dir is not None else _default_cache() / "procedural_smpl"
        data = procedural_smpl_bytes()
        path = folder / FILE_NAME
        if not path.is_file() or path.read_bytes() != data:
            write_procedural_smpl(folder)
    else:
        path = resolve_model_file(model_dir)
    raw = path.read_bytes()
    arrays = read_smpl_file(path)
    procedural = str(arrays.get("generator", "")).startswith(GENERATOR_TAG)

    kwargs = {}
    if procedural or arrays["v_template"].shape[0] < 6890:
        v = np.asarray(arrays["v_template"], dtype=np.float64)
        reg = arrays["J_regressor"]
        reg = reg.toarray() if hasattr(reg, "toarray") else np.asarray(reg)
        kwargs["vertex_ids"] = procedural_vertex_ids(v, reg @ v)
    with contextlib.redirect_stdout(io.StringIO()):     # smplx prints a warning about 10 shape coefficients
        model = smplx.SMPL(model_path=str(path), gender="neutral", **kwargs)
    model.eval()
    info = {"source": "procedural" if procedural else "real", "path": str(path),
            "sha256": hashlib.sha256(raw).hexdigest(), "n_vertices": int(model.get_num_verts()),
            "n_joints": N_JOINTS, "units": UNITS, "joint_names": list(JOINT_NAMES), "parents": list(PARENTS)}
    return model, info
