"""Optimizers that update parameters in place (SGD, Adam, AdamW, RMSprop, Adagrad), PyTorch's
learning-rate schedulers (`optim.lr_scheduler`), and the app's stateless schedules (`schedules`)."""
from tinygrad_np.optim import lr_scheduler
from tinygrad_np.optim.adagrad import Adagrad
from tinygrad_np.optim.adam import Adam, AdamW
from tinygrad_np.optim.optimizer import Optimizer
from tinygrad_np.optim.rmsprop import RMSprop
from tinygrad_np.optim.schedules import CosineAnnealing, Schedule, StepDecay
from tinygrad_np.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler",
           "Schedule", "StepDecay", "CosineAnnealing"]
