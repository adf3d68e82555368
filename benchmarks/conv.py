"""The CNN training step of issue 13, tinygrad_np against PyTorch eager and the hand-derived NumPy
network (mnist.reference: the closed-form formulas, written out), side by side in one process.

conv 1->32 5x5, ReLU, max-pool 2, conv 32->64 5x5, ReLU, max-pool 2, flatten, linear 1024->10;
cross-entropy; plain SGD; float32; the same initial weights and the same MNIST batches. A round
runs STEPS steps of each framework, one step each in turn (the order rotating, as in
timing.run_in_turns), and the large GEMM once; ratios are medians of the per-round ratios.
A fourth candidate is tinygrad_np with conv2d's spectral lowering turned off ("im2col only"),
to show what the lowering buys.

    python -m benchmarks.conv [--batch 64 128] [--rounds 7] [--threads 2] [--profile]

`--profile` prints where a tinygrad_np step spends its time (cProfile, by function), the
measurement the layout of ops/window.py was chosen from.
"""
import argparse
import cProfile
import multiprocessing
import pstats
import statistics
import sys

import numpy as np

from benchmarks import machine, report
from benchmarks.frameworks import TORCH_MISSING, torch
from benchmarks.machine import LargeGemm
from benchmarks.timing import run_in_turns
from mnist.data import dataset as mnist_data
from mnist.models.registry import DEFAULT_CNN, KINDS
from mnist.reference import network
from tinygrad_np import Tensor, memory, nn
from tinygrad_np.kernels import spectral
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.optim import SGD

BATCH_SIZES = (64, 128)
STEPS = 8  # per candidate and round
SAMPLES = 4096  # MNIST training images the steps cycle through
LEARNING_RATE = 0.01
# (in_channels, out_channels, kernel side, output side) of each conv on a 28x28 input
CONVS = ((1, 32, 5, 24), (32, 64, 5, 8))


def step_flops(batch_size: int) -> int:
    """Multiply-adds x 2 of the step's matrix products as im2col computes them: forward and
    weight gradient of every layer, input gradient of all but the first conv (whose input needs
    none). The spectral lowering of the second conv does fewer: the rate is an effective one."""
    flops = 0
    for index, (in_channels, out_channels, kernel, side) in enumerate(CONVS):
        product = 2 * batch_size * side * side * out_channels * in_channels * kernel * kernel
        flops += product * (2 if index == 0 else 3)
    return flops + 3 * 2 * batch_size * 1024 * 10


def tinygrad_cnn(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Conv2d(1, 32, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1024, 10, rng=rng))


