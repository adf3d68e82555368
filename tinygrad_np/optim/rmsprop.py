"""RMSprop with PyTorch's defaults and update (torch.optim.RMSprop)."""
import numpy as np

from tinygrad_np.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """Per parameter, with g its gradient (PyTorch's torch.optim.RMSprop):

        g = g + weight_decay * p                 (L2 penalty added to the gradient)
        v = alpha * v + (1 - alpha) * g**2       (v starts at 0)
        a = alpha * a + (1 - alpha) * g          (centered only: a running mean of g)
        s = sqrt(v - a**2) if centered else sqrt(v), plus eps
        b = momentum * b + g / s; p = p - lr * b  if momentum > 0
        p = p - lr * g / s                        otherwise

    Example: `opt = RMSprop(model.parameters(), lr=1e-2); loss.backward(); opt.step()`.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum, "centered": bool(centered)})

    def _check_group(self, group: dict) -> None:
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            if group[name] < 0:
                raise ValueError(f"{name} must be >= 0, got {group[name]}")

    def _new_state(self, p, group: dict) -> dict:
        state = {"square_avg": np.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p.data)
        return state

    def step(self) -> None:
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum, centered = group["momentum"], group["centered"]
            for p, grad in self._gradients(group, group["weight_decay"]):
                square_avg = self.state[p]["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * (grad * grad)
                if centered:
                    grad_avg = self._buffer(p, group, "grad_avg")
                    grad_avg *= alpha
                    grad_avg += (1 - alpha) * grad
                    scale = np.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    scale = np.sqrt(square_avg)
                scale += eps
                if momentum > 0:
                    buffer = self._buffer(p, group, "momentum_buffer")
                    buffer *= momentum
                    buffer += grad / scale
                    p.data -= lr * buffer
                else:
                    p.data -= lr * (grad / scale)
