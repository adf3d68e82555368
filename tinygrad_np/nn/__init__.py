"""Neural-network building blocks: Module, layers, initializers, functional ops and gradient clipping."""
from tinygrad_np.nn import functional, init, utils
from tinygrad_np.nn.activation import ELU, GELU, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish, ReLU6, SiLU, Softplus
from tinygrad_np.nn.conv import Conv2d
from tinygrad_np.nn.embedding import Embedding
from tinygrad_np.nn.flatten import Flatten
from tinygrad_np.nn.layers import Dropout, Identity, Linear, ReLU, Sequential, Sigmoid, Tanh
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
from tinygrad_np.nn.pooling import AvgPool2d, MaxPool2d

__all__ = ["Module", "Parameter", "ModuleList", "ModuleDict", "Linear", "Sequential", "ReLU", "Sigmoid",
           "Tanh", "Dropout", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "functional", "init", "utils",
           "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus", "ReLU6", "Hardtanh", "Hardswish", "Mish", "LogSigmoid",
           "Embedding", "Identity",
           "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "KLDivLoss", "BatchNorm1d", "BatchNorm2d", "LayerNorm"]
