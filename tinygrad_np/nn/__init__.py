"""Neural-network building blocks: Module, layers, initializers and functional ops."""
from tinygrad_np.nn import functional, init
from tinygrad_np.nn.layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_np.nn.module import Module, ModuleDict, ModuleList, Parameter

__all__ = ["Module", "Parameter", "ModuleList", "ModuleDict", "Linear", "Sequential", "ReLU", "Sigmoid",
           "Tanh", "Dropout", "functional", "init"]
