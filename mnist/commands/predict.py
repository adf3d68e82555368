"""`python -m mnist predict`: classify one test image (by index) or a 28x28 grayscale PNG."""

import numpy as np
from PIL import PngImagePlugin

from mnist.commands import arguments
from mnist.data.dataset import IMAGE_SHAPE, load_dataset
from mnist.errors import DataError
from mnist.models.saved_model import SavedModel
from mnist.report.evaluation import predict_probabilities


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("predict", help="classify one image with a checkpoint", description=__doc__,
                                   formatter_class=arguments.HelpFormatter)
    parser.add_argument("--checkpoint", type=arguments.existing_file, required=True,
                        help="checkpoint.npz written by train")
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
    """A 28x28 PNG as a uint8 (28, 28) image; colour is averaged to gray, alpha ignored.

    The size comes from the PNG's header, which Pillow reads on its own; any other size is
    refused before a pixel is decoded, so a small file claiming 40000x40000 pixels costs nothing.
    """
    try:
        # The PNG plugin itself, not Image.open: that one refuses huge sizes with a warning or
        # its own error, while every size but 28x28 is refused here, in one message.
        with PngImagePlugin.PngImageFile(path) as image:
            size = image.size
            pixels = _gray(image) if size == IMAGE_SHAPE[::-1] else None
    except (OSError, ValueError, SyntaxError) as error:
        raise DataError(f"{path}: not a readable PNG: {error}") from None
    if pixels is None:
        raise DataError(f"{path}: image is {size[0]}x{size[1]} pixels, the model needs 28x28")
    image = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return 255 - image if invert else image


def _gray(image) -> np.ndarray:
    """Gray levels 0..255 as floats: 16-bit gray scaled down, anything else through RGB."""
    if image.mode.startswith("I"):  # 16-bit grayscale
        return np.asarray(image, dtype=np.float64) / 257
    return np.asarray(image.convert("RGB"), dtype=np.float64).mean(axis=2)


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
