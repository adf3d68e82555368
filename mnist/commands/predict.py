"""`python -m mnist predict`: classify one test image (by index) or a 28x28 grayscale PNG."""

import numpy as np

from mnist.commands import arguments
from mnist.data import load_dataset
from mnist.errors import DataError
from mnist.evaluation import predict_probabilities
from mnist.saved_model import SavedModel


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="classify one image with a checkpoint", description=__doc__,
                                   formatter_class=arguments.HelpFormatter)
    parser.add_argument("--checkpoint", type=arguments.existing_file, required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", type=arguments.non_negative_int, help="index into the test set")
    source.add_argument("--image", type=arguments.existing_file, help="a 28x28 grayscale PNG")
    parser.add_argument("--invert", action="store_true",
                        help="the PNG is dark ink on a light background (MNIST is light on dark)")
    parser.add_argument("--data-dir", type=arguments.existing_folder, default=None,
                        help="test data for --index (default: the checkpoint's)")
    parser.add_argument("--top", type=arguments.positive_int, default=3, help="how many classes to list")
    parser.set_defaults(func=run)


def read_png(path, invert: bool = False) -> np.ndarray:
    """A 28x28 PNG as a uint8 (28, 28) image; colour is averaged to gray, alpha ignored."""
    from matplotlib.image import imread

    try:
        pixels = imread(path)
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{path}: not a readable PNG: {error}") from None
    if pixels.ndim == 3:
        pixels = pixels[..., :3].mean(axis=2)
    if pixels.shape != (28, 28):
        raise DataError(f"{path}: image is {pixels.shape[1]}x{pixels.shape[0]} pixels, the model needs 28x28")
    scale = 255 if pixels.dtype.kind == "f" else 1
    image = np.clip(np.rint(pixels * scale), 0, 255).astype(np.uint8)
    return 255 - image if invert else image


def run(args) -> int:
    saved = SavedModel(args.checkpoint)
    true_label = None
    if args.image:
        image = read_png(args.image, args.invert)
    else:
        dataset = load_dataset(args.data_dir or saved.data_dir)
        if args.index >= len(dataset.test_images):
            raise DataError(f"--index {args.index} is out of range: the test set has {len(dataset.test_images)} images")
        image, true_label = dataset.test_images[args.index], int(dataset.test_labels[args.index])
    probabilities = predict_probabilities(saved.model, saved.features(image[None]))[0]
    best = np.argsort(probabilities)[::-1][:args.top]
    names = saved.class_names
    print(f"prediction: {names[best[0]]}" + (f" (true: {names[true_label]})" if true_label is not None else ""))
    print("| class | probability |\n|-------|------------:|")
    for k in best:
        print(f"| {names[k]} | {probabilities[k]:.4f} |")
    return 0
