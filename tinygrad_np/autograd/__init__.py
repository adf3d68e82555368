"""Reverse-mode differentiation: the backward walk (`backprop`) and what is built on it, down to
Jacobians and Hessians (`autograd.functional`)."""
from tinygrad_np.autograd import functional
from tinygrad_np.autograd.gradients import backward, grad
from tinygrad_np.autograd.graph import topological_order
from tinygrad_np.autograd.walk import Step, backprop

__all__ = ["backward", "grad", "backprop", "Step", "topological_order", "functional"]
