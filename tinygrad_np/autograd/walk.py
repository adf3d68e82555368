"""The reverse-mode walk: hand each node's gradient to its inputs, newest node first.

Every recorded op takes the next number of one counter (`Function.apply`), and an op is always
recorded after its inputs, so creation order is a topological order of any graph. The walk pops
the newest pending node from a heap: by then every node that consumed it, all newer, has added
its share. No separate sort, and no recursion, so a chain of 20,000 ops is fine.
"""
from heapq import heappop, heappush

import numpy as np

from tinygrad_np import kernels
from tinygrad_np.autograd import differentiable
from tinygrad_np.grad_mode import _state as _grad_mode
from tinygrad_np.tensor import Tensor, _new_tensor


def run_backward(root: Tensor, seed, create_graph: bool) -> None:
    """Propagate `seed` = d(out)/d(root) down the graph into leaves' (and retained) `.grad`.

    A plain backward passes ndarrays to each op's backward; create_graph passes Tensors so the
    result is differentiable. Gradients from several consumers of one tensor add up; in the
    plain case the sum is accumulated in place once this walk owns the buffer.
    """
    ops = differentiable if create_graph else kernels
    recording, _grad_mode.enabled = _grad_mode.enabled, create_graph  # no_grad(), or enable_grad()
    try:
        pending = {root: _new_tensor(seed, None) if create_graph else seed}  # node -> its gradient
        owned = set()  # nodes whose pending gradient is a buffer this walk allocated
        stored = set()  # ids of the buffers (or views' bases) already handed to a .grad
        heap = [(-root._ctx.sequence, root)] if root._ctx is not None else []
        while heap:
            node = heappop(heap)[1]
            grad = pending.pop(node)
            ctx = node._ctx
            if ctx.retains_grad:
                _store(node, grad, create_graph, stored)
            parents = ctx.inputs
            if create_graph:
                input_grads = ctx.backward(ops, grad, node, *parents)
            else:
                input_grads = ctx.backward(ops, grad, node.data, *ctx.input_arrays)
            if len(parents) == 1:
                input_grads = (input_grads,)
            for parent, parent_grad in zip(parents, input_grads):
                if parent_grad is None or not parent.requires_grad:
                    continue
                data = parent.data
                if parent_grad.shape != data.shape:
                    parent_grad = ops.sum_to(parent_grad, data.shape)
                if not create_graph and parent_grad.dtype is not data.dtype and parent_grad.dtype != data.dtype:
                    parent_grad = parent_grad.astype(data.dtype)
                previous = pending.get(parent)
                if previous is None:
                    pending[parent] = parent_grad
                    if parent._ctx is not None:
                        heappush(heap, (-parent._ctx.sequence, parent))
                elif create_graph:
                    pending[parent] = previous + parent_grad
                elif parent in owned:
                    np.add(previous, parent_grad, out=previous)
                else:
                    pending[parent] = total = np.add(previous, parent_grad)
                    if isinstance(total, np.ndarray):  # 0-d sums come back as NumPy scalars
                        owned.add(parent)
        for leaf, grad in pending.items():  # all that is left: every op node has been popped
            _store(leaf, grad, create_graph, stored)
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
        base = grad.base  # ops return new buffers or views of them; only views can be read-only
        owner = id(grad) if base is None else id(base)
        if owner in stored or base is not None and not grad.flags.writeable:
            grad = grad.copy()  # shared, or a read-only broadcast view
        else:
            stored.add(owner)
    node.grad = _new_tensor(grad, None)
