"""What the walk is for: `backward` (into `.grad`) and `grad` (returned), as in torch.autograd."""
from typing import Optional, Sequence, Union

import numpy as np

from tinygrad_np.autograd.walk import backprop
from tinygrad_np.errors import ShapeError
from tinygrad_np.grad_mode import enable_grad
from tinygrad_np.tensor import Tensor, _new_tensor

Tensors = Union[Tensor, Sequence[Tensor]]


def backward(tensors: Tensors, grad_tensors=None, retain_graph: Optional[bool] = None,
             create_graph: bool = False) -> None:
    """Add d(tensors)/d(leaf) into the `.grad` of every leaf that requires grad (and of non-leaves
    that called retain_grad()). `grad_tensors` are the seeds, one per tensor; they default to ones
    only for one-element tensors. Graphs stay alive while referenced, so `retain_graph` is
    accepted for PyTorch's signature and changes nothing."""
    roots = _as_list(tensors)
    seeds = _seeds("backward()", roots, grad_tensors, create_graph)
    handed_out: set = set()
    for tensor, gradient, _ in backprop(roots, seeds, create_graph):  # a Step unpacks as a tuple
        if tensor._ctx is None or tensor._ctx.retains_grad:
            _accumulate(tensor, gradient, create_graph, handed_out)


def grad(outputs: Tensors, inputs: Tensors, grad_outputs=None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) weighted by `grad_outputs`, one gradient per input, as torch.autograd.grad.

    No `.grad` is read or written, and inputs may be intermediate tensors, not only leaves. With
    `create_graph=True` the gradients are graphs of their own (for second derivatives). An input
    the outputs do not depend on raises, or gives None with `allow_unused=True`.
    """
    roots, wanted = _as_list(outputs), _as_list(inputs)
    for position, tensor in enumerate(wanted):
        if not tensor.requires_grad:
            raise RuntimeError(f"grad(): input {position} (shape {tensor.shape}) does not require grad")
    seeds = _seeds("grad()", roots, grad_outputs, create_graph)
    found: dict = {}
    missing = set(wanted)
    handed_out: set = set()
    for step in backprop(roots, seeds, create_graph):
        if step.tensor in missing:
            missing.discard(step.tensor)
            found[step.tensor] = step.grad if create_graph else _new_tensor(_own_buffer(step.grad, handed_out), None)
            if not missing:
                break  # the rest of the graph cannot change these gradients
    results = tuple(found.get(tensor) for tensor in wanted)
    for position, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(f"grad(): input {position} (shape {wanted[position].shape}) is not used to "
                               "compute the outputs; pass allow_unused=True to get None for it")
    return results


def _as_list(tensors: Tensors) -> list:
    listed = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not listed or not all(isinstance(t, Tensor) for t in listed):
        raise TypeError(f"expected a Tensor or a sequence of Tensors, got {tensors!r:.60}")
    return listed


def _seeds(caller: str, roots: list, given, create_graph: bool) -> list:
    """One starting gradient per root: ones for a one-element root given none, else a copy of the
    one given (it may end up as a .grad, which must not be the caller's array). Under create_graph
    a Tensor seed is kept as it is, so a seed with a graph of its own is differentiated through."""
    if given is None:
        given = [None] * len(roots)
    elif isinstance(given, (Tensor, np.ndarray)):
        given = [given]
    if len(given) != len(roots):
        raise ValueError(f"{caller}: {len(given)} gradients for {len(roots)} outputs")
    seeds = []
    for root, seed in zip(roots, given, strict=True):
        if not root.requires_grad:
            raise RuntimeError(
                f"{caller} on a tensor of shape {root.shape} that does not require grad: "
                "no input was created with requires_grad=True, or it was computed under no_grad()")
        if seed is None:
            if root.size != 1:
                raise RuntimeError(
                    f"{caller} without a gradient works only for one-element tensors (a scalar loss), "
                    f"this one has shape {root.shape}; pass a gradient of that shape")
            seed = np.ones(root.shape, root.dtype)
        elif not (create_graph and isinstance(seed, Tensor)):
            seed = np.array(seed.data if isinstance(seed, Tensor) else seed, dtype=root.dtype)
        if seed.shape != root.shape:
            raise ShapeError(f"{caller}: gradient of shape {seed.shape} for a tensor of shape {root.shape}")
        seeds.append(_new_tensor(seed, None) if create_graph and not isinstance(seed, Tensor) else seed)
    return seeds


def _accumulate(tensor: Tensor, grad, create_graph: bool, handed_out: set) -> None:
    """Add to `.grad`, never in place: an optimizer may hold the old one."""
    if create_graph:
        with enable_grad():  # the sum is part of the gradient's graph, even inside no_grad()
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        tensor.grad = _new_tensor(_own_buffer(grad, handed_out), None)
    else:
        tensor.grad = _new_tensor(tensor.grad.data + grad, None)


def _own_buffer(grad, handed_out: set) -> np.ndarray:
    """Every .grad its own buffer: one array can reach several tensors (`x + y` hands the same
    gradient to both), so an array already handed out is copied, and so is a read-only broadcast
    view; an optimizer scaling one .grad in place must not scale another."""
    if not isinstance(grad, np.ndarray):
        return np.array(grad)  # a NumPy scalar, from a sum of 0-d arrays
    base = grad.base  # ops return new buffers or views of them; only views can be read-only
    owner = id(grad) if base is None else id(base)
    if owner in handed_out or base is not None and not grad.flags.writeable:
        return grad.copy()
    handed_out.add(owner)
    return grad
