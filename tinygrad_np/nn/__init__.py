"""Neural-network building blocks: Module, layers, initializers, functional ops and gradient clipping."""
from tinygrad_np.nn import functional, init, utils
from tinygrad_np.nn.layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_np.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Linear", "Sequential", "ReLU", "Sigmoid", "Tanh", "Dropout",
           "functional", "init", "utils"]
