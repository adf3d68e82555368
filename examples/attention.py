"""A causal multi-head self-attention block (pre-norm Transformer layer) that learns a running
average of a sequence, written as for PyTorch.

Ported from the PyTorch script by changing the imports, and:
- `tinygrad_np.where(mask, scores, -1e9)` for `scores.masked_fill(~mask, -1e9)`;
- `softmax(axis=-1)` for `softmax(dim=-1)` (NumPy's axis names);
- `Tensor(array)` for `torch.tensor(array)`, and `rng=` seeds nn.Linear (torch.manual_seed).

    python examples/attention.py
"""
import numpy as np

import tinygrad_np
from tinygrad_np import Tensor, nn
from tinygrad_np.optim import AdamW


class CausalSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, rng: np.random.Generator):
        self.heads, self.head_dim = heads, dim // heads
        self.query, self.key, self.value = (nn.Linear(dim, dim, init="xavier_normal", rng=rng) for _ in range(3))
        self.out = nn.Linear(dim, dim, init="xavier_normal", rng=rng)

    def forward(self, x: Tensor) -> Tensor:
        batch, time, dim = x.shape
        q, k, v = (projection(x).reshape(batch, time, self.heads, self.head_dim).transpose(1, 2)
                   for projection in (self.query, self.key, self.value))  # each (batch, heads, time, head_dim)
        scores = q @ k.transpose(-2, -1) / np.sqrt(self.head_dim)
        causal = np.tril(np.ones((time, time), dtype=bool))  # position t sees positions <= t
        weights = tinygrad_np.where(causal, scores, -1e9).softmax(axis=-1)
        return self.out((weights @ v).transpose(1, 2).reshape(batch, time, dim))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, rng: np.random.Generator):
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = CausalSelfAttention(dim, heads, rng)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim, rng=rng), nn.ReLU(), nn.Linear(4 * dim, dim, rng=rng))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class RunningMean(nn.Module):
    """Reads a sequence of numbers and predicts, at each position, the mean of those so far."""

    def __init__(self, dim: int, heads: int, rng: np.random.Generator):
        self.embed = nn.Linear(1, dim, rng=rng)
        self.position = nn.Parameter(rng.standard_normal((16, dim)) * 0.1, dtype=np.float32)
        self.block = Block(dim, heads, rng)
        self.head = nn.Linear(dim, 1, init="xavier_normal", rng=rng)

    def forward(self, values: Tensor) -> Tensor:
        time = values.shape[1]
        x = self.embed(values.reshape(values.shape + (1,))) + self.position[:time]
        return self.head(self.block(x)).reshape(values.shape)


def main(steps: int = 150, batch_size: int = 32, time: int = 10, seed: int = 0, verbose: bool = True) -> list:
    """Train and return the loss of every step."""
    rng = np.random.default_rng(seed)
    model = RunningMean(dim=32, heads=4, rng=rng)
    optimizer = AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    loss_fn = nn.MSELoss()
    losses = []
    for step in range(steps):
        values = rng.standard_normal((batch_size, time)).astype(np.float32)
        targets = np.cumsum(values, axis=1) / np.arange(1, time + 1)
        loss = loss_fn(model(Tensor(values)), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if verbose and (step + 1) % 25 == 0:
            print(f"step {step + 1:3d}  loss {np.mean(losses[-25:]):.4f}")
    return losses


if __name__ == "__main__":
    main()
