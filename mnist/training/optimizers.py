"""The optimizer and learning-rate schedule a TrainConfig asks for."""
from tinygrad_np.optim import SGD, Adam, AdamW, CosineAnnealing, StepDecay


def build_optimizer(config, parameters):
    if config.optimizer == "sgd":
        return SGD(parameters, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                   weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return Adam(parameters, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}")


def build_schedule(config, steps_per_epoch: int):
    """A per-step schedule; epochs in the config (warm-up, step size) are converted to steps."""
    warmup = round(config.warmup_epochs * steps_per_epoch)
    if config.schedule == "cosine":
        return CosineAnnealing(config.lr, total=max(config.epochs * steps_per_epoch, warmup + 1), warmup=warmup)
    if config.schedule == "step":
        return StepDecay(config.lr, step_size=config.step_size * steps_per_epoch, gamma=config.gamma, warmup=warmup)
    if config.schedule == "constant":  # a step decay that never decays
        return StepDecay(config.lr, step_size=1, gamma=1.0, warmup=warmup)
    raise ValueError(f"unknown schedule {config.schedule!r}")
