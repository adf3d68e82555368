"""`python -m benchmarks` (`make bench`): the measurements and targets of issues 6 and 13.

Writes benchmarks/results/latest.md and latest.json (or --out DIR) and prints PASS/FAIL per
target. `--quick` runs a quarter epoch, fewer rounds and a one-epoch memory run (about a minute
or two); the full run takes a few minutes on two cores.
"""
import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import conv, end_to_end, machine, overhead, report, throughput
from benchmarks.frameworks import TORCH_MISSING, torch
from mnist.atomic import atomic_write
from mnist.data import dataset as mnist_data
from tinygrad_np import memory
from tinygrad_np.optim import axpy

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("throughput", "conv", "overhead", "accuracy", "memory")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a quarter epoch, fewer rounds: a smoke run")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for NumPy's BLAS and PyTorch alike (default: what NumPy's BLAS uses, "
                             f"now {machine.default_threads()})")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="run only these parts")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.md and latest.json")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = args.threads or machine.default_threads()
    rounds = 3 if args.quick else 5
    notes = []
    if memory.keep_freed_memory():  # as `python -m mnist` does; for both frameworks, which share the process
        notes.append("glibc's mmap and trim thresholds raised for the whole process "
                     "(tinygrad_np.memory.keep_freed_memory), as `python -m mnist` does at startup")
    if not torch:
        notes.append(TORCH_MISSING)
        print(f"note: {TORCH_MISSING}", file=sys.stderr)
    notes.append(f"tinygrad_np's SGD updates parameters of {axpy.MIN_BLAS_SIZE:,} values or more with OpenBLAS's "
                 "axpy, in one pass"
                 if axpy.uses_blas() else
                 "no OpenBLAS axpy found: tinygrad_np's SGD updates parameters in NumPy's two passes")
    results = {"command": "python -m benchmarks" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
               "machine": machine.describe(threads), "quick": args.quick, "notes": notes}
    started = time.perf_counter()
    with machine.limit_threads(threads):
        if "throughput" in args.only:
            dataset = mnist_data.load_dataset()
            samples = 15000 if args.quick else None
            images = mnist_data.to_features(dataset.train_images[:samples])
            features = images.reshape(len(images), -1)  # rows of pixels: the MLPs compared here take them
            _log("training throughput (items 1, 2)")
            results["throughput"] = throughput.measure(features, dataset.train_labels[:samples], rounds)
            del features
        if "conv" in args.only:
            _log("CNN training step (issue 13), in a fresh process")
            results["conv"] = conv.measure_in_fresh_process(rounds, conv.STEPS // 2 if args.quick else conv.STEPS,
                                                            threads)
        if "overhead" in args.only:
            _log("per-op overhead (item 3)")
            results["overhead"] = overhead.measure(rounds=9 if args.quick else 15)
        if "accuracy" in args.only:
            _log("time to 98% test accuracy (item 4)")
            results["time_to_accuracy"] = end_to_end.time_to_accuracy()
    if "memory" in args.only:
        _log("peak memory of a default training run (item 5)")
        results["memory"] = end_to_end.default_run_memory(threads, epochs=1 if args.quick else None)
    results["seconds"] = time.perf_counter() - started
    results["targets"] = report.targets(results)
    write(results, args.out)
    for target in results["targets"]:
        value = "-" if target["value"] is None else f"{target['value']:.3f}"
        print(f"{report.status(target['passed']):7} {target['target']}: {value} ({target['limit']})")
    print(f"wrote {args.out / 'latest.md'} and latest.json in {results['seconds']:.0f} s")
    return 0


def write(results: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / "latest.json", "w") as file:
        json.dump(results, file, indent=1, default=float)
        file.write("\n")
    with atomic_write(folder / "latest.md", "w") as file:
        file.write(report.markdown(results))


def _log(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
