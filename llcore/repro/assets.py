"""The real assets that paper-scale runs read, and a check that they exist before any notebook runs.

ASSETS is a table: each entry names a file the user must supply (licences or size keep it out of the repo),
the notebook and parameter that hold its path, where it goes by default and how to get it. Given the planned
runs (notebook stem, run label, parameters), `missing` returns every asset a run needs whose file is not
there, and `report` turns them into one list, so `./run_all.sh --profile paper` stops before executing anything.

Paths in asset parameters may use $VARS and ~; relative paths are taken from the repository root.
$LLCORE_ASSETS defaults to <repo>/assets (git-ignored) and $TORCH_HOME to torch's own default, so the paper
profile's `$LLCORE_ASSETS/smpl` works as is and the whole folder moves with one environment variable.

To add an asset, add one Asset row; `when` says which
runs need it (default: every run of its notebook that sets the parameter), `accepts` which files inside a
folder count as present. Only existence is checked: loaders (gan.load_custom_generator, body.load_body, ...)
still validate contents.

    python -m llcore.repro.assets     lists every asset, where it is expected and whether it is there
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from llcore.repro.paths import repo_root
from llcore.tasks.cifar import robustbench_how
from llcore.tasks.gan import is_factory_spec

# helpers

REPO_ROOT = repo_root()
VAR = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def default_env(repo_root: Path) -> dict:
    """The variables asset paths may use when the environment does not set them."""
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return {"LLCORE_ASSETS": str(repo_root / "assets"), "TORCH_HOME": str(Path(xdg) / "torch")}


def expand(value: str, repo_root: Path = REPO_ROOT) -> Path:
    """An asset path as runs see it: $VARS (environment first, then default_env) and ~ expanded, relative
    paths taken from the repository root. An unknown $VAR is left as written, so the message shows it."""
    env = {**default_env(repo_root), **os.environ}
    text = VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), str(value))
    path = Path(text).expanduser()
    return path if path.is_absolute() else repo_root / path


def sets(param: str) -> Callable[[dict], bool]:
    """`when` for the common case: a run needs the asset if it sets the parameter to a non-empty value."""
    return lambda params: bool(params.get(param))


# the table

@dataclass(frozen=True)
class Asset:
    """A file a run needs that the repository cannot ship."""

    name: str                          # what the user looks for, e.g. "SMPL_NEUTRAL.pkl"
    notebook: str                      # stem of the notebook whose runs read it ("" = none yet)
    param: str                         # the parameter holding its path ("" = found by `default` alone)
    default: str                       # where it goes: the value the paper profile gives `param`
    how: str                           # how to get it; "{path}" is replaced by the expected path
    accepts: tuple = ("",)             # files relative to the path, any one of which counts ("" = the path)
    when: Callable[[dict], bool] | None = None   # whether a run with these parameters needs it

    def needed(self, params: dict) -> bool:
        if not self.notebook or not self.param:
            return False
        return (self.when or sets(self.param))(params)

    def found(self, path: Path) -> bool:
        return any((path / inside).is_file() for inside in self.accepts)


ASSETS = (
    Asset(
        name="StyleGAN-class generator as TorchScript",
        notebook="01_gan_inversion", param="custom_generator", default="$LLCORE_ASSETS/stylegan/generator.pt",
        how="load a pretrained generator (e.g. an FFHQ pickle of NVIDIA's stylegan2-ada-pytorch or stylegan3) on a "
            "machine with its code, wrap it so a (B, 512) latent gives (B, 3, H, W) images, and save "
            "torch.jit.trace(wrapper, z) to {path} (README, 'Paper scale on a GPU')",
        when=lambda p: p.get("generator") == "custom" and bool(p.get("custom_generator"))
        and not is_factory_spec(p["custom_generator"]),
    ),
    Asset(
        name="SMPL_NEUTRAL.pkl",
        notebook="03_human_pose", param="smpl_model_dir", default="$LLCORE_ASSETS/smpl",
        how="register at https://smpl.is.tue.mpg.de, download 'SMPL for Python', and copy its neutral model "
            "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl to {path}/SMPL_NEUTRAL.pkl (if it stores chumpy "
            "arrays: pip install chumpy)",
        accepts=("SMPL_NEUTRAL.pkl", "smpl/SMPL_NEUTRAL.pkl", ""),     # as body.resolve_model_file reads it
    ),
    Asset(
        name="CIFAR-10, python version (cifar-10-batches-py)",
        notebook="02_adversarial_defense", param="cifar_dir", default="$LLCORE_ASSETS/cifar10",
        how="download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and unpack it in {path} "
            "(tar xzf ... -C {path}), giving {path}/cifar-10-batches-py/",
        accepts=("cifar-10-batches-py/test_batch",),
    ),
    *(Asset(
        name=f"RobustBench CIFAR-10 Linf checkpoint {model} ({arch})",
        notebook="02_adversarial_defense", param="robustbench_dir", default="$LLCORE_ASSETS/robustbench",
        how=robustbench_how(model, "{path}"),
        accepts=(f"cifar10/Linf/{model}.pt",),
        when=lambda p, model=model: bool(p.get("robustbench_dir")) and f"robustbench:{model}" in (p.get("backbones") or []),
    ) for model, arch in (("Standard", "WRN-28-10"), ("Carmon2019Unlabeled", "WRN-28-10"),
                          ("Zhang2019Theoretically", "WRN-34-10, TRADES"))),
    Asset(
        name="LPIPS AlexNet trunk (alexnet-owt-7be5be79.pth)",
        notebook="", param="", default="$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth",
        how="download https://download.pytorch.org/models/alexnet-owt-7be5be79.pth to {path}; read by "
            "llcore.tasks.perceptual.lpips_distance. Optional: 01 reports LPIPS for colour generators when "
            "this file is there (parameter perceptual: auto), else the EffNet-Lite0 feature distance under its own name",
    ),
)


# the check

@dataclass
class Missing:
    """An asset that planned runs need and that is not at `path`."""

    asset: Asset
    path: Path
    runs: list[str]


def resolve(stem: str, params: dict, repo_root: Path = REPO_ROOT) -> dict:
    """`params` with the path of every asset a run of `stem` needs made absolute (what the notebook gets)."""
    out = dict(params)
    for a in ASSETS:
        if a.notebook == stem and a.needed(params):
            out[a.param] = str(expand(params[a.param], repo_root))
    return out


def missing(planned: Iterable[tuple[str, str, dict]], repo_root: Path = REPO_ROOT) -> list[Missing]:
    """The assets that the planned runs, (notebook stem, run label, parameters) each, need and lack; one entry
    per asset and path, naming every run that needs it."""
    found: dict[tuple[str, Path], Missing] = {}
    for stem, label, params in planned:
        for a in ASSETS:
            if a.notebook != stem or not a.needed(params):
                continue
            path = expand(params[a.param], repo_root)
            if not a.found(path):
                found.setdefault((a.name, path), Missing(a, path, [])).runs.append(label)
    return list(found.values())


def where(asset: Asset, path: Path) -> str:
    """The expected file, with the alternatives `accepts` allows (a folder's files; the path itself if none)."""
    first, *others = [path / inside for inside in asset.accepts if inside] or [path]
    return str(first) + (f" (or {', '.join(str(p) for p in others)})" if others else "")


def report(lacking: list[Missing]) -> str:
    """One message listing every missing asset: who needs it, where it is expected, how to get it."""
    lines = [f"{len(lacking)} asset(s) that the planned runs need are missing; no notebook was run."]
    for m in lacking:
        a = m.asset
        lines += [f"  - {a.name}: needed by {', '.join(m.runs)}, parameter {a.param}",
                  f"      expected at {where(a, m.path)}",
                  f"      get it: {a.how.format(path=m.path)}"]
    lines.append("Put each file there, set LLCORE_ASSETS to a folder laid out like assets/, or point a run "
                 "elsewhere with -p PARAMETER PATH (see README, 'Paper scale on a GPU').")
    return "\n".join(lines)


def status(repo_root: Path = REPO_ROOT) -> str:
    """Every asset at its default location: found or missing, who reads it, how to get it."""
    lines = []
    for a in ASSETS:
        path = expand(a.default, repo_root)
        state = "found" if a.found(path) else "missing"
        user = f"read by {a.notebook}, parameter {a.param}" if a.notebook else "read by no notebook yet"
        lines += [f"{state:8} {a.name}: {where(a, path)}", f"         {user}; get it: {a.how.format(path=path)}"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(status())
