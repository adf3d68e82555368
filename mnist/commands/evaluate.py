"""`python -m mnist evaluate`: test-set accuracy, per-class table, confusion matrix and plots of a checkpoint."""
import argparse

import numpy as np

from mnist.commands import arguments
from mnist.data import load_dataset
from mnist.report import evaluate_and_report
from mnist.saved_model import SavedModel


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate a checkpoint on the test set", description=__doc__,
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", type=arguments.existing_file, required=True)
    parser.add_argument("--data-dir", type=arguments.existing_folder, default=None,
                        help="test data folder (default: the one the checkpoint was trained on)")
    parser.add_argument("--out", type=arguments.output_folder, default=None,
                        help="where metrics.json and the plots go (default: the checkpoint's folder)")
    parser.set_defaults(func=run)


def run(args) -> int:
    saved = SavedModel(args.checkpoint)
    dataset = load_dataset(args.data_dir or saved.data_dir)
    history = _history_of(saved)
    evaluate_and_report(saved.model, saved.features(dataset.test_images), dataset.test_labels.astype(np.intp),
                        dataset.test_images, dataset.class_names, args.out or args.checkpoint.parent, history)
    return 0


def _history_of(saved: SavedModel) -> list:
    return saved.record.get("progress", {}).get("history", [])
