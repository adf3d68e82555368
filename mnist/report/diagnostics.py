"""Training diagnostics: what the gradients, the updates and the activations of each layer do,
epoch by epoch, so that vanishing gradients, a too-large learning rate or dead units show up
before (or instead of) a bad loss curve.

Works on any model whose layers sit in a `Sequential` named `layers` (the app's convention):
every child with a `weight` parameter is a *weight layer* (Linear, Conv2d), every ReLU, Sigmoid
or Tanh child an *activation layer*. Per epoch it records

- for every weight layer: the gradient norm ||dL/dW|| and the update-to-weight ratio
  ||W_after - W_before|| / ||W_before|| of one optimizer step, both at a fixed sample of steps
  (every `sample_every`-th step of the run) and averaged over the epoch's samples; the ratio over
  the whole epoch, ||W_end - W_start|| / ||W_start||; and ||W|| at the epoch's end;
- for every activation layer, on a fixed probe batch run in eval mode after the epoch: the
  fraction of dead units (output 0 for every probe example; for (N, C, H, W) outputs a unit is a
  channel, dead when 0 at every position of every example), for Sigmoid and Tanh the fraction of
  saturated outputs, a histogram of the outputs with their mean and std, and how much a unit's
  output varies over the probe images.

Why sampled steps: the norms and weight copies of one measured step cost 5-11% of a default
training step (one BLAS thread), so measuring every step would cost about that much; about `SAMPLES_PER_EPOCH`
measured steps an epoch (one in 8 for the default run) still average dozens of steps, and kept
the diagnostics at 0.2-0.8% of the default run's training time (benchmarks/diagnostics_cost.py).
The probe batch's outputs come from the model's own forward (a forward hook captures them),
never from a second implementation.
"""
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np

from mnist.atomic import atomic_write
from mnist.errors import DataError
from tinygrad_np import Tensor, nn, no_grad
from tinygrad_np.nn import module as module_lib

DIAGNOSTICS_NAME = "diagnostics.json"
FORMAT_VERSION = 1
ACTIVATION_TYPES = (nn.ReLU, nn.Sigmoid, nn.Tanh)
# The output ranges of the bounded activations; an output within SATURATION_MARGIN of the range's
# width from either end is saturated: there sigmoid' = y(1 - y) and tanh' = 1 - y^2 are under 4%
# of their peak, so almost no gradient passes the unit.
SATURATION_RANGES = {nn.Sigmoid: (0.0, 1.0), nn.Tanh: (-1.0, 1.0)}
SATURATION_MARGIN = 0.01
SAMPLES_PER_EPOCH = 50
PROBE_SIZE = 512
HISTOGRAM_BINS = 40


