"""llcore: landscape learning for neural network inversion (Liu, Mao, Tendulkar, Wang, Vondrick; ICCV 2023).

Public API:
    Problem                      the frozen forward model F, a per-target loss, x's shape   (problem.py)
    make_mapping, ResidualMLP…   θ: Z → X                                                    (mapping.py)
    invert, Record               the one inversion loop, in X or in Z                        (inversion.py)
    ReplayBuffer                 experience replay of (z_t, y)                               (buffer.py)
    Trainer, TrainConfig         coordinate descent on θ                                     (trainer.py)
    metrics, sweep               speed-ups of ../shared/RESULTS.md, learning-rate sweeps
    landscape                    loss slices around a solution and smoothness measures, in X or Z  (landscape.py)
"""
__version__ = "0.1.0"

from .buffer import ReplayBuffer
from .inversion import Record, invert, starting_point
from .mapping import MLP, Identity, Mapping, ResidualMLP, make_mapping
from .optim import InnerOptimizer
from .problem import Problem, box_projection, linf_projection, normal_init, zeros_init
from .trainer import TrainConfig, Trainer, TrainingDiverged

__all__ = ["ReplayBuffer", "Record", "invert", "starting_point", "MLP", "Identity", "Mapping", "ResidualMLP",
           "make_mapping", "InnerOptimizer", "Problem", "box_projection", "linf_projection", "normal_init",
           "zeros_init", "TrainConfig", "Trainer", "TrainingDiverged"]
