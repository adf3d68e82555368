"""Neural-network building blocks: Module, layers, initializers and functional ops."""
from tinygrad_np.nn import functional, init
from tinygrad_np.nn.layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_np.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from tinygrad_np.nn.module import Module, ModuleDict, ModuleList, Parameter
from tinygrad_np.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = ["Module", "Parameter", "ModuleList", "ModuleDict", "Linear", "Sequential", "ReLU", "Sigmoid",
           "Tanh", "Dropout", "functional", "init",
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "KLDivLoss", "BatchNorm1d", "BatchNorm2d", "LayerNorm"]
