"""Dataset, TensorDataset and default_collate: samples, and how a list of them becomes a batch.

A batch field made of floats is a Tensor; one made of integers or booleans (class labels,
masks) stays an ndarray, since Tensors here hold floats only and the losses take integer
targets as arrays (`cross_entropy(logits, labels)`).
"""
import numpy as np

from tinygrad_np.tensor import Tensor


class Dataset:
    """A map-style dataset, as PyTorch's: `dataset[i]` is sample i, `len(dataset)` their number.
    A subclass may also define `get_batch(indices)`, returning a whole batch at once, which the
    DataLoader then uses instead of fetching the samples one by one (TensorDataset does)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Sample i is the tuple of row i of each array: TensorDataset(images, labels)[i] is
    (images[i], labels[i]). Takes Tensors or arrays of the same length; a batch is one fancy
    index per array (no Python loop over samples)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor) for tensor in tensors)
        shapes = [array.shape for array in self.arrays]
        if any(len(shape) == 0 for shape in shapes) or len({shape[0] for shape in shapes}) != 1:
            raise ValueError(f"TensorDataset needs arrays of one length (their first dimension), got shapes {shapes}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(_as_batch_field(np.asarray(array[index])) for array in self.arrays)

    def get_batch(self, indices: np.ndarray) -> tuple:
        return tuple(_as_batch_field(array[indices]) for array in self.arrays)


def default_collate(samples: list):
    """Stack samples into a batch: a list of (x, y) tuples gives the tuple (X, Y), each with a
    leading batch dimension; floats become a Tensor, integers and booleans an ndarray."""
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    if isinstance(samples[0], (tuple, list)):
        if len({len(sample) for sample in samples}) != 1:
            raise ValueError(f"samples of different lengths cannot be collated: {sorted({len(s) for s in samples})}")
        return tuple(default_collate(list(field)) for field in zip(*samples, strict=True))
    return _as_batch_field(np.stack([sample.data if isinstance(sample, Tensor) else np.asarray(sample)
                                     for sample in samples]))


def _as_batch_field(array: np.ndarray):
    """A Tensor sharing the array's memory for floats; the array itself otherwise."""
    return Tensor.from_numpy(array) if array.dtype.kind == "f" else array
