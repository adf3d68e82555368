"""DataLoader: a dataset's samples in batches, in order or in a seeded random order."""
import numpy as np

from tinygrad_np import random
from tinygrad_np.data.dataset import default_collate


class DataLoader:
    """Iterates over `dataset` in batches of `batch_size` (PyTorch's torch.utils.data.DataLoader,
    without worker processes). `shuffle` draws a fresh order at the start of every epoch from
    `generator` (a np.random.Generator, or a seed for one), so a given seed gives the same batches
    every run; `drop_last` drops a last batch smaller than batch_size. A dataset with a
    `get_batch(indices)` method (TensorDataset) is gathered one batch at a time; any other object
    with __getitem__ and __len__ one sample at a time, stacked by `default_collate`.

        loader = DataLoader(TensorDataset(images, labels), batch_size=128, shuffle=True, generator=0)
        for x, y in loader: ...          # x a float32 Tensor (128, ...), y an integer ndarray (128,)
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 generator=None):
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        # a seed makes a Generator, a Generator is used as it is, None takes the default one (manual_seed)
        self.generator = random.generator(None if generator is None else np.random.default_rng(generator))

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        count = len(self.dataset)
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)

    def batch_indices(self):
        """One epoch's batches as index arrays. A shuffling loader draws the permutation here, at
        the call, so the generator's state afterwards does not depend on how many batches are
        used; skipping batches (resuming mid-epoch) costs nothing."""
        count = len(self.dataset)
        order = self.generator.permutation(count) if self.shuffle else np.arange(count)
        stop = count - count % self.batch_size if self.drop_last else count
        return (order[start:start + self.batch_size] for start in range(0, stop, self.batch_size))

    def __iter__(self):
        fetch = getattr(self.dataset, "get_batch", None) or self._fetch_one_by_one
        return map(fetch, self.batch_indices())

    def _fetch_one_by_one(self, indices: np.ndarray):
        return default_collate([self.dataset[int(index)] for index in indices])
