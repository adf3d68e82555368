"""Stochastic gradient descent with PyTorch's momentum, Nesterov and weight-decay semantics."""
import numpy as np

from tinygrad_np.optim.axpy import axpy
from tinygrad_np.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Per parameter, with g its gradient (PyTorch's torch.optim.SGD, dampening 0):

        g = g + weight_decay * p          (L2 penalty added to the gradient)
        b = momentum * b + g              (b starts at 0, so the first step has b = g)
        d = g + momentum * b if nesterov else b   (d = g when momentum is 0)
        p = p - lr * d

    Example: `opt = SGD(model.parameters(), lr=0.1, momentum=0.9); loss.backward(); opt.step()`.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay})

    def _check_group(self, group: dict) -> None:
        if group["momentum"] < 0 or group["weight_decay"] < 0:
            raise ValueError(f"momentum and weight_decay must be >= 0, got {group['momentum']} "
                             f"and {group['weight_decay']}")
        if group["nesterov"] and group["momentum"] == 0:
            raise ValueError("nesterov momentum needs momentum > 0")

    def _new_state(self, p, group: dict) -> dict:
        return {"momentum_buffer": np.zeros_like(p.data)} if group["momentum"] else {}

    def step(self) -> None:
        # y += alpha * x goes through axpy (optim/axpy.py): one pass on BLAS's threads for arrays of
        # 32,768 values or more, NumPy's `y += alpha * x` below. On 784-1024-1024-10 at batch 256
        # (`make bench`'s plain SGD, two threads) the update took 0.16 ms instead of 0.88 ms (fastest of
        # 200 runs in turns), 3.2% of its 22 ms step; with one thread 1.5% (CPU time, in turns).
        for group in self.param_groups:
            lr, momentum, nesterov = group["lr"], group["momentum"], group["nesterov"]
            weight_decay = group["weight_decay"]
            for p, grad in self._gradients(group):
                if weight_decay or nesterov:  # both add to the gradient, which is the user's: into a copy
                    work = self._work_array(p)
                    np.copyto(work, grad)
                    grad = axpy(weight_decay, p.data, work) if weight_decay else work
                if momentum:
                    buffer = self._buffer(p, group, "momentum_buffer")
                    buffer *= momentum
                    axpy(1.0, grad, buffer)
                    grad = axpy(momentum, buffer, grad) if nesterov else buffer
                axpy(-lr, grad, p.data)
