"""The base of every op: forward on ndarrays, backward written once for ndarrays and Tensors.

`backward(grad, out, *inputs)` gets plain ndarrays during an ordinary `backward()`, and Tensors
under `backward(create_graph=True)`. Written with operators, methods both types share and the
helpers in `ops.dual`, one definition serves both, so higher derivatives need no extra code.
It returns one gradient per input (None for no gradient) in the broadcast shape; the graph walk
sums each back to its input's shape.
"""
from itertools import count

from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.grad_mode import _state as _grad_mode


_creation_order = count()  # numbers recorded ops in creation order, which the backward walk follows


class Function:
    name = "op"  # the label drawn in graph pictures and shown in repr
    retains_grad = False  # set by Tensor.retain_grad() on the op's output, to keep its .grad

    # Set by apply on a recorded node: the input Tensors, their arrays as forward saw them, and
    # the node's place in creation order.
    inputs: tuple
    input_arrays: list
    sequence: int

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad, out, *inputs):
        raise NotImplementedError

    def describe(self) -> str:
        """The label with its parameters (axis, shape, ...) for graph pictures."""
        return self.name

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' arrays and, when grad mode is on, record the node."""
        fn = cls()
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


def _shape_params(params) -> str:
    """' with shape=(4, -1)' for the int and int-tuple params (target shapes, axes) of a failed op."""
    named = [f"{key}={value}" for key, value in params.items()
             if isinstance(value, int) or isinstance(value, tuple) and all(isinstance(v, int) for v in value)]
    return " with " + ", ".join(named) if named else ""


from tinygrad_np.tensor import _new_tensor  # noqa: E402  (Tensor needs Function first)
