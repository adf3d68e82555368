"""The reverse-mode walk: order the graph, then hand each node's gradient to its inputs."""
import numpy as np

from tinygrad_np.grad_mode import enable_grad, no_grad
from tinygrad_np.ops.dual import sum_to
from tinygrad_np.tensor import Tensor


def topological_order(root: Tensor) -> list:
    """Every node that needs a gradient, inputs before the nodes computed from them.

    Iterative depth-first search, so a chain of 20,000 ops does not hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in node._parents
                     if parent.requires_grad and id(parent) not in visited)
    return order


def run_backward(root: Tensor, seed, create_graph: bool) -> None:
    """Propagate `seed` = d(out)/d(root) down the graph into leaves' (and retained) `.grad`.

    A plain backward passes ndarrays to each op's backward; create_graph passes Tensors so the
    result is differentiable. Gradients from several consumers of one tensor add up; in the
    plain case the sum is accumulated in place once this walk owns the buffer.
    """
    with enable_grad() if create_graph else no_grad():
        pending = {id(root): Tensor._from_op(seed, None, ()) if create_graph else seed}
        owned = set()  # ids whose pending gradient is a buffer this walk allocated
        stored = set()  # ids of the buffers (or views' bases) already handed to a .grad
        for node in reversed(topological_order(root)):
            grad = pending.pop(id(node), None)
            if grad is None:
                continue
            if node._ctx is None or node._retains_grad:
                _store(node, grad, create_graph, stored)
            if node._ctx is None:
                continue
            parents = node._parents
            if create_graph:
                input_grads = node._ctx.backward(grad, node, *parents)
            else:
                input_grads = node._ctx.backward(grad, node.data, *[p.data for p in parents])
            if len(parents) == 1:
                input_grads = (input_grads,)
            for parent, parent_grad in zip(parents, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.shape:
                    parent_grad = sum_to(parent_grad, parent.shape)
                if not create_graph and parent_grad.dtype != parent.dtype:
                    parent_grad = parent_grad.astype(parent.dtype)
                _accumulate(pending, owned, id(parent), parent_grad, create_graph)


def _accumulate(pending, owned, key, grad, create_graph):
    previous = pending.get(key)
    if previous is None:
        pending[key] = grad
    elif create_graph:
        pending[key] = previous + grad
    elif key in owned:
        np.add(previous, grad, out=previous)
    else:
        pending[key] = total = np.add(previous, grad)
        if isinstance(total, np.ndarray):  # 0-d sums come back as NumPy scalars
            owned.add(key)


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
    else:
        owner = id(grad if getattr(grad, "base", None) is None else grad.base)
        if owner in stored or not (isinstance(grad, np.ndarray) and grad.flags.writeable):
            grad = np.array(grad)  # shared, a NumPy scalar, or a read-only broadcast view
        else:
            stored.add(owner)
    node.grad = Tensor._from_op(grad, None, ())
