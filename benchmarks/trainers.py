"""One epoch of MLP training (plain SGD, float32 unless asked, same data, same initial weights) three ways.

- tinygrad_np: mnist.models.mlp.MLP, cross_entropy, optim.SGD, as an application writes it.
- reference: mnist.reference.mlp.train_step, the closed-form NumPy network (the same math by hand).
- torch: PyTorch eager, nn.Linear + ReLU, F.cross_entropy, torch.optim.SGD.

Batches are consecutive slices of a training set shuffled once, so no candidate pays for a
gather; each step reads its loss as a Python float, as a training loop's log does. Each
`*_epoch(batch_size, parts)` returns `parts` callables that together train one epoch, in order,
so the harness can interleave the candidates' parts.
"""
import functools

import numpy as np

from benchmarks.frameworks import torch
from mnist.models.mlp import MLP
from mnist.reference import mlp as reference
from tinygrad_np import Tensor
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.optim import SGD

LEARNING_RATE = 0.05


def training_flops(layer_sizes, samples: int) -> int:
    """Multiply-adds x 2 of the matrix products in forward and backward (elementwise work left out):
    forward and the weight gradient for every layer, the input gradient for all but the first."""
    products = [fan_in * fan_out for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True)]
    return 2 * samples * (3 * sum(products) - products[0])


class Workload:
    """The data and initial weights shared by all three; each `*_epoch` makes a fresh runner,
    and `weights[name]()` gives that runner's current (W, b) arrays, W as (in, out)."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, layer_sizes, seed: int = 0, dtype=np.float32):
        order = np.random.default_rng(seed).permutation(len(features))
        self.x = np.ascontiguousarray(features[order], dtype=dtype)
        self.labels = labels[order].astype(np.intp)
        self.one_hot = np.eye(layer_sizes[-1], dtype=dtype)[self.labels]
        self.layer_sizes = tuple(layer_sizes)
        self.model_seed, self.dtype = seed, dtype
        self.weights = {}

    def model(self) -> MLP:
        return MLP(self.layer_sizes, seed=self.model_seed, dtype=self.dtype)

    def flops(self) -> int:
        return training_flops(self.layer_sizes, len(self.x))

    def _split(self, batch_size: int, parts: int, train_range) -> list:
        """`parts` callables, each training the batches of its share of the epoch."""
        starts = list(range(0, len(self.x), batch_size))
        bounds = [round(len(starts) * i / parts) for i in range(parts + 1)]
        return [functools.partial(train_range, starts[a], starts[b] if b < len(starts) else len(self.x))
                for a, b in zip(bounds, bounds[1:], strict=False)]

    def tinygrad_epoch(self, batch_size: int, parts: int = 1) -> list:
        model = self.model()
        optimizer = SGD(model.parameters(), lr=LEARNING_RATE)
        x, labels = self.x, self.labels
        self.weights["tinygrad_np"] = lambda: [p.data for p in model.parameters()]

        def train_range(first, stop):
            for start in range(first, stop, batch_size):
                loss = cross_entropy(model(Tensor.from_numpy(x[start:start + batch_size])),
                                     labels[start:start + batch_size])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss.item()
        return self._split(batch_size, parts, train_range)

    def reference_epoch(self, batch_size: int, parts: int = 1) -> list:
        params = reference.params_from_model(self.model())
        activations = ["relu"] * (len(self.layer_sizes) - 2)
        x, one_hot = self.x, self.one_hot
        self.weights["reference"] = lambda: [array for pair in params for array in pair]

        def train_range(first, stop):
            for start in range(first, stop, batch_size):
                reference.train_step(params, x[start:start + batch_size], one_hot[start:start + batch_size],
                                     activations, LEARNING_RATE)
        return self._split(batch_size, parts, train_range)

    def torch_epoch(self, batch_size: int, parts: int = 1) -> list:
        params = reference.params_from_model(self.model())
        layers = []
        for W, b in params:
            linear = torch.nn.Linear(*W.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W.T.copy()))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        x, labels = torch.from_numpy(self.x), torch.from_numpy(self.labels.astype(np.int64))
        cross_entropy_loss = torch.nn.functional.cross_entropy
        self.weights["torch"] = lambda: [p.detach().numpy().T for p in model.parameters()]

        def train_range(first, stop):
            for start in range(first, stop, batch_size):
                loss = cross_entropy_loss(model(x[start:start + batch_size]), labels[start:start + batch_size])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss.item()
        return self._split(batch_size, parts, train_range)
