"""An MLP classifier on two interleaved spirals, written as for PyTorch.

Ported from the PyTorch script by changing the imports, and:
- `Tensor(array)` for `torch.tensor(array)` (labels stay an int64 NumPy array);
- `nn.Linear(in, out, rng=...)` seeds the initial weights (PyTorch: torch.manual_seed, which
  tinygrad_np.manual_seed also offers);
- integer labels come out of the DataLoader as a NumPy array (tensors hold floats only).
Parameter groups (no weight decay on biases and batch-norm weights), OneCycleLR stepped per batch
and gradient clipping are written exactly as for PyTorch.

    python examples/mlp.py
"""
import numpy as np

from tinygrad_np import Tensor, nn
from tinygrad_np.data import DataLoader, TensorDataset
from tinygrad_np.optim import SGD
from tinygrad_np.optim.lr_scheduler import OneCycleLR


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
    decay = [p for name, p in model.named_parameters() if name.endswith("weight") and p.ndim == 2]
    no_decay = [p for name, p in model.named_parameters() if not (name.endswith("weight") and p.ndim == 2)]
    optimizer = SGD([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}],
                    lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(points, labels), batch_size=batch_size, shuffle=True, generator=seed)
    scheduler = OneCycleLR(optimizer, max_lr=0.2, total_steps=epochs * len(loader))

    losses = []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(y)
        losses.append(total / len(points))
        model.eval()
        accuracy = np.mean(model(Tensor(points)).data.argmax(axis=1) == labels)
        if verbose:
            lr = scheduler.get_last_lr()[0]
            print(f"epoch {epoch + 1:2d}  lr {lr:.4f}  loss {losses[-1]:.4f}  accuracy {accuracy:.1%}")
    return losses


if __name__ == "__main__":
    main()
