"""Optimizers (SGD, Adam, AdamW) that update parameters in place, and learning-rate schedules."""
from tinygrad_np.optim.adam import Adam, AdamW
from tinygrad_np.optim.optimizer import Optimizer
from tinygrad_np.optim.schedules import CosineAnnealing, Schedule, StepDecay
from tinygrad_np.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Schedule", "StepDecay", "CosineAnnealing"]
