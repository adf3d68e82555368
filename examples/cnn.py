"""A small CNN that tells bars from crosses in noisy 12x12 images, written as for PyTorch.

Ported from the PyTorch script by changing the imports, and:
- `tinygrad_np.manual_seed` as torch.manual_seed: it seeds the layers' initial weights;
- integer labels come out of the DataLoader as a NumPy array (tensors hold floats only);
- `.argmax(axis=1)` on the logits' NumPy data for the predictions.

    python examples/cnn.py
"""
import numpy as np

import tinygrad_np
from tinygrad_np import Tensor, nn
from tinygrad_np.data import DataLoader, TensorDataset
from tinygrad_np.optim import Adam
from tinygrad_np.optim.lr_scheduler import StepLR

SIDE = 12


def shapes(samples: int, rng: np.random.Generator) -> tuple:
    """Images (N, 1, 12, 12) of a horizontal bar (0), a vertical bar (1) or a cross (2), anywhere."""
    labels = rng.integers(0, 3, samples)
    images = 0.3 * rng.standard_normal((samples, 1, SIDE, SIDE))
    for image, label in zip(images, labels, strict=True):
        row, column = rng.integers(2, SIDE - 2, 2)
        if label in (0, 2):
            image[0, row, 1:-1] += 1.0
        if label in (1, 2):
            image[0, 1:-1, column] += 1.0
    return images.astype(np.float32), labels


class ShapeNet(nn.Module):
    def __init__(self):
        self.layers = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 3 * 3, 3),
        )

    def forward(self, x):
        return self.layers(x)


def main(epochs: int = 6, batch_size: int = 32, seed: int = 0, verbose: bool = True) -> list:
    """Train and return the mean training loss of each epoch."""
    tinygrad_np.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images, labels = shapes(768, rng)
    test_images, test_labels = shapes(256, rng)  # fresh images: the accuracy that says it generalises
    model = ShapeNet()
    optimizer = Adam(model.parameters(), lr=3e-3)
    scheduler = StepLR(optimizer, step_size=3, gamma=0.3)
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True, generator=seed)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        total, correct = 0.0, 0
        for x, y in loader:
            logits = model(x)  # one forward pass serves the loss and the running training accuracy
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            correct += int(np.sum(logits.data.argmax(axis=1) == y))
        scheduler.step()
        losses.append(total / len(images))
        model.eval()  # batch norm now uses its running statistics, not the batch's
        test_accuracy = np.mean(model(Tensor(test_images)).data.argmax(axis=1) == test_labels)
        if verbose:
            print(f"epoch {epoch + 1}  loss {losses[-1]:.4f}  train accuracy {correct / len(images):.1%}  "
                  f"test accuracy {test_accuracy:.1%}")
    return losses


if __name__ == "__main__":
    main()
