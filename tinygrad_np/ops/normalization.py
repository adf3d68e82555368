"""Batch norm in training mode as one primitive: forward and its three gradients side by side.

Kernels in tinygrad_np.kernels.normalization. Eval mode (fixed statistics) and layer norm stay
compositions (nn/normalization.py): there the statistics carry no gradient, or the scale varies
along the normalized axes.
"""
from tinygrad_np.function import Function
from tinygrad_np.kernels import normalization


class BatchNorm(Function):
    """Each channel (axis 1) of x normalized by the batch's mean and biased variance over every
    other axis, then scaled by `weight` and shifted by `bias` (each optional, params say which
    inputs follow x). Like PyTorch's batch_norm, forward also folds the batch's statistics into
    the running averages it is given (unbiased variance), in place.

    One node rather than the composition's nine: the default CNN's first batch norm at batch
    128, a (128, 32, 24, 24) float32 batch, took 2.8-3.0 against 4.4-4.9 ms forward and 4.0-4.4
    against 9.7-12.0 backward (with the walk), and the app's training step 35 against 46 ms.
    """
    name = "batch_norm"
    formula = "dx = γ/σ (g − mean g − x̂ mean(g x̂)),  dγ = Σ g x̂,  dβ = Σ g"

    def forward(self, x, *affine, with_weight=False, with_bias=False, eps=None, momentum=None, running_mean=None,
                running_var=None):
        weight = affine[0] if with_weight else None
        bias = affine[-1] if with_bias else None
        out, self.saved = normalization.batch_norm(x, weight, bias, eps)
        count = x.size // x.shape[1]
        for running, statistic in ((running_mean, self.saved.mean),
                                   (running_var, self.saved.variance * (count / (count - 1)))):
            if running is not None:
                running[...] = (1 - momentum) * running + momentum * statistic
        return out

    def describe(self) -> str:
        return f"{self.name} eps={self.params['eps']}, momentum={self.params['momentum']}"

    def backward(self, ops, g, out, x, *affine):
        weight = affine[0] if self.params["with_weight"] else None
        needs = self.needs_input_grad
        wanted = (needs[0], self.params["with_weight"] and needs[1], self.params["with_bias"] and needs[-1])
        grad_x, grad_weight, grad_bias = ops.batch_norm_grads(g, x, weight, self.saved, self.params["eps"], wanted)
        grads = [grad_x] + [grad_weight] * self.params["with_weight"] + [grad_bias] * self.params["with_bias"]
        return grads[0] if len(grads) == 1 else tuple(grads)  # one input: its gradient alone
