"""Compare backward() with central finite differences, in float64.

The output is reduced to a scalar with a fixed random weight vector u, so one backward gives
u^T J for every input; `projections=k` also projects each input onto k random directions v and
compares u^T J v with one numeric directional derivative each: fast for big inputs.
"""
import numpy as np

from tinygrad_np.grad_mode import no_grad
from tinygrad_np.tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message names the input and the worst element."""


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, projections=None, seed=0) -> bool:
    """True when backward() of `fn(*inputs)` matches finite differences, else GradcheckError.

    Checked inputs: ndarrays, and Tensors with requires_grad; both are promoted to float64
    copies. Anything else (ints, index arrays in a tuple...) is passed through unchanged.
    """
    rng = np.random.default_rng(seed)
    args, checked = _promote(inputs)
    if not checked:
        raise ValueError("gradcheck: no input to check (pass ndarrays or Tensors with requires_grad)")
    output = fn(*args)
    weights = rng.standard_normal(output.shape)

    def scalar_output() -> float:
        with no_grad():
            return float(np.sum(fn(*args).data * weights))

    for position in checked:
        args[position].grad = None
    (output * weights).sum().backward()
    for position in checked:
        tensor = args[position]
        analytic = np.zeros(tensor.shape) if tensor.grad is None else tensor.grad.data
        if analytic.shape != tensor.shape:
            raise GradcheckError(f"input {position}: gradient shape {analytic.shape} != input shape {tensor.shape}")
        if projections:
            directions = rng.standard_normal((projections,) + tensor.shape)
            numeric = np.array([_directional(scalar_output, tensor.data, v, eps) for v in directions])
            analytic = np.array([np.sum(analytic * v) for v in directions])
        else:
            numeric = _partials(scalar_output, tensor.data, eps)
        _compare(position, analytic, numeric, atol, rtol, projections)
    return True


def _promote(inputs):
    args, checked = [], []
    for position, value in enumerate(inputs):
        if isinstance(value, Tensor):
            promoted = Tensor(value.data, dtype=np.float64, requires_grad=value.requires_grad)
            if value.requires_grad:
                checked.append(position)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            promoted = Tensor(value, dtype=np.float64, requires_grad=True)
            checked.append(position)
        else:
            promoted = value
        args.append(promoted)
    return args, checked


def _partials(scalar_output, data, eps) -> np.ndarray:
    """Central differences, one element at a time, perturbing `data` in place and restoring it."""
    numeric = np.zeros(data.shape)
    for index in np.ndindex(*data.shape):
        original = data[index]
        data[index] = original + eps
        above = scalar_output()
        data[index] = original - eps
        below = scalar_output()
        data[index] = original
        numeric[index] = (above - below) / (2 * eps)
    return numeric


def _directional(scalar_output, data, direction, eps) -> float:
    original = data.copy()
    data += eps * direction
    above = scalar_output()
    data[...] = original - eps * direction
    below = scalar_output()
    data[...] = original
    return (above - below) / (2 * eps)


def _compare(position, analytic, numeric, atol, rtol, projections):
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if error.size == 0 or np.all(error <= 0) and np.all(np.isfinite(analytic) == np.isfinite(numeric)):
        return
    worst = np.unravel_index(np.nanargmax(np.where(np.isnan(error), np.inf, error)), error.shape)
    what = f"projection {worst[0]}" if projections else f"element {tuple(int(i) for i in worst)}"
    raise GradcheckError(
        f"gradcheck: input {position}, {what}: "
        f"analytic {float(analytic[worst]):.10g} vs numeric {float(numeric[worst]):.10g} "
        f"(atol={atol}, rtol={rtol})")
