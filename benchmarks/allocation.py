"""What glibc's default thresholds cost: training with and without mnist.allocator's settings.

mallopt changes the whole process for good, so each measurement is a fresh child process
(`python -m benchmarks.allocation 784-128-64-10 BATCH float32 tinygrad|reference on|off` prints
one JSON line), and the two settings take turns (on off on off ...). A child trains a quarter
epoch (SAMPLES) to warm up, then times a second one; minor page faults are counted over that.
"""
import json
import resource
import statistics
import subprocess
import sys
import time

from benchmarks.end_to_end import ROOT, peak_rss_mib, thread_env

SETTINGS = ("on", "off")
SAMPLES = 15000


def run_child(layer_sizes, batch_size: int, dtype: str, which: str, setting: str, threads: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.allocation", "-".join(map(str, layer_sizes)),
               str(batch_size), dtype, which, setting]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=thread_env(threads))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def measure(layer_sizes, batch_size: int, dtype: str, which: str, rounds: int, threads: int) -> dict:
    """Median epoch seconds and page faults per step with the settings on and off, and the
    median over rounds of the on/off time ratio."""
    runs = {setting: [] for setting in SETTINGS}
    for _ in range(rounds):
        for setting in SETTINGS:
            runs[setting].append(run_child(layer_sizes, batch_size, dtype, which, setting, threads))
    ratio = statistics.median(on["seconds"] / off["seconds"] for on, off in zip(runs["on"], runs["off"]))
    return {"layer_sizes": list(layer_sizes), "batch_size": batch_size, "dtype": dtype, "framework": which,
            **{f"{setting}_seconds": statistics.median(r["seconds"] for r in runs[setting]) for setting in SETTINGS},
            **{f"{setting}_faults_per_step": statistics.median(r["faults_per_step"] for r in runs[setting])
               for setting in SETTINGS},
            "on_off_ratio": ratio, "runs": runs}


def _child(layer_spec: str, batch_size: str, dtype: str, which: str, setting: str) -> None:
    if setting == "on":
        from mnist.allocator import keep_freed_memory
        if not keep_freed_memory():
            raise SystemExit("mallopt is not available here (not glibc, or GLIBC_TUNABLES sets malloc)")
    from benchmarks.trainers import Workload
    from mnist.data import dataset as mnist_data

    dataset = mnist_data.load_dataset()
    workload = Workload(mnist_data.to_features(dataset.train_images[:SAMPLES]), dataset.train_labels[:SAMPLES],
                        tuple(int(size) for size in layer_spec.split("-")), dtype=dtype)
    [epoch] = getattr(workload, f"{which}_epoch")(int(batch_size))
    epoch()  # warm-up: the first pass pays for first touches under any setting
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    started = time.perf_counter()
    epoch()
    seconds = time.perf_counter() - started
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    steps = -(-len(workload.x) // int(batch_size))
    print(json.dumps({"seconds": seconds, "faults_per_step": faults / steps, "samples": SAMPLES,
                      "peak_rss_mib": peak_rss_mib()}))


if __name__ == "__main__":
    _child(*sys.argv[1:])
