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

    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay")

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"momentum and weight_decay must be >= 0, got {momentum} and {weight_decay}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, bool(nesterov), weight_decay
        if momentum:
            for p, buffers in zip(self.params, self.state):
                buffers["momentum_buffer"] = np.zeros_like(p.data)

    def step(self) -> None:
        step_size, momentum, weight_decay, nesterov = -self.lr, self.momentum, self.weight_decay, self.nesterov
        for index, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad.data
            if weight_decay or nesterov:  # both add to the gradient, which is the user's: use a copy
                work = self._work_array(index)
                np.copyto(work, grad)
                grad = axpy(weight_decay, p.data, work) if weight_decay else work
            if momentum:
                buffer = self.state[index]["momentum_buffer"]
                buffer *= momentum
                axpy(1.0, grad, buffer)
                grad = axpy(momentum, buffer, grad) if nesterov else buffer
            axpy(step_size, grad, p.data)
