"""The base of every op: forward on ndarrays, backward written once for ndarrays and Tensors.

    class Exp(Function):
        name = "exp"
        def forward(self, x): return np.exp(x)
        def backward(self, ops, grad, out, x): return grad * ops.exp(x)   # (or grad * out)

`apply(*tensors, **params)` runs `forward(*arrays, **params)` and records the node. The params
(axis, shape, index, ...) are the op's fixed arguments: they are kept in `self.params`, which
is what graph labels show (`describe`), and backward reads them from there.

`backward(ops, grad, out, *inputs)` returns one gradient per input (None for no gradient), in
the broadcast shape: the walk sums each back to its input's shape. The walk passes either
- `ops` = `tinygrad_np.kernels` and ndarrays (`grad`, `out`, `inputs`) for an ordinary
  `backward()`: plain NumPy, fast; or
- `ops` = `tinygrad_np.autograd.differentiable` and Tensors under `create_graph=True`, so the
  gradient is itself a graph and can be differentiated again.
A backward uses operators, the methods ndarrays and Tensors share with one meaning (`reshape`,
`sum(axis, keepdims)`, `swapaxes`, `.T` of a matrix, indexing) and `ops.<kernel>` for anything else; it
never asks which kind it got.
"""
from itertools import count

import numpy as np

from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.grad_mode import _state as _grad_mode

_creation_order = count()  # numbers recorded ops in creation order, which the backward walk follows


class Function:
    name = "op"  # the label drawn in graph pictures and shown in repr
    retains_grad = False  # set by Tensor.retain_grad() on the op's output, to keep its .grad

    params: dict  # the fixed arguments given to apply, as forward received them
    # Set by apply on a recorded node: the input Tensors, their arrays as forward saw them, and
    # the node's place in creation order.
    inputs: tuple
    input_arrays: list
    sequence: int

    def forward(self, *arrays, **params) -> np.ndarray:
        raise NotImplementedError

    def backward(self, ops, grad, out, *inputs):
        raise NotImplementedError

    def describe(self) -> str:
        """The label with its parameters, for graph pictures: `sum axis=1, keepdims=True`."""
        shown = [f"{key}={_param_text(value)}" for key, value in self.params.items()
                 if value is not None and value is not False]
        return f"{self.name} {', '.join(shown)}" if shown else self.name

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays and, when grad mode is on, record the node."""
        fn = cls()
        fn.params = params
        arrays = [t.data for t in inputs]
        try:
            data = fn.forward(*arrays, **params)
        except (ValueError, IndexError) as error:  # IndexError: x[bad_index], an axis out of range
            if isinstance(error, ArgumentError):
                raise
            shapes = ", ".join(str(t.shape) for t in inputs)
            raise ShapeError(f"{cls.name}: cannot combine shapes {shapes}{_shape_params(params)}: {error}") from None
        if _grad_mode.enabled:
            for tensor in inputs:
                if tensor.requires_grad:
                    fn.inputs, fn.input_arrays, fn.sequence = inputs, arrays, next(_creation_order)
                    return _new_tensor(data, fn)
        return _new_tensor(data, None)

    @property
    def needs_input_grad(self) -> tuple:
        """One bool per input, for a backward that can skip work (a batch of inputs needs none)."""
        return tuple([tensor.requires_grad for tensor in self.inputs])


def _param_text(value) -> str:
    """A parameter as a label shows it: arrays (an index, targets, a mask) by dtype and shape,
    an index tuple with slices or arrays as written in brackets (`[..., ::-1]`, `[int64[3, 1], 2]`)."""
    if isinstance(value, (np.ndarray, Tensor)):
        return f"{value.dtype}{list(value.shape)}"
    if isinstance(value, slice) or value is Ellipsis:
        return f"[{_index_part(value)}]"
    if isinstance(value, tuple) and any(isinstance(part, (slice, np.ndarray)) or part is Ellipsis for part in value):
        return "[" + ", ".join(_index_part(part) for part in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _index_part(part) -> str:
    if part is Ellipsis:
        return "..."
    if isinstance(part, slice):
        text = ":".join("" if bound is None else str(bound) for bound in (part.start, part.stop, part.step))
        return text[:-1] if text.endswith(":") and part.step is None else text
    return _param_text(part)


def _shape_params(params) -> str:
    """' with shape=(4, -1)' for the int and int-tuple params (target shapes, axes) of a failed op."""
    named = [f"{key}={value}" for key, value in params.items()
             if isinstance(value, int) or isinstance(value, tuple) and all(isinstance(v, int) for v in value)]
    return " with " + ", ".join(named) if named else ""


from tinygrad_np.tensor import Tensor, _new_tensor  # noqa: E402  (Tensor needs Function first)
