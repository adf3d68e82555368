"""Which module's call produced which tensor, remembered inside `record_modules()` for the frames."""
import contextlib
import weakref

from tinygrad_np.autograd.graph import topological_order
from tinygrad_np.nn import module as module_lib
from tinygrad_np.tensor import Tensor

# Tensor -> the innermost Module whose call produced it (filled inside record_modules()).
# Weak keys: an entry disappears with its graph.
producers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def record_modules():
    """Within the block, remember which Module call produced each tensor, for clusters and collapse.

    A Module's call owns every tensor reachable backwards from its output without passing through
    its arguments (parameters stay with the module that holds them); the innermost call claims
    first, because it returns first. So `relu` lands in `layers.1`, not in the Sequential around it.
    Why a forward hook rather than guessing from parameters: ops without parameters (activations,
    the loss) could not be told apart from the layers around them. Outside the block the hook list
    is empty, so recording costs nothing then. Limitation: a tensor a forward reads from somewhere
    other than its arguments (say a cached state) counts as that module's own.
    """
    if _claim in module_lib.forward_hooks:  # nested: the outer block is already recording
        yield
        return
    module_lib.forward_hooks.append(_claim)
    try:
        yield
    finally:
        module_lib.forward_hooks.remove(_claim)


def _claim(module, args, kwargs, output) -> None:
    for tensor in topological_order(tensors_in(output), stop=tensors_in((args, kwargs))):
        if not (tensor.is_leaf and tensor.requires_grad):  # parameters belong to their holder
            producers.setdefault(tensor, module)


def tensors_in(value) -> list:
    """The Tensors inside nested tuples, lists and dicts (a module's arguments or output)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in tensors_in(item)]
    if isinstance(value, dict):
        return [tensor for item in value.values() for tensor in tensors_in(item)]
    return []
