"""`python -m mnist evaluate`: test-set accuracy, per-class table, confusion matrix and plots of a checkpoint."""

import numpy as np

from mnist.commands import arguments
from mnist.data.dataset import load_dataset
from mnist.models.saved_model import SavedModel
from mnist.output_folder import claim_output_folder
from mnist.report.summary import REPORT_NAMES, evaluate_and_report


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate a checkpoint on the test set", description=__doc__,
                                   formatter_class=arguments.HelpFormatter)
    parser.add_argument("--checkpoint", type=arguments.existing_file, required=True,
                        help="checkpoint.npz written by train")
    parser.add_argument("--data-dir", type=arguments.existing_folder, default=None,
                        help="test data folder (default: the one the checkpoint was trained on)")
    parser.add_argument("--out", type=arguments.output_folder, default=None,
                        help="where metrics.json and the plots go (default: the checkpoint's folder)")
    parser.add_argument("--test-limit", type=arguments.positive_int, default=None,
                        help="evaluate on the first N test images only (default: as many as the run was "
                             "evaluated on, so the accuracy is the one `train` printed)")
    parser.set_defaults(func=run)


def run(args) -> int:
    saved = SavedModel(args.checkpoint)
    with claim_output_folder(args.out or args.checkpoint.parent, REPORT_NAMES) as out:
        dataset = load_dataset(args.data_dir or saved.data_dir)
        limit = args.test_limit or saved.test_limit
        images, labels = dataset.test_images[:limit], dataset.test_labels[:limit].astype(np.intp)
        evaluate_and_report(saved.model, saved.features(images), labels, images, dataset.class_names,
                            out, saved.history)
    return 0
