"""Which module's call made, returned and received which tensor, remembered inside `record_modules()`.

Three weak maps, filled by a forward hook; an entry disappears with its tensor:
- `callers`: tensor -> the module calls that made it, innermost first (its frame is the first's;
  the last, outermost, is the model that names it when draw_graph gets no module);
- `returned_by`: tensor -> the innermost module whose call returned it (named after that module);
- `given_to`: tensor -> the innermost module whose call received it as an argument (to draw an
  input whose ops were not recorded, such as flat rows a model reshapes into images, going into that call).
"""
import contextlib
import weakref

from tinygrad_np.autograd.graph import topological_order
from tinygrad_np.nn import module as module_lib
from tinygrad_np.tensor import Tensor

callers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
returned_by: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
given_to: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def record_modules():
    """Within the block, remember which Module call made each tensor, for frames, names and collapse.

    A Module's call makes every tensor reachable backwards from its output without passing through
    its arguments (parameters stay with the module that holds them); the innermost call comes
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
    arguments = tensors_in((args, kwargs))
    for tensor in topological_order(tensors_in(output), stop=arguments):
        if not (tensor.is_leaf and tensor.requires_grad):  # parameters belong to their holder
            callers.setdefault(tensor, []).append(module)
    for tensor in tensors_in(output):
        returned_by.setdefault(tensor, module)
    for tensor in arguments:
        given_to.setdefault(tensor, module)


def maker(tensor):
    """The innermost module whose call made `tensor`, or None."""
    modules = callers.get(tensor)
    return modules[0] if modules else None


def made_within(tensor, module) -> bool:
    """Whether `tensor` was made during a call of `module` (by it or by a module it called)."""
    return any(caller is module for caller in callers.get(tensor, ()))


def tensors_in(value) -> list:
    """The Tensors inside nested tuples, lists and dicts (a module's arguments or output)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in tensors_in(item)]
    if isinstance(value, dict):
        return [tensor for item in value.values() for tensor in tensors_in(item)]
    return []
