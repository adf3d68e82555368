"""What `train --diagnostics` costs: the default run, with and without, side by side in one process.

    python -m benchmarks.diagnostics_cost [--epochs 2] [--rounds 4]

The data are loaded once; each round trains the default model from scratch twice, once without
and once with the diagnostics, alternating which goes first (the machine is shared and its load
drifts). Two measures:

- whole runs: the training wall time of each (epochs, per-epoch validation and checkpoints, and
  with diagnostics the probe and the JSON); the median over rounds of the per-round ratio. On a
  loaded machine two runs a minute apart differ by more than the cost being measured.
- inside the run with diagnostics: the time spent in the diagnostics' own code (the measured
  steps' norms and copies, the epoch's snapshot, the probe, the JSON; the optimizer steps they
  wrap are not counted) as a share of that run's training time. Numerator and denominator see
  the same load, so this share is steady where the whole-run ratio is not.

The pictures are drawn once per run, after training; their time is reported apart.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mnist.report.diagnostic_plots import save_diagnostic_plots
from mnist.training.config import TrainConfig
from mnist.training.trainer import Trainer, prepare_data


class Stopwatch:
    """Wraps callables and adds up the seconds spent in them."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        return timed


def timed_run(config: TrainConfig, data, diagnostics: bool) -> dict:
    """Seconds of one fresh run: training, and with diagnostics their own share and the pictures."""
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, data, Path(folder), log=lambda *_: None, diagnostics=diagnostics)
        in_diagnostics, in_optimizer = Stopwatch(), Stopwatch()
        if diagnostics:  # instance attributes shadow the methods the training loop calls
            for name in ("start_epoch", "step", "end_epoch"):
                setattr(trainer.diagnostics, name, in_diagnostics.wrap(getattr(trainer.diagnostics, name)))
            trainer.optimizer.step = in_optimizer.wrap(trainer.optimizer.step)
        started = time.perf_counter()
        trainer.run()
        trained = time.perf_counter()
        if trainer.diagnostics is not None:
            save_diagnostic_plots(folder, trainer.diagnostics.to_dict(), trainer.model)
        return {"training": trained - started, "own": in_diagnostics.seconds - in_optimizer.seconds,
                "pictures": time.perf_counter() - trained}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.diagnostics_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    config = TrainConfig(epochs=args.epochs)
    data = prepare_data(config)
    ratios, shares, pictures = [], [], []
    for round_number in range(args.rounds):
        runs = {}
        for diagnostics in ((False, True) if round_number % 2 == 0 else (True, False)):
            runs[diagnostics] = timed_run(config, data, diagnostics)
        with_, without = runs[True], runs[False]
        ratios.append(with_["training"] / without["training"])
        shares.append(with_["own"] / with_["training"])
        pictures.append(with_["pictures"])
        print(f"round {round_number + 1}: without {without['training']:.2f} s, with {with_['training']:.2f} s "
              f"(ratio {ratios[-1]:.3f}); inside it the diagnostics took {with_['own']:.2f} s "
              f"({shares[-1]:.2%}); pictures {pictures[-1]:.2f} s", flush=True)
    print(f"{args.rounds} rounds, {args.epochs} epochs: whole-run ratio with/without median "
          f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}); "
          f"diagnostics' own share of training median {statistics.median(shares):.2%} "
          f"(range {min(shares):.2%}-{max(shares):.2%}); pictures median "
          f"{statistics.median(pictures):.2f} s")


if __name__ == "__main__":
    main()
