"""Losses, as torch.nn.functional and torch.nn have them: each one a function and a module, with
`reduction="mean" | "sum" | "none"` and PyTorch's argument names, defaults and formulas.

Every loss is a composition of primitive ops, except the plain `cross_entropy(logits, labels)`
(2-D logits, labels or probability rows, mean, no class weights, no smoothing, no ignored
label), which stays the fused `ops.softmax.CrossEntropy` node the MNIST app trains with.
Targets carry no gradient unless they are Tensors that require one (as in PyTorch).
"""
from typing import Callable, Optional

import numpy as np

from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.functional import where
from tinygrad_np.nn.module import Module
from tinygrad_np.ops.softmax import CrossEntropy
from tinygrad_np.tensor import Tensor, lift

REDUCTIONS = ("mean", "sum", "none")


# ---- classification -----------------------------------------------------------------------------
def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits `input` (N, C, d1, ...) or (C,), classes along axis 1.

    `target`: class indices of shape (N, d1, ...) (integers; whole-number floats are accepted,
    as Tensors hold floats), or class probabilities of the input's shape. `weight` (C,) scales
    each class, `ignore_index` labels add nothing, and "mean" divides by the summed weight of the
    labels kept (by N * d1 * ... for probabilities). `label_smoothing` e mixes the target with the
    uniform distribution: (1 - e) * target + e / C. Example: `cross_entropy(logits, labels)`.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must lie in [0, 1], got {label_smoothing}")
    _check_class_axis("cross_entropy", input)
    if input.ndim == 1:  # one unbatched sample (C,)
        loss = cross_entropy(input.reshape(1, -1), _batch_of_one(target), weight, ignore_index, reduction,
                             label_smoothing)
        return loss.reshape(()) if reduction == "none" else loss
    values = _values(target)
    probabilities = values.shape == input.shape
    fixed_target = not (isinstance(target, Tensor) and target.requires_grad)
    if (weight is None and reduction == "mean" and not label_smoothing and input.ndim == 2 and fixed_target
            and (probabilities or values.dtype.kind in "iu" and not _has_label(values, ignore_index))):
        return CrossEntropy.apply(input, targets=values)  # the fused op; it checks the labels' shape and range
    labels = None if probabilities else _class_indices("cross_entropy", target, input.shape, ignore_index)
    log_probs = input.log_softmax(axis=1)
    classes = input.shape[1]
    if labels is not None:
        return _class_index_loss("cross_entropy", log_probs, labels, weight, ignore_index, reduction, label_smoothing)
    rows = lift(target, input)
    if label_smoothing:
        rows = rows * (1 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        rows = rows * _class_weights("cross_entropy", weight, classes, input.dtype).reshape(_class_axis(input.ndim))
    return _reduce(-(log_probs * rows).sum(axis=1), reduction)


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities `input` (N, C, d1, ...) or (C,) at class
    indices `target` (N, d1, ...): -weight[t] * input[n, t, ...]; "mean" divides by the summed
    weight of the labels kept (those not equal to `ignore_index`), as PyTorch does."""
    _check_reduction("nll_loss", reduction)
    _check_class_axis("nll_loss", input)
    if input.ndim == 1:
        loss = nll_loss(input.reshape(1, -1), _batch_of_one(target), weight, ignore_index, reduction)
        return loss.reshape(()) if reduction == "none" else loss
    labels = _class_indices("nll_loss", target, input.shape, ignore_index)
    return _class_index_loss("nll_loss", input, labels, weight, ignore_index, reduction, 0.0)


def one_hot(labels, num_classes: int = -1) -> Tensor:
    """Rows of zeros with a one at each label, a new last axis of `num_classes` (-1: max label + 1).
    A float32 Tensor without gradient (tinygrad_np's tensors hold floats; PyTorch's is int64)."""
    labels = _whole_numbers("one_hot", _values(labels))
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    _check_label_range("one_hot", labels, num_classes)
    return Tensor(np.eye(num_classes, dtype=np.float32)[labels])


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; each log is taken as at
    least -100, as in PyTorch, so x = 0 or 1 gives a finite loss (and that log a zero gradient)."""
    _check_reduction("binary_cross_entropy", reduction)
    target = _same_shape_target("binary_cross_entropy", input, target)
    if np.any(input.data < 0) or np.any(input.data > 1):
        raise ArgumentError("binary_cross_entropy: every input must lie in [0, 1] (probabilities); "
                            "for logits use binary_cross_entropy_with_logits")
    loss = -(target * _log_at_least_minus_100(input) + (1 - target) * _log_at_least_minus_100(1 - input))
    return _reduce(loss if weight is None else loss * lift(weight, input), reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), t) computed from the logits x without forming sigmoid:
    (1 - t) x + (1 + (pos_weight - 1) t) log(1 + e^-x), finite for logits of any size.
    `pos_weight` (broadcast along the last axis, one per class) weighs the positive examples."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _same_shape_target("binary_cross_entropy_with_logits", input, target)
    positive_scale = 1 if pos_weight is None else 1 + (lift(pos_weight, input) - 1) * target
    loss = (1 - target) * input + positive_scale * _softplus(-input)
    return _reduce(loss if weight is None else loss * lift(weight, input), reduction)


