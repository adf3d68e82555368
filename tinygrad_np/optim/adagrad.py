"""Adagrad with PyTorch's defaults and update (torch.optim.Adagrad)."""
import numpy as np

from tinygrad_np.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """Per parameter, with g its gradient and t its own step count (PyTorch's torch.optim.Adagrad):

        g = g + weight_decay * p                  (L2 penalty added to the gradient)
        s = s + g**2                              (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    Example: `opt = Adagrad(model.parameters(), lr=1e-2); loss.backward(); opt.step()`.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "eps": eps})

    def _check_group(self, group: dict) -> None:
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if group[name] < 0:
                raise ValueError(f"{name} must be >= 0, got {group[name]}")

    def _new_state(self, p, group: dict) -> dict:
        return {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def step(self) -> None:
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            for p, grad in self._gradients(group, group["weight_decay"]):
                state = self.state[p]
                state["step"] += 1
                state["sum"] += grad * grad
                step_size = lr / (1 + (state["step"] - 1) * lr_decay)
                p.data -= step_size * (grad / (np.sqrt(state["sum"]) + eps))
