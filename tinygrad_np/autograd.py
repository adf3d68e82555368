"""The reverse-mode walk: order the graph, then hand each node's gradient to its inputs."""
import numpy as np

from tinygrad_np.grad_mode import _state as _grad_mode
from tinygrad_np.ops.dual import sum_to
from tinygrad_np.tensor import Tensor, _new_tensor


def topological_order(root: Tensor) -> list:
    """Every node that needs a gradient, inputs before the nodes computed from them.

    Iterative depth-first search, so a chain of 20,000 ops does not hit Python's recursion limit.
    Each stack entry is a node and the iterator over its inputs still to visit (last input
    first); a node is emitted once all of them are.
    """
    order, visited = [], {root}
    stack = [(root, reversed(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent.requires_grad and parent not in visited:
                visited.add(parent)
                if parent._parents:
                    stack.append((parent, reversed(parent._parents)))
                    break
                order.append(parent)  # a leaf is done at once
        else:
            stack.pop()
            order.append(node)
    return order


def run_backward(root: Tensor, seed, create_graph: bool) -> None:
    """Propagate `seed` = d(out)/d(root) down the graph into leaves' (and retained) `.grad`.

    A plain backward passes ndarrays to each op's backward; create_graph passes Tensors so the
    result is differentiable. Gradients from several consumers of one tensor add up; in the
    plain case the sum is accumulated in place once this walk owns the buffer.
    """
    recording, _grad_mode.enabled = _grad_mode.enabled, create_graph  # no_grad(), or enable_grad()
    try:
        pending = {root: _new_tensor(seed, None, ()) if create_graph else seed}  # node -> its gradient
        owned = set()  # nodes whose pending gradient is a buffer this walk allocated
        stored = set()  # ids of the buffers (or views' bases) already handed to a .grad
        for node in reversed(topological_order(root)):
            grad = pending.pop(node, None)
            if grad is None:
                continue
            ctx = node._ctx
            if ctx is None or node._retains_grad:
                _store(node, grad, create_graph, stored)
                if ctx is None:
                    continue
            parents = node._parents
            if create_graph:
                input_grads = ctx.backward(grad, node, *parents)
            else:
                input_grads = ctx.backward(grad, node.data, *[parent.data for parent in parents])
            if len(parents) == 1:
                input_grads = (input_grads,)
            for parent, parent_grad in zip(parents, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                data = parent.data
                if parent_grad.shape != data.shape:
                    parent_grad = sum_to(parent_grad, data.shape)
                if not create_graph and parent_grad.dtype is not data.dtype and parent_grad.dtype != data.dtype:
                    parent_grad = parent_grad.astype(data.dtype)
                previous = pending.get(parent)
                if previous is None:
                    pending[parent] = parent_grad
                elif create_graph:
                    pending[parent] = previous + parent_grad
                elif parent in owned:
                    np.add(previous, parent_grad, out=previous)
                else:
                    pending[parent] = total = np.add(previous, parent_grad)
                    if isinstance(total, np.ndarray):  # 0-d sums come back as NumPy scalars
                        owned.add(parent)
    finally:
        _grad_mode.enabled = recording


def _store(node: Tensor, grad, create_graph: bool, stored: set) -> None:
    """Add to `.grad`, never in place, and give each `.grad` its own memory.

    One buffer can reach several tensors (`x + y` hands the same gradient to both), so a buffer
    already stored is copied: an optimizer scaling one `.grad` in place must not scale another.
    """
    if create_graph:
        node.grad = grad if node.grad is None else node.grad + grad
        return
    if node.grad is not None:
        grad = node.grad.data + grad
    elif not isinstance(grad, np.ndarray):
        grad = np.array(grad)  # a NumPy scalar
    else:
        base = grad.base
        owner = id(grad if base is None else base)
        if owner in stored or not grad.flags.writeable:
            grad = grad.copy()  # shared, or a read-only broadcast view
        else:
            stored.add(owner)
    node.grad = _new_tensor(grad, None, ())