def torch_cnn(model: nn.Sequential):
    """PyTorch's copy of `model`: the same weights (Linear's transposed to PyTorch's (out, in))."""
    layers = [torch.nn.Conv2d(1, 32, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
              torch.nn.Conv2d(32, 64, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
              torch.nn.Flatten(), torch.nn.Linear(1024, 10)]
    copy = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for (name, ours), theirs in zip(model.named_parameters(), copy.parameters(), strict=True):
            values = ours.data.T if name.endswith("7.weight") else ours.data
            theirs.copy_(torch.from_numpy(np.ascontiguousarray(values)))
    return copy


class CnnWorkload:
    """MNIST images (N, 1, 28, 28) in [0, 1] and their labels; each `*_steps` makes a fresh model
    from the same seed and returns one callable per training step, cycling through the batches."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0):
        self.x = np.divide(images[:, None], 255, dtype=np.float32)
        self.labels = labels.astype(np.intp)
        self.batch_size, self.seed = batch_size, seed
        self.models = {}

    def _batches(self, steps: int):
        full_batches = len(self.x) // self.batch_size
        starts = [(step % full_batches) * self.batch_size for step in range(steps)]
        return [(self.x[start:start + self.batch_size], self.labels[start:start + self.batch_size])
                for start in starts]

    def tinygrad_steps(self, steps: int, spectral_lowering: bool = True) -> list:
        """With spectral_lowering=False every conv takes im2col (spectral.forced(False))."""
        model = self.models["tinygrad_np" if spectral_lowering else "im2col only"] = tinygrad_cnn(self.seed)
        optimizer = SGD(model.parameters(), lr=LEARNING_RATE)

        def step(x, labels):
            loss = cross_entropy(model(Tensor.from_numpy(x)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()

        def im2col_step(x, labels):
            with spectral.forced(False):
                return step(x, labels)
        chosen = step if spectral_lowering else im2col_step
        return [lambda batch=batch: chosen(*batch) for batch in self._batches(steps)]

    def reference_steps(self, steps: int) -> list:
        """The same network and SGD by the closed-form formulas (mnist.reference.network.train_step)."""
        model = tinygrad_cnn(self.seed)
        params = {f"layers.{name}": np.array(value) for name, value in model.state_dict().items()}
        specs = KINDS["cnn"].reference_layers({**DEFAULT_CNN, "batch_norm": False, "hidden": 0, "dropout": 0.0})
        self.models["reference"] = params
        one_hot = np.eye(10, dtype=np.float32)
        return [lambda batch=batch: network.train_step(params, specs, batch[0], one_hot[batch[1]], LEARNING_RATE)
                for batch in self._batches(steps)]

    def torch_steps(self, steps: int) -> list:
        model = self.models["torch"] = torch_cnn(tinygrad_cnn(self.seed))
        optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        loss_fn = torch.nn.functional.cross_entropy

        def step(x, labels):
            loss = loss_fn(model(x), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()
        return [lambda batch=batch: step(torch.from_numpy(batch[0]), torch.from_numpy(batch[1].astype(np.int64)))
                for batch in self._batches(steps)]


def measure(images: np.ndarray, labels: np.ndarray, rounds: int, batch_sizes=BATCH_SIZES, steps: int = STEPS) -> list:
    """One row per batch size: median step seconds, the median per-round ratio to PyTorch (and
    its range), and the step's GFLOP/s as a fraction of the large GEMM's in the same rounds."""
    gemm = LargeGemm()
    rows = []
    for batch_size in batch_sizes:
        workload = CnnWorkload(images, labels, batch_size)
        candidates = {"tinygrad_np": workload.tinygrad_steps(steps), "reference": workload.reference_steps(steps),
                      "im2col only": workload.tinygrad_steps(steps, spectral_lowering=False)}
        if torch:
            candidates["torch"] = workload.torch_steps(steps)
        candidates["gemm"] = gemm  # once a round, in turn with the first steps
        turns = run_in_turns(candidates, rounds=rounds, warmup=1)
        flops = step_flops(batch_size) * steps
        achieved = [flops / seconds / 1e9 for seconds in turns.seconds["tinygrad_np"]]
        limit = [gemm.gflops(seconds) for seconds in turns.seconds["gemm"]]
        rows.append({
            "batch_size": batch_size, "steps_per_round": steps,
            "step_ms": {name: 1e3 * turns.median(name) / steps for name in candidates if name != "gemm"},
            "ratio_to_reference": turns.ratio("tinygrad_np", "reference"),
            "ratio_to_torch": turns.ratio("tinygrad_np", "torch") if torch else None,
            "ratio_to_torch_range": turns.ratio_range("tinygrad_np", "torch") if torch else None,
            "gflops": flops / turns.median("tinygrad_np") / 1e9,
            "gemm_gflops": statistics.median(limit),
            "fraction_of_gemm": statistics.median(a / b for a, b in zip(achieved, limit, strict=True)),
            "rounds": turns.seconds,
        })
    return rows


def measure_in_fresh_process(rounds: int, steps: int, threads: int) -> list:
    """measure() in a new interpreter. After the MLP throughput part in the same process, the
    NumPy steps ran a fifth slower and PyTorch's did not (tinygrad_np at batch 128: 35.9 against
    24.9 ms run alone; the hand-derived network 319 against 264), so the ratio measured what ran
    before rather than the step."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_measure_alone, (rounds, steps, threads))


def _measure_alone(rounds: int, steps: int, threads: int) -> list:
    memory.keep_freed_memory()  # as `python -m benchmarks` does
    dataset = mnist_data.load_dataset()
    with machine.limit_threads(threads):
        return measure(dataset.train_images[:SAMPLES], dataset.train_labels[:SAMPLES], rounds, steps=steps)


def profile(images: np.ndarray, labels: np.ndarray, batch_size: int, steps: int = 20, top: int = 15) -> None:
    """Print the tinygrad_np step's cProfile, by own time."""
    workload = CnnWorkload(images, labels, batch_size)
    run = workload.tinygrad_steps(steps)
    run[0]()
    profiler = cProfile.Profile()
    profiler.enable()
    for step in run:
        step()
    profiler.disable()
    print(f"tinygrad_np CNN step, batch {batch_size}: {steps} steps, by own time")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the tinygrad_np step instead")
    args = parser.parse_args(argv)
    memory.keep_freed_memory()  # as `python -m benchmarks` does
    dataset = mnist_data.load_dataset()
    images, labels = dataset.train_images[:SAMPLES], dataset.train_labels[:SAMPLES]
    with machine.limit_threads(args.threads):
        if args.profile:
            for batch_size in args.batch:
                profile(images, labels, batch_size)
            return 0
        if not torch:
            print(f"note: {TORCH_MISSING}", file=sys.stderr)
        print("\n".join(report.conv_table(measure(images, labels, args.rounds, args.batch))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