def sample_every(steps_per_epoch: int, samples: int = SAMPLES_PER_EPOCH) -> int:
    """The step interval that gives about `samples` measured steps an epoch (at least every step)."""
    return max(1, steps_per_epoch // samples)


def norm(array: np.ndarray) -> float:
    """The Euclidean norm of every entry; in float64 where float32 squares would overflow."""
    with np.errstate(over="ignore"):
        value = float(np.linalg.norm(array.ravel()))
    if np.isinf(value) and np.isfinite(array).all():
        value = float(np.linalg.norm(array.ravel().astype(np.float64)))
    return value


def update_ratio(before: np.ndarray, after: np.ndarray):
    """||after - before|| / ||before||: how far an update moved the weights, relative to their size;
    None (undefined) when the weights were all 0 before, as a zero-initialised layer's are."""
    size = norm(before)
    return norm(after - before) / size if size else None


def dead_fraction(output: np.ndarray) -> float:
    """Fraction of units (axis 1: features of (N, F), channels of (N, C, H, W)) whose output is 0
    for every example and position: such a ReLU unit passes no gradient on any of them."""
    if output.ndim < 2:
        raise ValueError(f"activations need a batch axis and a unit axis, got shape {output.shape}")
    other_axes = tuple(axis for axis in range(output.ndim) if axis != 1)
    dead = ~(output != 0).any(axis=other_axes)
    return float(dead.mean())


def saturated_fraction(output: np.ndarray, low: float, high: float, margin: float = SATURATION_MARGIN) -> float:
    """Fraction of outputs within `margin` * (high - low) of `low` or `high`: a bounded activation's flat ends."""
    band = margin * (high - low)
    return float(np.mean((output <= low + band) | (output >= high - band)))


def unit_spread(output: np.ndarray):
    """The mean over units (axis 1) of each unit's standard deviation over the examples (and
    positions): how much a unit's output depends on the input. Near 0 while the outputs' overall
    std is not, every unit answers every image alike and the layer passes on almost nothing
    about the image. None when an output is not finite."""
    per_unit = np.moveaxis(output, 1, 0).reshape(output.shape[1], -1)
    return float(per_unit.std(axis=1).mean()) if np.isfinite(per_unit).all() else None


def histogram(output: np.ndarray, bins: int = HISTOGRAM_BINS) -> dict:
    """The distribution of a layer's outputs (N, units, ...): bin edges and counts, the fraction
    exactly 0, mean, std and `unit_spread`. Non-finite outputs (an overflowing layer) are left out
    of the bins and statistics and counted separately."""
    values = output.ravel()
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=bins) if finite.size else (np.zeros(bins, int), np.arange(bins + 1.0))
    return {"edges": edges.tolist(), "counts": counts.tolist(), "units": int(output.shape[1]),
            "zero_fraction": float(np.mean(values == 0)), "mean": float(finite.mean()) if finite.size else None,
            "std": float(finite.std()) if finite.size else None, "unit_spread": unit_spread(output),
            "nonfinite": int(values.size - finite.size)}


def _mean(samples: list, key: str, layer: str):
    """The mean of one layer's value over the sampled steps, leaving out undefined (None) ones."""
    values = [sample[key][layer] for sample in samples if sample[key][layer] is not None]
    return float(np.mean(values)) if values else None


