"""The recorded graph as data: every tensor behind some outputs, in an order that respects it.

The backward walk (`walk.backprop`) needs no such list (its heap orders the nodes as it goes);
this is for those who look at the whole graph at once: pictures (`viz`), `retain_grads`, and
telling which module's call made which tensor.
"""
from typing import Iterable, List

from tinygrad_np.tensor import Tensor


def topological_order(roots: Iterable[Tensor], stop: Iterable[Tensor] = ()) -> List[Tensor]:
    """Every tensor behind `roots` (roots, ops' results, leaves and constants), each after its
    inputs, inputs in argument order (so `a @ b` lists a before b). Tensors in `stop` are left
    out and not looked behind. Iterative: a chain of 20,000 ops needs no deep recursion."""
    order, seen = [], {id(tensor) for tensor in stop}
    stack = [(root, False) for root in reversed(list(roots))]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
        elif id(tensor) not in seen:
            seen.add(id(tensor))
            stack.append((tensor, True))
            stack.extend((parent, False) for parent in reversed(tensor._parents) if id(parent) not in seen)
    return order
