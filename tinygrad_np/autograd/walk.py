"""The reverse-mode walk, as a generator of steps: one per node, newest node first.

Every recorded op takes the next number of one counter (`Function.apply`), and an op is always
recorded after its inputs, so creation order is a topological order of any graph. The walk pops
the newest pending node from a heap: by then every node that consumed it, all newer, has added
its share, so the gradient it receives is complete. No separate sort, and no recursion, so a
chain of 20,000 ops is fine.

`backprop` only computes; what to do with each step is its caller's choice: `Tensor.backward`
adds the leaves' gradients into `.grad`, `autograd.grad` returns the inputs' gradients, and a
picture or a profiler can watch every step.
"""
from heapq import heappop, heappush
from operator import itemgetter
from typing import Iterator, Optional, Sequence

from tinygrad_np import kernels
from tinygrad_np.autograd import differentiable
from tinygrad_np.function import Function
from tinygrad_np.grad_mode import enable_grad
from tinygrad_np.tensor import Tensor


class Step(tuple):
    """One node of the walk: `tensor` received `grad` (d roots / d tensor, complete) and, if an op
    made it, handed `input_grads` to the op's inputs (one per input, already summed to the input's
    shape; None where no gradient flows). Gradients are ndarrays, or Tensors under create_graph.
    A leaf's step comes after every op's and hands nothing on. A tuple underneath, so it also
    unpacks as `tensor, grad, input_grads` (one is made per node per backward, and a tuple is the
    cheapest object to make)."""
    __slots__ = ()
    tensor = property(itemgetter(0))
    grad = property(itemgetter(1))
    input_grads = property(itemgetter(2))

    @property
    def fn(self) -> Optional[Function]:
        """The op that made `tensor` (its `name`, `params`, `describe()`), or None for a leaf."""
        return self[0]._ctx

    @property
    def inputs(self) -> tuple:
        return self[0]._ctx.inputs if self[0]._ctx is not None else ()

    @property
    def label(self) -> str:
        return self[0]._ctx.describe() if self[0]._ctx is not None else "leaf"

    def __repr__(self) -> str:
        return f"Step({self.label}, tensor of shape {self[0].shape})"


def backprop(roots: Sequence[Tensor], seeds: Sequence, create_graph: bool = False) -> Iterator[Step]:
    """Walk from `roots`, each starting with its `seed` (d roots / d root), down to the leaves.

    Plain walk: seeds and gradients are ndarrays, and each op's backward gets `kernels` and
    ndarrays. create_graph: seeds are Tensors (constants, or graphs of their own), and each
    backward gets `autograd.differentiable` and Tensors, so every gradient is a graph node.
    Gradients of several consumers of one tensor add up. Only tensors that require grad get one.
    """
    ops = differentiable if create_graph else kernels
    pending: dict = {}  # tensor -> the gradient it has gathered so far
    heap: list = []  # (-sequence, tensor) of the op nodes waiting
    _hand_on(ops, tuple(roots), tuple(seeds), pending, heap)
    while heap:
        node = heappop(heap)[1]
        grad = pending.pop(node)
        fn = node._ctx
        if create_graph:
            with enable_grad():  # the gradient's own ops are recorded, even inside no_grad()
                input_grads = fn.backward(ops, grad, node, *fn.inputs)
                if len(fn.inputs) == 1:
                    input_grads = (input_grads,)
                handed = _hand_on(ops, fn.inputs, input_grads, pending, heap)
        else:
            input_grads = fn.backward(ops, grad, node.data, *fn.input_arrays)
            if len(fn.inputs) == 1:
                input_grads = (input_grads,)
            handed = _hand_on(ops, fn.inputs, input_grads, pending, heap)
        yield Step((node, grad, handed))
    for leaf, grad in pending.items():  # all that is left: every op node has been popped
        yield Step((leaf, grad, ()))


def _hand_on(ops, tensors: tuple, grads, pending: dict, heap: list) -> tuple:
    """Add each gradient, summed to its tensor's shape (broadcasting's adjoint) and in its dtype,
    to what that tensor has gathered; an op's output enters the heap with its first share.
    Returns the gradients as handed on (None for a tensor that gets none)."""
    handed: list = []
    for tensor, grad in zip(tensors, grads, strict=False):  # (same lengths; strict= costs a little)
        if grad is None or not tensor.requires_grad:
            handed.append(None)
            continue
        data = tensor.data
        if grad.shape != data.shape:
            grad = ops.sum_to(grad, data.shape)
        if ops is kernels and grad.dtype != data.dtype:
            grad = grad.astype(data.dtype)
        handed.append(grad)
        previous = pending.get(tensor)
        if previous is None:
            pending[tensor] = grad
            if tensor._ctx is not None:
                heappush(heap, (-tensor._ctx.sequence, tensor))
        else:
            pending[tensor] = previous + grad  # a new buffer (and, under create_graph, an add node)
    return tuple(handed)
