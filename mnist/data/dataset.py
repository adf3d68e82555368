"""The MNIST data layer: find, verify and load the IDX files, then shape them into model inputs.

    dataset = load_dataset()                      # vendored MNIST, checked against SHA256SUMS
    x = to_features(dataset.train_images)         # (60000, 1, 28, 28) float32 in [0, 1]
    batches = DataLoader(TensorDataset(x, dataset.train_labels), batch_size=128, shuffle=True)  # tinygrad_np.data
"""

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist.data.idx import format_shape, read_idx
from mnist.errors import DataError

VENDORED_DIR = Path(__file__).resolve().parents[1] / "vendored" / "mnist"
CHECKSUMS_NAME = "SHA256SUMS"
# The release's names without ".gz"; a folder may hold either the gzipped or the raw files.
FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
DIGIT_NAMES = tuple(str(digit) for digit in range(NUM_CLASSES))
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Both splits of an MNIST-format dataset. The arrays are read-only: every user shares them."""

    train_images: np.ndarray  # (N, 28, 28) uint8
    train_labels: np.ndarray  # (N,) uint8 in 0..9
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple
    name: str


# --- finding, verifying and loading the files -----------------------------------------------

def load_dataset(data_dir=None) -> Dataset:
    """Vendored MNIST (verified) when `data_dir` is None, else the four IDX files in `data_dir`.

    A folder whose name contains "fashion" gets Fashion-MNIST's class names, any other digits.
    """
    if data_dir is None:
        verify_vendored(VENDORED_DIR)
        folder, name = VENDORED_DIR, "mnist"
    else:
        folder = Path(data_dir)
        name = folder.resolve().name
    paths = {role: find_file(folder, base) for role, base in FILE_NAMES.items()}
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for split in ("train", "test"):
        _check_split(paths, arrays, split)
    for array in arrays.values():
        array.flags.writeable = False
    class_names = FASHION_NAMES if "fashion" in name.lower() else DIGIT_NAMES
    return Dataset(**arrays, class_names=class_names, name=name)


def find_file(folder, base_name) -> Path:
    """`folder/base_name.gz`, else the raw `folder/base_name`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    for candidate in (folder / f"{base_name}.gz", folder / base_name):
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: missing {base_name}.gz (or {base_name})")


def _check_split(paths, arrays, split):
    """What the model relies on: 28x28 uint8 images, at least one, one uint8 label in 0..9 per image."""
    images_path, labels_path = paths[f"{split}_images"], paths[f"{split}_labels"]
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{images_path}: images must be Nx28x28 uint8, "
                        f"got {format_shape(images.shape)} {images.dtype}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path}: labels must be N uint8, "
                        f"got {format_shape(labels.shape)} {labels.dtype}")
    if len(images) != len(labels):
        raise DataError(f"{images_path} has {len(images)} images "
                        f"but {labels_path} has {len(labels)} labels")
    if len(images) == 0:  # nothing to train on, or no test accuracy to report
        raise DataError(f"{images_path}: no images: the {split} split is empty")
    outside = np.flatnonzero(labels >= NUM_CLASSES)
    if outside.size:
        raise DataError(f"{labels_path}: {outside.size} labels outside 0..{NUM_CLASSES - 1}, "
                        f"the first is {labels[outside[0]]} at index {outside[0]}")


def read_checksums(folder) -> dict:
    """File name -> sha256 hex digest, from `folder/SHA256SUMS` in sha256sum's format."""
    path = Path(folder) / CHECKSUMS_NAME
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise DataError(f"{path}: cannot read: {error.strerror}") from None
    checksums = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2 or len(fields[0]) != 64:
            raise DataError(f"{path}: line {number} is not '<sha256>  <file name>'")
        checksums[fields[1].lstrip("*")] = fields[0].lower()  # '*' marks binary mode
    return checksums


def verify_vendored(folder=VENDORED_DIR):
    """Check the four .gz files in `folder` against the .gz digests in its SHA256SUMS.

    Hashing costs about 50 ms, so a folder that passed is not hashed again in this process.
    """
    _verify_folder(Path(folder).resolve())


@functools.cache
def _verify_folder(folder):
    checksums = read_checksums(folder)
    for base_name in FILE_NAMES.values():
        path = folder / f"{base_name}.gz"
        if path.name not in checksums:
            raise DataError(f"{folder / CHECKSUMS_NAME}: no entry for {path.name}")
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as error:
            raise DataError(f"{path}: cannot read: {error.strerror}") from None
        if actual != checksums[path.name]:
            raise DataError(f"{path}: sha256 mismatch: expected {checksums[path.name]}, "
                            f"got {actual}")


# --- model inputs ---------------------------------------------------------------------------

def to_features(images, dtype=np.float32) -> np.ndarray:
    """uint8 images (N, 28, 28) as one-channel images of pixel values in [0, 1]: (N, 1, 28, 28),
    what every model takes (the MLP flattens them itself)."""
    return np.divide(images[:, None], 255, dtype=dtype)


@dataclass(frozen=True)
class Standardizer:
    """Subtract the training features' mean and divide by their standard deviation.

    One global mean and std rather than one per pixel: MNIST's border pixels are 0 in every
    training image, so their std is 0, and a rarely lit pixel gets a tiny std that would blow up
    any test image lighting it. Global statistics keep all pixels on one scale (the familiar
    0.1307/0.3081 normalisation) and are two numbers a checkpoint can store.
    """

    mean: float
    std: float

    @classmethod
    def fit(cls, features):
        # NumPy sums float32 pairwise, accurate to ~1e-7 here and 10x faster than float64.
        std = float(features.std())
        return cls(mean=float(features.mean()), std=std if std > 0 else 1.0)  # constant: center

    def transform(self, features):
        """Standardized features, in the features' dtype (Python floats do not upcast)."""
        standardized = features - self.mean
        standardized /= self.std  # in place: a second 60000x784 array costs more than the math
        return standardized


def one_hot(labels, num_classes=NUM_CLASSES, dtype=np.float32) -> np.ndarray:
    """(N,) integer labels as (N, num_classes) rows with one 1: one_hot([2]) -> [[0, 0, 1, ...]]."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, "
                         f"got {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype=dtype)[labels]


def split_validation(num_samples, validation_size, seed):
    """(train_idx, val_idx): a seeded random split of range(num_samples), each part sorted.

    Sorted so the subsets keep the files' order; the batches are shuffled anyway.
    """
    if not 0 <= validation_size <= num_samples:
        raise ValueError(f"validation_size must lie in 0..{num_samples}, got {validation_size}")
    order = np.random.default_rng(seed).permutation(num_samples)
    return np.sort(order[validation_size:]), np.sort(order[:validation_size])