class TrainingDiagnostics:
    """Collects the diagnostics of a training run; the loop calls it at three places:

        diagnostics.start_epoch(epoch)               # before the epoch's first step
        diagnostics.step(optimizer, step)            # instead of optimizer.step(); step counts from 0
        diagnostics.end_epoch(epoch)                 # after the epoch's last step: probe, record, save

    `model` is a Module whose layers sit in a Sequential named `layers`; `probe` is a fixed batch
    of inputs (the same every epoch, so histograms are comparable); `path` is where `end_epoch`
    writes the JSON (atomically), or None to keep it in memory; `every` overrides `sample_every`.
    """

    def __init__(self, model, probe: np.ndarray, steps_per_epoch: int, path=None,
                 every: Optional[int] = None):
        self.model, self.probe, self.path = model, probe, Path(path) if path else None
        self.steps_per_epoch = steps_per_epoch
        self.every = every or sample_every(steps_per_epoch)
        children = list(model.layers.named_children())
        self.weights = {f"layers.{name}": child.weight for name, child in children
                        if isinstance(getattr(child, "weight", None), nn.Parameter)}
        self.activations = {f"layers.{name}": child for name, child in children if isinstance(child, ACTIVATION_TYPES)}
        # What each layer is, for the pictures' labels: {"layers.0": {"type": "Linear", "weight_shape": [784, 256]}}
        self.layers: dict[str, dict[str, Any]] = {f"layers.{name}": {"type": type(child).__name__}
                                                  for name, child in children}
        for name, weight in self.weights.items():
            self.layers[name]["weight_shape"] = list(weight.shape)
        self.epochs: list[dict] = []                        # one record per completed epoch
        self._epoch_start: Optional[dict[str, np.ndarray]] = None  # the weights when the current epoch started
        self._samples: list[dict] = []                      # the current epoch's measured steps

    # ---- the three calls ----------------------------------------------------------------------
    def start_epoch(self, epoch: int) -> None:
        """Remember the weights; forget records of this epoch and later (a resumed run redoes them)."""
        self.epochs = [record for record in self.epochs if record["epoch"] <= epoch]
        self._epoch_start = {name: weight.data.copy() for name, weight in self.weights.items()}
        self._samples = []

    def step(self, optimizer, step: int) -> None:
        """`optimizer.step()`; at sampled steps, also the gradient norms before it and the update after."""
        if step % self.every:
            optimizer.step()
            return
        # A weight no gradient reached has gradient 0 (and the optimizer leaves it as it is).
        gradients = {name: norm(weight.grad.data) if weight.grad is not None else 0.0
                     for name, weight in self.weights.items()}
        before = {name: weight.data.copy() for name, weight in self.weights.items()}
        optimizer.step()
        ratios = {name: update_ratio(before[name], weight.data) for name, weight in self.weights.items()}
        self._samples.append({"step": step, "lr": float(optimizer.lr), "gradient_norm": gradients,
                              "update_ratio": ratios})

    def end_epoch(self, epoch: int) -> dict:
        """Record epoch `epoch` (counted from 1, as in the history), save the JSON, return the record."""
        if self._epoch_start is None:
            raise RuntimeError("end_epoch without start_epoch: the epoch's starting weights are unknown")
        outputs = self.probe_activations()
        record = {
            "epoch": epoch,
            "gradient_norm": {name: _mean(self._samples, "gradient_norm", name) for name in self.weights},
            "update_ratio": {name: _mean(self._samples, "update_ratio", name) for name in self.weights},
            "epoch_update_ratio": {name: update_ratio(self._epoch_start[name], weight.data)
                                   for name, weight in self.weights.items()},
            "weight_norm": {name: norm(weight.data) for name, weight in self.weights.items()},
            "dead_fraction": {name: dead_fraction(output) for name, output in outputs.items()},
            "saturated_fraction": {name: saturated_fraction(outputs[name], *SATURATION_RANGES[type(module)])
                                   for name, module in self.activations.items()
                                   if type(module) in SATURATION_RANGES},
            "activations": {name: histogram(output) for name, output in outputs.items()},
            "samples": self._samples,
        }
        self.epochs.append(record)
        self._epoch_start, self._samples = None, []
        if self.path is not None:
            save_diagnostics(self.path, self.to_dict())
        return record

    # ---- the probe ----------------------------------------------------------------------------
    @no_grad()
    def probe_activations(self) -> dict:
        """Each activation layer's output on the probe batch, in eval mode (no dropout), from the
        model's own forward: a forward hook keeps the outputs of the activation modules."""
        names = {id(module): name for name, module in self.activations.items()}
        outputs = {}

        def keep(module, args, kwargs, output):
            if id(module) in names:
                outputs[names[id(module)]] = output.data

        was_training = self.model.training
        self.model.eval()
        module_lib.forward_hooks.append(keep)
        try:
            self.model(Tensor.from_numpy(self.probe))
        finally:
            module_lib.forward_hooks.remove(keep)
            self.model.train(was_training)
        return outputs

    # ---- the file -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"version": FORMAT_VERSION, "layers": self.layers, "steps_per_epoch": self.steps_per_epoch,
                "sample_every": self.every, "probe_size": int(len(self.probe)), "epochs": self.epochs}

    def continue_from(self, path) -> None:
        """Take the epochs recorded in `path` (a resumed run's diagnostics so far), if it exists."""
        if Path(path).exists():
            self.epochs = load_diagnostics(path)["epochs"]


def save_diagnostics(path, diagnostics: dict) -> None:
    """Write the diagnostics as JSON, atomically; NaN or Inf is refused rather than written as
    something other JSON readers reject."""
    with atomic_write(path, "w") as file:
        json.dump(diagnostics, file, indent=1, allow_nan=False)


def load_diagnostics(path) -> dict:
    """Read what `save_diagnostics` wrote; a file that is not such a record raises DataError naming it."""
    try:
        diagnostics = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: cannot read the diagnostics: {error}") from None
    if not isinstance(diagnostics, dict) or diagnostics.get("version") != FORMAT_VERSION:
        raise DataError(f"{path}: not a diagnostics file of version {FORMAT_VERSION}")
    return diagnostics