def kl_div(input: Tensor, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with `input` as log-probabilities: target * (log target - input),
    0 where target is 0 (or, log_target=True, e^target * (target - input)). "mean" averages over
    every element, as PyTorch does; "batchmean" divides the sum by the batch size, the true KL."""
    if reduction != "batchmean":
        _check_reduction("kl_div", reduction)
    target = _same_shape_target("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target.data > 0
        loss = where(positive, target * where(positive, target, 1.0).log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ---- regression ---------------------------------------------------------------------------------
def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """(input - target)^2."""
    _check_reduction("mse_loss", reduction)
    return _reduce((input - _same_shape_target("mse_loss", input, target)) ** 2, reduction)


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """|input - target| (gradient 0 where they are equal, as abs'(0) = 0)."""
    _check_reduction("l1_loss", reduction)
    return _reduce((input - _same_shape_target("l1_loss", input, target)).abs(), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target."""
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be > 0, got {delta}")
    return _reduce(_huber(input - _same_shape_target("huber_loss", input, target), delta), reduction)


def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta: huber_loss(delta=beta) / beta;
    beta = 0 is l1_loss."""
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    difference = input - _same_shape_target("smooth_l1_loss", input, target)
    return _reduce(_huber(difference, beta) / beta if beta else difference.abs(), reduction)


# ---- modules ------------------------------------------------------------------------------------
class _Loss(Module):
    """A loss as a layer: `function`, the loss function of the same name, called with the
    attributes named in `settings` (as the activation layers do), so nn.HuberLoss(delta=0.5)(x, y)
    is huber_loss(x, y, delta=0.5)."""
    function: Callable  # a staticmethod in each subclass
    settings: tuple[str, ...] = ("reduction",)  # the function's keyword arguments, read from attributes

    def __init__(self, reduction: str = "mean"):
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target) -> Tensor:
        return self.function(input, target, **{name: getattr(self, name) for name in self.settings})

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with per-class weights, kept as a buffer named `weight` (as PyTorch does)."""
    weight: Optional[np.ndarray]
    settings: tuple[str, ...] = ("weight", "reduction")

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else np.array(_values(weight)))


class CrossEntropyLoss(_WeightedLoss):
    function, settings = staticmethod(cross_entropy), ("weight", "ignore_index", "reduction", "label_smoothing")

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing


class NLLLoss(_WeightedLoss):
    function, settings = staticmethod(nll_loss), ("weight", "ignore_index", "reduction")

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index


class BCELoss(_WeightedLoss):
    function = staticmethod(binary_cross_entropy)


class BCEWithLogitsLoss(_WeightedLoss):
    function, settings = staticmethod(binary_cross_entropy_with_logits), ("weight", "reduction", "pos_weight")
    pos_weight: Optional[np.ndarray]  # a buffer, as weight

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else np.array(_values(pos_weight)))


class KLDivLoss(_Loss):
    function, settings = staticmethod(kl_div), ("reduction", "log_target")

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        if reduction != "batchmean":
            _check_reduction("KLDivLoss", reduction)
        self.reduction, self.log_target = reduction, log_target


class MSELoss(_Loss):
    function = staticmethod(mse_loss)


class L1Loss(_Loss):
    function = staticmethod(l1_loss)


class HuberLoss(_Loss):
    function, settings = staticmethod(huber_loss), ("reduction", "delta")

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta


class SmoothL1Loss(_Loss):
    function, settings = staticmethod(smooth_l1_loss), ("reduction", "beta")

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta


# ---- shared pieces ------------------------------------------------------------------------------
def _check_class_axis(caller: str, input: Tensor) -> None:
    if input.ndim == 0:
        raise ShapeError(f"{caller}: input of shape () has no class axis; it needs (C,) or (N, C, ...)")


def _check_reduction(caller: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ArgumentError(f"{caller}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _values(x) -> np.ndarray:
    """The numbers of a Tensor or array-like, as an ndarray (no copy when possible)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _batch_of_one(target):
    """An unbatched target with a batch axis of 1 in front (a Tensor stays in its graph)."""
    return (target if isinstance(target, Tensor) else np.asarray(target))[None]


def _same_shape_target(caller: str, input: Tensor, target) -> Tensor:
    """The target as a Tensor of the input's shape. PyTorch broadcasts mismatched shapes for some
    losses (with a warning); (N, 1) against (N,) then silently gives an (N, N) loss, so refuse."""
    target = lift(target, input)
    if target.shape != input.shape:
        raise ShapeError(f"{caller}: target of shape {target.shape} for input of shape {input.shape}; "
                         "they must match")
    return target


def _whole_numbers(caller: str, values: np.ndarray) -> np.ndarray:
    """Integer labels; floats are accepted when every one is a whole number (Tensors hold floats)."""
    if values.dtype.kind in "iu":
        return values
    if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype(np.int64)
    raise ArgumentError(f"{caller}: class labels must be whole numbers, got {values.dtype} values")


def _check_label_range(caller: str, labels: np.ndarray, classes: int) -> None:
    if labels.size:
        low, high = labels.min(), labels.max()
        if low < 0 or high >= classes:
            raise ArgumentError(f"{caller}: labels must lie in [0, {classes}), got {low}..{high}")


def _class_indices(caller: str, target, input_shape: tuple, ignore_index: int) -> np.ndarray:
    """Class-index targets checked against logits of `input_shape` (N, C, d1, ...): shape
    (N, d1, ...), whole numbers in [0, C) except those equal to `ignore_index`."""
    labels = _values(target)
    expected = input_shape[:1] + input_shape[2:]
    if labels.shape != expected:
        raise ShapeError(f"{caller}: {labels.size} labels of shape {labels.shape} for input of shape {input_shape}; "
                         f"class indices need shape {expected}, probabilities the input's shape")
    labels = _whole_numbers(caller, labels)
    _check_label_range(caller, labels[labels != ignore_index], input_shape[1])
    return labels


def _has_label(labels: np.ndarray, label: int) -> bool:
    """Whether `label` occurs; unsigned labels cannot hold a negative one (the default ignore_index),
    which spares the plain cross_entropy a pass over them."""
    return not (label < 0 and labels.dtype.kind == "u") and bool((labels == label).any())


def _class_weights(caller: str, weight, classes: int, dtype) -> np.ndarray:
    weights = np.ones(classes, dtype) if weight is None else _values(weight).astype(dtype, copy=False)
    if weights.shape != (classes,):
        raise ShapeError(f"{caller}: weight of shape {weights.shape} for {classes} classes, "
                         f"it needs shape ({classes},)")
    return weights


def _class_axis(ndim: int) -> tuple:
    """The shape that lines a (C,) vector up with axis 1 of an ndim-D tensor."""
    return (1, -1) + (1,) * (ndim - 2)


def _class_index_loss(caller: str, log_probs: Tensor, labels: np.ndarray, weight, ignore_index: int,
                      reduction: str, smoothing: float) -> Tensor:
    """-sum_c rows[n, c, ...] log_probs[n, c, ...] with rows = w_c ((1 - e) [c == t] + e / C),
    zero for ignored labels; "mean" divides by sum of w_t over the labels kept (PyTorch's rule)."""
    classes = log_probs.shape[1]
    weights = _class_weights(caller, weight, classes, log_probs.dtype)
    kept = labels != ignore_index
    safe_labels = np.where(kept, labels, 0)
    rows = np.moveaxis(np.eye(classes, dtype=log_probs.dtype)[safe_labels], -1, 1) * (1 - smoothing)
    if smoothing:
        rows += smoothing / classes
    rows *= weights.reshape(_class_axis(log_probs.ndim)) * np.expand_dims(kept, 1)
    losses = -(log_probs * rows).sum(axis=1)
    if reduction == "mean":
        return losses.sum() / float(np.sum(weights[safe_labels] * kept))
    return _reduce(losses, reduction)


def _log_at_least_minus_100(x: Tensor) -> Tensor:
    """max(log x, -100), as PyTorch's binary_cross_entropy clamps it: log 0 gives -100, and where
    the clamp holds the gradient is 0 (log is never evaluated at 0, so no inf * 0)."""
    with np.errstate(divide="ignore"):
        above = np.log(x.data) > -100
    return where(above, where(above, x, 1.0).log(), -100.0)


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x) = log(e^-m + e^(x - m)) + m for any m; m = max(x, 0), held constant, keeps both
    exponents <= 0 (finite for x = +-1e3) and the gradient sigmoid(x) exact, even at x = 0."""
    shift = np.maximum(x.data, 0)
    return (np.exp(-shift) + (x - shift).exp()).log() + shift


def _huber(difference: Tensor, delta: float) -> Tensor:
    size = difference.abs()
    return where(size.data < delta, 0.5 * difference * difference, delta * (size - 0.5 * delta))
