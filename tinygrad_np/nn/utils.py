"""Gradient clipping with PyTorch's names and semantics (torch.nn.utils): in place on `.grad`."""
import numpy as np

from tinygrad_np.tensor import Tensor


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale every gradient by max_norm / (total_norm + 1e-6) when that is below 1, where
    total_norm is the `norm_type`-norm of all the gradients together (inf: the largest |entry|).
    Returns total_norm, measured before clipping, as a 0-d Tensor; parameters without a
    gradient are skipped. `error_if_nonfinite` raises instead of scaling by a NaN or Inf norm.

        total = clip_grad_norm_(model.parameters(), max_norm=1.0)   # between backward() and step()
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros(()))
    # the norm of the per-gradient norms is the norm over every entry, for any p (and for inf)
    norms = np.array([np.linalg.norm(grad.ravel(), ord=norm_type) for grad in grads])
    total = np.linalg.norm(norms, ord=norm_type).astype(np.result_type(*grads))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}, so they cannot be "
                           "clipped; pass error_if_nonfinite=False to scale by it anyway")
    scale = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for grad in grads:
        grad *= scale
    return Tensor(total)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient entry into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        np.clip(grad, -clip_value, clip_value, out=grad)


def _grads(parameters) -> list:
    """The gradient arrays of `parameters` (a Tensor or an iterable of them) that have one."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad.data for p in parameters if p.grad is not None]
