"""Batch and layer normalization, as functions (nn.functional) and layers (nn), with PyTorch's
arguments and semantics: (x - mean) / sqrt(var + eps), then an optional per-feature scale and
shift. Batch norm in training mode is one primitive (ops/normalization.py); in eval mode, and
layer norm, are compositions of primitive ops, whose gradient comes from the graph.
"""
from typing import Optional

import numpy as np

from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.nn.module import Module, Parameter
from tinygrad_np.ops.normalization import BatchNorm
from tinygrad_np.tensor import Tensor, lift


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (axis 1 of (N, C, ...)) over the batch and every other axis.

    training=True: by the batch's mean and (biased) variance, and, when given, `running_mean` and
    `running_var` are updated in place: r = (1 - momentum) r + momentum * s, with the unbiased
    variance for `running_var`, as PyTorch does. training=False: by the running statistics.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: input of shape {input.shape} needs a batch and a channel axis (N, C, ...)")
    channels = input.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                        ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise ShapeError(f"batch_norm: {name} has shape {value.shape}, input of shape {input.shape} "
                             f"has {channels} channels")
    if training:
        if input.size // channels < 2:
            raise ShapeError("batch_norm: training needs more than one value per channel, "
                             f"input has shape {input.shape}")
        affine = [lift(value, input) for value in (weight, bias) if value is not None]
        return BatchNorm.apply(input, *affine, with_weight=weight is not None, with_bias=bias is not None,
                               eps=eps, momentum=momentum, running_mean=_buffer(running_mean),
                               running_var=_buffer(running_var))
    if running_mean is None or running_var is None:
        raise ArgumentError("batch_norm: running_mean and running_var are needed when training=False")
    per_channel = (1, channels) + (1,) * (input.ndim - 2)
    mean, variance = (_array(stat).reshape(per_channel) for stat in (running_mean, running_var))
    normalized = (input - mean) * (variance + eps) ** -0.5
    return _scale_and_shift(normalized, weight, bias, per_channel)


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) axes, which must have that shape (as PyTorch);
    `weight` and `bias` have `normalized_shape` too."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    trailing = input.shape[input.ndim - len(normalized_shape):] if len(normalized_shape) <= input.ndim else None
    if not normalized_shape or trailing != normalized_shape:
        raise ShapeError(f"layer_norm: normalized_shape {normalized_shape} does not match the last axes of "
                         f"input of shape {input.shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != normalized_shape:
            raise ShapeError(f"layer_norm: {name} has shape {value.shape}, normalized_shape is {normalized_shape}")
    normalized = _normalize(input, tuple(range(-len(normalized_shape), 0)), eps)
    return _scale_and_shift(normalized, weight, bias, normalized_shape)


def _normalize(input: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased variance."""
    centered = input - input.mean(axis=axes, keepdims=True)
    return centered * ((centered * centered).mean(axis=axes, keepdims=True) + eps) ** -0.5


def _scale_and_shift(normalized: Tensor, weight, bias, shape: tuple) -> Tensor:
    if weight is not None:
        normalized = normalized * weight.reshape(shape)
    return normalized if bias is None else normalized + bias.reshape(shape)


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _buffer(running) -> Optional[np.ndarray]:
    """The array a running statistic is updated in, in place (None stays None)."""
    return None if running is None else _array(running)


class _BatchNorm(Module):
    """Batch norm's layer: a learned scale (`weight`, ones) and shift (`bias`, zeros) per channel,
    and the buffers `running_mean`, `running_var` and `num_batches_tracked`, which are saved in
    state_dict, updated by each call in train() mode and used in eval() mode. momentum=None
    averages every batch equally (a cumulative mean), as PyTorch does."""

    input_dims: tuple  # the input ranks the layer accepts
    expected_input: str  # those ranks in words, for the error
    running_mean: Optional[np.ndarray]  # buffers (None without track_running_stats)
    running_var: Optional[np.ndarray]
    num_batches_tracked: Optional[np.ndarray]

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=np.float32):
        if num_features < 1:
            raise ValueError(f"{type(self).__name__} needs num_features >= 1, got {num_features}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features), dtype=dtype) if affine else None
        self.bias = Parameter(np.zeros(num_features), dtype=dtype) if affine else None
        tracked = track_running_stats  # the buffers are None without it
        self.register_buffer("running_mean", np.zeros(num_features, dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, np.int64) if tracked else None)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self.input_dims or input.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected input {self.expected_input} with "
                             f"C = {self.num_features} channels, got shape {input.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:  # tracking running statistics
            self.num_batches_tracked += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked)
        use_batch_statistics = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch_statistics,
                          momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs (features, or channels of sequences)."""
    input_dims, expected_input = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) images, one mean and variance per channel."""
    input_dims, expected_input = (4,), "(N, C, H, W)"


class LayerNorm(Module):
    """Layer norm over the last axes (`normalized_shape`), with a learned elementwise scale and
    shift of that shape (elementwise_affine=True; bias=False drops the shift)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=np.float32):
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(np.ones(shape), dtype=dtype) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape), dtype=dtype) if elementwise_affine and bias else None

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
