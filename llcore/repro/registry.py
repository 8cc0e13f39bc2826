"""The experiments, written once: what the results index, the claims table, the status table and the benchmark read.

Adding an experiment is its notebook (`notebooks/NN_<stem>.ipynb`), its params files, its task module and one
`Experiment` entry below; a test checks that every notebook has an entry and every entry a notebook. The order of
`EXPERIMENTS` is the order of every document (results index, claims columns, status rows).

This module imports nothing from llcore: everything above it may read it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of the claims table: an experiment (or one problem of 04), the splits its rules read, and the
    tables (under results/<profile>/<experiment>/) where the numbers are."""
    title: str
    experiment: str
    main: str | None = None                  # in-distribution split (claims 1, 2, 4, 5)
    also: tuple[str, ...] = ()               # the same rules on these splits, shown after the verdict
    ood: str | None = None                   # claim 3
    ood_also: tuple[str, ...] = ()
    curves_table: str = "metrics.json"       # where curves at each step are tabulated
    speedups_table: str = "metrics.json"
    landscape_problem: str | None = None     # claim 6: 05's problem
    ablation_problem: str | None = None      # claims 1, 5, 7, 8 from 04's variants
    strongest_baseline: bool = True          # claim 9: read the controls `strongest_x_10`, `landscape_10`
    start_control: str | None = "theta_start"  # claim 10: the method that descends in X from θ(z₀)
    scaling_problem: str | None = None       # claim 11: the problem's name in the θ-compute study (theta_scaling)


@dataclass(frozen=True)
class Experiment:
    """One experiment: results/<profile>/<name>/ written by notebooks/<notebook>.ipynb (its params run `run`)."""
    name: str                                # the results folder
    notebook: str                            # the notebook's stem
    label: str                               # its link text in the status table
    shows: str = ""                          # what the notebook shows, one line (on its first experiment)
    run: str | None = None                   # the run of the params file that writes it (None: the only one)
    columns: tuple[Column, ...] = ()         # its claims-table columns
    bench: tuple[str, int] | None = None     # benchmarks/bench.py's builder of its F, and the batch timed


PROFILE = "default"                # the committed profile every generated document reads

EXPERIMENTS = (
    Experiment("toy", "00_toy", "toy", "the method end to end on a synthetic decoder; the landscape drawn in 2-D",
               columns=(Column("toy (00)", "toy", "test_in", ood="test_ood", curves_table="tables/curves.md",
                               speedups_table="tables/speedups.md", landscape_problem="toy", scaling_problem="toy"),),
               bench=("toy", 256)),
    Experiment("gan_inversion", "01_gan_inversion", "MNIST",
               "inverting an MNIST DCGAN trained here and a shipped 64x64 face DCGAN; encoder and random-θ controls",
               run="mnist",
               columns=(Column("MNIST GAN (01)", "gan_inversion", "test_in", ood="test_ood",
                               curves_table="tables/mse.md", speedups_table="tables/speedups.md",
                               landscape_problem="gan", scaling_problem="mnist"),),
               bench=("mnist_gan", 64)),
    Experiment("gan_inversion_faces", "01_gan_inversion", "faces", run="faces",
               columns=(Column("faces GAN (01)", "gan_inversion_faces", "test_in", ood="test_ood",
                               ood_also=("test_real",), curves_table="tables/mse.md",
                               speedups_table="tables/speedups.md", scaling_problem="faces"),),
               bench=("face_gan", 64)),
    Experiment("adversarial_defense", "02_adversarial_defense", "defense",
               "reversing PGD attacks with a self-supervised loss on MNIST (not CIFAR-10) for standard, PGD-AT and "
               "TRADES CNNs; APGD and an adaptive attack",
               columns=(Column("defense (02)", "adversarial_defense", "standard", also=("pgd_at", "trades"),
                               curves_table="tables/accuracy.md"),),
               bench=("reversal", 64)),
    Experiment("human_pose", "03_human_pose", "pose",
               "SMPL-format pose from 2-D keypoints (a procedural body unless real SMPL files are given)",
               columns=(Column("pose (03)", "human_pose", "test_in", also=("test_in_objective",), ood="test_ood",
                               ood_also=("test_ood_objective",), curves_table="tables/curves.md",
                               speedups_table="tables/speedups.md", landscape_problem="pose",
                               scaling_problem="pose"),),
               bench=("pose", 64)),
    Experiment("ablations", "04_ablations", "ablations",
               "replay, trajectory loss, unrolled training (time, memory), T, dim Z, θ size, buffer, K, test lr; "
               "reduced scale",
               columns=(Column("ablations, MNIST GAN (04)", "ablations", "gan_test_in", ablation_problem="gan"),
                        Column("ablations, pose (04)", "ablations", "pose_test_in_objective",
                               ablation_problem="pose"))),
    Experiment("landscape", "05_landscape", "landscape",
               "loss slices in X and Z and smoothness measures for the toy, MNIST GAN and pose problems"),
    Experiment("your_problem", "06_your_problem", "your problem",
               "a worked example on a forward model from outside the paper (a pendulum simulator), read on medians "
               "and with the controls",
               columns=(Column("your problem (06)", "your_problem", "test_in", ood="test_ood",
                               curves_table="tables/curves.md", speedups_table="tables/speedups.md"),)),
    Experiment("theta_compute", "07_theta_compute", "θ compute",
               "whether the gain over the strongest descent in X grows with θ's training compute (reads the θ-compute "
               "study)"),
)

ORDER = tuple(e.name for e in EXPERIMENTS)                       # results folders, in the documents' order
COLUMNS = tuple(c for e in EXPERIMENTS for c in e.columns)       # the claims table's columns, left to right
BENCH = {e.name: e.bench for e in EXPERIMENTS if e.bench}        # {experiment: (bench.py builder, batch)}


@dataclass(frozen=True)
class Notebook:
    """One notebook as the status table shows it."""
    stem: str                                # notebooks/<stem>.ipynb
    shows: str                               # what it shows, in one line
    results: tuple                           # ((label, experiment folder under results/<profile>/), ...)


def notebooks() -> tuple[Notebook, ...]:
    """The notebooks in order, each with the experiments it writes."""
    stems = dict.fromkeys(e.notebook for e in EXPERIMENTS)
    return tuple(Notebook(s, next(e.shows for e in EXPERIMENTS if e.notebook == s and e.shows),
                          tuple((e.label, e.name) for e in EXPERIMENTS if e.notebook == s)) for s in stems)


def experiment(name: str) -> Experiment:
    """The entry of results folder `name`; KeyError naming the known ones."""
    for e in EXPERIMENTS:
        if e.name == name:
            return e
    raise KeyError(f"no experiment {name!r} in llcore.repro.registry; known: {', '.join(ORDER)}")
