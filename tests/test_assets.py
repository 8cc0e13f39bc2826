"""The asset check: `--profile paper` stops before running anything when a real asset is missing, and lists it."""
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from llcore.repro import assets, runner

ROOT = Path(__file__).resolve().parents[1]
PAPER_FILES = [  # what the paper profile reads, relative to $LLCORE_ASSETS
    ("01_gan_inversion", "stylegan/generator.pt"),
    ("02_adversarial_defense", "cifar10/cifar-10-batches-py/test_batch"),
    *(("02_adversarial_defense", f"robustbench/cifar10/Linf/{m}.pt")
      for m in ("Standard", "Carmon2019Unlabeled", "Zhang2019Theoretically")),
    ("03_human_pose", "smpl/SMPL_NEUTRAL.pkl"),
]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A copy of the repo's notebooks and parameter files, with no assets and $LLCORE_ASSETS unset."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    monkeypatch.delenv("LLCORE_ASSETS", raising=False)
    return tmp_path


def injected_parameters(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))


def test_paper_profile_without_assets_lists_each_missing_file_and_runs_nothing(repo, capsys):
    assert runner.main(["--profile", "paper"], repo_root=repo) == 2
    err = capsys.readouterr().err
    assert f"{len(PAPER_FILES)} asset(s) that the planned runs need are missing; no notebook was run." in err
    for stem, file in PAPER_FILES:
        assert f"needed by {stem}" in err and str(repo / "assets" / file) in err
    assert "https://smpl.is.tue.mpg.de" in err and "torch.jit.trace" in err
    assert not (repo / "runs").exists() and not (repo / "results").exists(), "no notebook was executed"


def test_paper_profile_passes_when_the_files_exist_and_notebooks_get_absolute_paths(repo, monkeypatch):
    store = repo / "elsewhere"
    for _, file in PAPER_FILES:                # existence is all that is checked: empty files do
        (store / file).parent.mkdir(parents=True, exist_ok=True)
        (store / file).write_bytes(b"")
    monkeypatch.setenv("LLCORE_ASSETS", str(store))
    assert runner.main(["--profile", "paper", "--prepare-only"], repo_root=repo) == 0
    out = repo / "runs" / "paper"
    assert f'custom_generator = "{store / "stylegan" / "generator.pt"}"' in \
        injected_parameters(out / "01_gan_inversion__stylegan.ipynb")
    assert f'smpl_model_dir = "{store / "smpl"}"' in injected_parameters(out / "03_human_pose.ipynb")
    assert f'cifar_dir = "{store / "cifar10"}"' in injected_parameters(out / "02_adversarial_defense.ipynb")


def test_a_named_path_is_checked_in_any_profile_and_relative_paths_start_at_the_repo(repo, capsys):
    argv = ["--only", "03", "--prepare-only", "-p", "smpl_model_dir", "my_smpl"]
    assert runner.main(argv, repo_root=repo) == 2
    assert f"expected at {repo / 'my_smpl' / 'SMPL_NEUTRAL.pkl'}" in capsys.readouterr().err
    (repo / "my_smpl" / "smpl").mkdir(parents=True)
    (repo / "my_smpl" / "smpl" / "SMPL_NEUTRAL.pkl").write_bytes(b"")     # smplx.create's layout counts too
    assert runner.main(argv, repo_root=repo) == 0


@pytest.mark.parametrize("params, needed", [
    ({"generator": "custom", "custom_generator": "g.pt"}, True),
    ({"generator": "custom", "custom_generator": "my_pkg.gens:make"}, False),   # a factory, not a file
    ({"generator": "mnist", "custom_generator": "g.pt"}, False),                # ignored by the run
    ({"generator": "custom", "custom_generator": ""}, False),
])
def test_which_runs_need_the_generator_file(params, needed, tmp_path):
    lacking = assets.missing([("01_gan_inversion", "01", params)], tmp_path)
    assert bool(lacking) == needed


def test_expand_reads_variables_home_and_the_repo_root(tmp_path, monkeypatch):
    monkeypatch.delenv("LLCORE_ASSETS", raising=False)
    assert assets.expand("$LLCORE_ASSETS/smpl", tmp_path) == tmp_path / "assets" / "smpl"
    monkeypatch.setenv("LLCORE_ASSETS", "/data/a")
    assert assets.expand("${LLCORE_ASSETS}/smpl", tmp_path) == Path("/data/a/smpl")
    assert assets.expand("x/y", tmp_path) == tmp_path / "x" / "y"
    assert assets.expand("~/y", tmp_path) == Path.home() / "y"
    assert assets.expand("$NO_SUCH_VARIABLE_HERE/y", tmp_path) == tmp_path / "$NO_SUCH_VARIABLE_HERE" / "y"


def test_the_table_matches_the_notebooks_and_the_paper_profile():
    for a in assets.ASSETS:
        notebook = ROOT / "notebooks" / f"{a.notebook}.ipynb"
        if not a.notebook or not notebook.exists():    # e.g. 02_adversarial_defense before it is written
            continue
        assert a.param in papermill.inspect_notebook(str(notebook)), f"{a.notebook} declares no {a.param}"
        paper = yaml.safe_load((ROOT / "notebooks" / "params" / "paper" / f"{a.notebook}.yaml").read_text())
        values = [r.get(a.param) for r in paper.get("runs", [paper])]
        assert values and all(v == a.default for v in values), f"paper {a.notebook} puts {a.name} elsewhere"
