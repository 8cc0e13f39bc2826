"""llcore: landscape learning for neural network inversion (Liu, Mao, Tendulkar, Wang, Vondrick; ICCV 2023).

Public API:
    Problem                      the frozen forward model F, a per-target loss, x's shape   (problem.py)
    make_mapping, ResidualMLP…   θ: Z → X                                                    (mapping.py)
    invert, Record, RefineInX    the one inversion loop, in X, in Z, or Z then X             (inversion.py)
    ReplayBuffer                 experience replay of (z_t, y)                               (buffer.py)
    Trainer, TrainConfig         coordinate descent on θ                          (trainer.py, config.py)
    ShardedTrainer               the same with data-parallel shards (shards.py; distributed.py: torchrun)
    metrics, sweep               speed-ups (curve-level and per target), learning-rate sweeps on validation targets
    fair_comparison, compare     landscape against the strongest descent in X (Adam variants, gradient descent,
                                 per-target L-BFGS; lrs and starts chosen on validation targets)   (compare.py)
    Regressor, train_amortized   an amortized start E(y) trained by the problem's objective (amortized.py), and
    amortized_comparison         landscape, with refinement in X or from E(y), against descent in X from E(y)
    landscape                    loss slices around a solution and smoothness measures, in X or Z  (landscape.py)
    save_theta, load_theta       a trained θ saved with its recipe, rebuilt alone          (checkpoint.py)
    checkpoint, seeding          atomic files and clear load errors; seeds and the device

This is the engine (torch, numpy, tqdm), all that `pip install .` installs. The repository that reproduces the
paper adds two layers on top of it, each importing only from the ones before it and installed only by its
editable reproduction install: the paper's forward models and their data (the `tasks` subpackage), and the
reproduction harness (the `repro` subpackage: notebook runner, results files, cache, assets, comparisons).
"""
__version__ = "0.1.0"

from . import checkpoint, compare, landscape, metrics, seeding, sweep
from .buffer import ReplayBuffer
from .checkpoint import load_theta, save_theta
from .compare import fair_comparison
from .compare_amortized import amortized_comparison, amortized_plan
from .amortized import Regressor, as_start, train_amortized
from .inversion import Record, RefineInX, invert, lift, starting_point
from .mapping import MLP, Identity, Mapping, ResidualMLP, make_mapping
from .optim import InnerOptimizer
from .problem import Problem, box_projection, linf_projection, normal_init, zeros_init
from .config import TrainConfig
from .shards import ShardedTrainer
from .trainer import Trainer, TrainingDiverged

__all__ = ["ReplayBuffer", "fair_comparison", "amortized_comparison", "amortized_plan", "Regressor", "train_amortized", "as_start", "save_theta", "load_theta", "Record", "RefineInX", "invert", "lift", "starting_point", "MLP", "Identity", "Mapping", "ResidualMLP",
           "make_mapping", "InnerOptimizer", "Problem", "box_projection", "linf_projection", "normal_init",
           "zeros_init", "TrainConfig", "Trainer", "ShardedTrainer", "TrainingDiverged"]
