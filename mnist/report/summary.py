"""The end of a run: test-set metrics as a table and JSON, and the pictures."""
import json
from pathlib import Path

import numpy as np

from mnist.atomic import atomic_write, make_folder
from mnist.report.evaluation import predict_probabilities
from mnist.report.metrics import accuracy, confusion_matrix, per_class_accuracy
from mnist.report.plots import PLOT_NAMES, save_all_plots

METRICS_NAME = "metrics.json"
REPORT_NAMES = (METRICS_NAME, *PLOT_NAMES)  # what evaluate_and_report writes


def evaluate_and_report(model, test_x, test_y, test_images, class_names, out_dir, history, log=print) -> dict:
    """Evaluate on the test set, write metrics.json and the plots, print the per-class table."""
    out_dir = make_folder(out_dir)
    probabilities = predict_probabilities(model, test_x)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(test_y, predicted, len(class_names))
    metrics = {
        "test_accuracy": accuracy(test_y, predicted),
        "test_samples": int(len(test_y)),
        # A class absent from the test set has no accuracy: null in JSON, not a bare NaN.
        "per_class_accuracy": {name: None if np.isnan(value) else value
                               for name, value in zip(class_names, per_class_accuracy(matrix).tolist(), strict=True)},
        "confusion_matrix": matrix.tolist(),
    }
    with atomic_write(out_dir / METRICS_NAME, "w") as file:
        json.dump(metrics, file, indent=1)
    plots = save_all_plots(out_dir, history, test_images, probabilities, test_y, class_names)
    log(format_table(metrics, class_names))
    log(f"wrote {out_dir / METRICS_NAME} and {', '.join(Path(p).name for p in plots)}")
    return metrics


def format_table(metrics: dict, class_names) -> str:
    """A Markdown table of per-class accuracy, then the overall test accuracy."""
    width = max(len(name) for name in class_names)
    counts = np.asarray(metrics["confusion_matrix"]).sum(axis=1)
    lines = [f"| {'class'.ljust(width)} | samples | accuracy |", f"|{'-' * (width + 2)}|--------:|---------:|"]
    for name, count in zip(class_names, counts, strict=True):
        value = metrics["per_class_accuracy"][name]
        shown = "n/a" if value is None else f"{value:.2%}"
        lines.append(f"| {name.ljust(width)} | {count:7d} | {shown:>8} |")
    lines.append(f"\ntest accuracy: {metrics['test_accuracy']:.2%} on {metrics['test_samples']} images")
    return "\n".join(lines)
