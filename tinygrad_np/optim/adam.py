"""Adam and AdamW with PyTorch's semantics (bias correction, L2 or decoupled weight decay)."""
import math

import numpy as np

from tinygrad_np.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Per parameter, with g its gradient and t its own step count (PyTorch's torch.optim.Adam):

        p = p * (1 - lr * weight_decay)   if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p          otherwise (L2 penalty added to the gradient)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Example: `opt = Adam(model.parameters(), lr=1e-3); loss.backward(); opt.step()`.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                                  "decoupled_weight_decay": bool(decoupled_weight_decay)})

    def _check_group(self, group: dict) -> None:
        betas = group["betas"] = tuple(group["betas"])
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if group["eps"] < 0 or group["weight_decay"] < 0:
            raise ValueError(f"eps and weight_decay must be >= 0, got {group['eps']} and {group['weight_decay']}")

    def _new_state(self, p, group: dict) -> dict:
        # the step count is per parameter, as in PyTorch: a step without its grad does not count
        return {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}

    def step(self) -> None:
        for group in self.param_groups:
            lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, grad in self._gradients(group, 0.0 if decoupled else weight_decay):
                if decoupled and weight_decay:
                    p.data *= 1 - lr * weight_decay
                state = self.state[p]
                state["step"] += 1
                t = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg *= beta1
                exp_avg += (1 - beta1) * grad
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * (grad * grad)
                denominator = np.sqrt(exp_avg_sq) / math.sqrt(1 - beta2 ** t) + eps
                p.data -= exp_avg / denominator * (lr / (1 - beta1 ** t))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p shrinks by lr * weight_decay
    each step, apart from the gradient. Same as `Adam(..., decoupled_weight_decay=True)`."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True)
