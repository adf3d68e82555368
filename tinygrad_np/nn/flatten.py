"""Flatten: images to rows for the Linear layers after a CNN's convolutions."""
from tinygrad_np.nn.module import Module
from tinygrad_np.tensor import Tensor


class Flatten(Module):
    """Merge axes start_dim..end_dim into one (PyTorch's defaults keep the batch axis: (N, C, H, W) -> (N, C*H*W))."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
