"""Learning-rate schedules: callables from a 0-based step (or epoch) index to a learning rate.

Apply one by setting the optimizer's `lr` before each step (or epoch):

    schedule = CosineAnnealing(base_lr=0.1, total=epochs, min_lr=1e-3, warmup=2)
    for epoch in range(epochs):
        optimizer.lr = schedule(epoch)
        ...train one epoch...

Warm-up, when `warmup` = W > 0, comes first: index i < W gets base_lr * (i + 1) / W, so the
ramp starts at base_lr / W (no step is wasted at lr 0) and reaches base_lr at i = W - 1. The
schedule proper then starts at index W as if it were its index 0.
"""
import math


class Schedule:
    """The warm-up shared by every schedule; subclasses define `decay(i)`, i counted from the
    end of the warm-up, with decay(0) == base_lr."""

    def __init__(self, base_lr: float, warmup: int = 0):
        if base_lr < 0:
            raise ValueError(f"base_lr must be >= 0, got {base_lr}")
        if warmup < 0 or int(warmup) != warmup:
            raise ValueError(f"warmup must be a whole number >= 0, got {warmup}")
        self.base_lr, self.warmup = base_lr, int(warmup)

    def __call__(self, index: int) -> float:
        if index < 0:
            raise ValueError(f"schedule index must be >= 0, got {index}")
        if index < self.warmup:
            return self.base_lr * (index + 1) / self.warmup
        return self.decay(index - self.warmup)

    def decay(self, index: int) -> float:
        raise NotImplementedError


class StepDecay(Schedule):
    """base_lr * gamma ** (i // step_size), like torch's StepLR: e.g. step_size=10, gamma=0.1
    gives base_lr for indices 0-9, base_lr / 10 for 10-19, ..."""

    def __init__(self, base_lr: float, step_size: int, gamma: float = 0.1, warmup: int = 0):
        super().__init__(base_lr, warmup)
        if step_size < 1 or int(step_size) != step_size:
            raise ValueError(f"step_size must be a whole number >= 1, got {step_size}")
        if gamma <= 0:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        self.step_size, self.gamma = int(step_size), gamma

    def decay(self, index: int) -> float:
        return self.base_lr * self.gamma ** (index // self.step_size)


class CosineAnnealing(Schedule):
    """Half a cosine from base_lr down to min_lr, like torch's CosineAnnealingLR: reaches min_lr
    at index `total` (counted from the start, warm-up included) and stays there after it.
    Midway between the warm-up's end and `total` it is (base_lr + min_lr) / 2."""

    def __init__(self, base_lr: float, total: int, min_lr: float = 0.0, warmup: int = 0):
        super().__init__(base_lr, warmup)
        if total <= self.warmup:
            raise ValueError(f"total ({total}) must be greater than warmup ({warmup})")
        if not 0 <= min_lr <= base_lr:
            raise ValueError(f"min_lr must be in [0, base_lr={base_lr}], got {min_lr}")
        self.total, self.min_lr = total, min_lr

    def decay(self, index: int) -> float:
        progress = min(index / (self.total - self.warmup), 1.0)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2
