"""An MLP classifier on two interleaved spirals, written as for PyTorch.

Ported from the PyTorch script by changing the imports, and:
- `Tensor(array)` for `torch.tensor(array)` (labels stay an int64 NumPy array);
- the learning-rate schedule is tinygrad_np.optim.CosineAnnealing, a function of the epoch that
  the loop writes into `optimizer.lr` (PyTorch: CosineAnnealingLR(optimizer, T_max) and
  `scheduler.step()`);
- `nn.Linear(in, out, rng=...)` seeds the initial weights (PyTorch: torch.manual_seed).

    python examples/mlp.py
"""
import numpy as np

from tinygrad_np import Tensor, nn
from tinygrad_np.optim import SGD, CosineAnnealing


def spirals(samples: int, rng: np.random.Generator) -> tuple:
    """Two spirals of points in the plane, label 0 or 1, with a little noise."""
    labels = rng.integers(0, 2, samples)
    radius = rng.uniform(0.1, 1.0, samples)
    angle = 3 * np.pi * radius + np.pi * labels
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return (points + 0.02 * rng.standard_normal(points.shape)).astype(np.float32), labels


class SpiralNet(nn.Module):
    def __init__(self, hidden: int, rng: np.random.Generator):
        self.layers = nn.Sequential(
            nn.Linear(2, hidden, rng=rng), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, hidden, rng=rng), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, 2, rng=rng, init="xavier_normal"),
        )

    def forward(self, x):
        return self.layers(x)


def main(epochs: int = 20, batch_size: int = 64, seed: int = 0, verbose: bool = True) -> list:
    """Train and return the mean training loss of each epoch."""
    rng = np.random.default_rng(seed)
    points, labels = spirals(1024, rng)
    model = SpiralNet(hidden=32, rng=rng)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    schedule = CosineAnnealing(base_lr=0.1, total=epochs, min_lr=1e-3)

    losses = []
    for epoch in range(epochs):
        optimizer.lr = schedule(epoch)
        model.train()
        order = rng.permutation(len(points))
        total = 0.0
        for start in range(0, len(points), batch_size):
            batch = order[start:start + batch_size]
            loss = loss_fn(model(Tensor(points[batch])), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(points))
        model.eval()
        accuracy = np.mean(model(Tensor(points)).data.argmax(axis=1) == labels)
        if verbose:
            print(f"epoch {epoch + 1:2d}  lr {optimizer.lr:.4f}  loss {losses[-1]:.4f}  accuracy {accuracy:.1%}")
    return losses


if __name__ == "__main__":
    main()
