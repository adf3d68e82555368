"""Reverse-mode differentiation: the backward walk and what is built on it."""
from tinygrad_np.autograd.walk import run_backward

__all__ = ["run_backward"]
