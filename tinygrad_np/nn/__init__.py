"""Neural-network building blocks: Module, layers, initializers and functional ops."""
from tinygrad_np.nn import functional, init
from tinygrad_np.nn.conv import Conv2d
from tinygrad_np.nn.flatten import Flatten
from tinygrad_np.nn.layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_np.nn.module import Module, ModuleDict, ModuleList, Parameter
from tinygrad_np.nn.pooling import AvgPool2d, MaxPool2d

__all__ = ["Module", "Parameter", "ModuleList", "ModuleDict", "Linear", "Sequential", "ReLU", "Sigmoid",
           "Tanh", "Dropout", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "functional", "init"]
