"""tinygrad_np.data: Dataset, TensorDataset, DataLoader: every sample once per epoch, batches in
order or in a seeded order, the MNIST app's order reproduced, the fast and the sample-by-sample
paths giving the same batches."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np import Tensor
from tinygrad_np.data import DataLoader, Dataset, TensorDataset, default_collate

seeds = st.integers(0, 2**32 - 1)


def numbered(count, features=3):
    """x row i is [i, i + 0.5, ...] (float32), y[i] = i: a batch shows which samples it holds."""
    x = np.arange(count, dtype=np.float32)[:, None] + 0.5 * np.arange(features, dtype=np.float32)
    return x, np.arange(count)


class Squares(Dataset):
    """A dataset with no get_batch: the DataLoader fetches it sample by sample."""

    def __init__(self, count):
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        return np.array([index, index ** 2], dtype=np.float32), index


@given(st.integers(1, 40), st.integers(1, 12), st.booleans(), st.booleans(), seeds)
def test_an_epoch_covers_every_sample_once(count, batch_size, shuffle, drop_last, seed):
    x, y = numbered(count)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        generator=seed)
    batches = list(loader)
    assert len(batches) == len(loader) == (count // batch_size if drop_last else -(-count // batch_size))
    seen = np.concatenate([labels for _, labels in batches]) if batches else np.array([], dtype=int)
    for features, labels in batches:
        assert isinstance(features, Tensor) and features.dtype == np.float32 and not features.requires_grad
        assert isinstance(labels, np.ndarray) and labels.dtype == y.dtype
        np.testing.assert_array_equal(features.data, x[labels])
        assert len(labels) == batch_size or (not drop_last and labels is batches[-1][1])
    if drop_last:
        assert len(seen) == count - count % batch_size and len(set(seen.tolist())) == len(seen)
    else:
        np.testing.assert_array_equal(np.sort(seen), y)
    if not shuffle:
        np.testing.assert_array_equal(seen, y[:len(seen)])


def test_the_same_seed_gives_the_same_batches_and_each_epoch_a_new_order():
    x, y = numbered(50)

    def epochs(seed):
        loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=seed)
        return [np.concatenate([labels for _, labels in loader]) for _ in range(2)]

    first, again, other = epochs(3), epochs(3), epochs(4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[0], other[0])


@given(st.integers(1, 300), st.integers(1, 64), seeds, st.integers(0, 9))
def test_reproduces_the_mnist_apps_batches(count, batch_size, seed, epoch):
    # mnist/train.py today: order = np.random.default_rng([seed, epoch]).permutation(len(x)), batches of
    # consecutive slices of it (the last may be shorter), x[index] wrapped with Tensor.from_numpy
    x, y = numbered(count)
    order = np.random.default_rng([seed, epoch]).permutation(count)
    expected = [order[start:start + batch_size] for start in range(0, count, batch_size)]
    loader = DataLoader(TensorDataset(x, y.astype(np.intp)), batch_size, shuffle=True,
                        generator=np.random.default_rng([seed, epoch]))
    batches = list(loader)
    assert len(batches) == len(expected)
    for (features, labels), index in zip(batches, expected, strict=True):
        np.testing.assert_array_equal(features.data, x[index])
        np.testing.assert_array_equal(labels, y[index])


def test_batch_indices_draws_the_order_at_the_call_so_skipping_is_free():
    loader = DataLoader(TensorDataset(*numbered(10)), batch_size=3, shuffle=True, generator=0)
    indices = loader.batch_indices()
    state = loader.generator.bit_generator.state
    np.testing.assert_array_equal(np.concatenate(list(indices)), np.random.default_rng(0).permutation(10))
    assert loader.generator.bit_generator.state == state


@given(st.integers(1, 20), st.integers(1, 6), seeds)
def test_sample_by_sample_datasets_give_the_same_batches(count, batch_size, seed):
    squares = np.stack([np.arange(count), np.arange(count) ** 2], axis=1).astype(np.float32)
    fast = DataLoader(TensorDataset(squares, np.arange(count)), batch_size, shuffle=True, generator=seed)
    slow = DataLoader(Squares(count), batch_size, shuffle=True, generator=seed)
    for (fast_x, fast_y), (slow_x, slow_y) in zip(fast, slow, strict=True):
        assert isinstance(slow_x, Tensor) and slow_x.dtype == np.float32
        np.testing.assert_array_equal(slow_x.data, fast_x.data)
        np.testing.assert_array_equal(slow_y, fast_y)


def test_tensor_dataset_items_and_inputs():
    x, y = numbered(4)
    dataset = TensorDataset(Tensor(x), y)
    assert len(dataset) == 4
    features, label = dataset[2]
    np.testing.assert_array_equal(features.data, x[2])
    assert label == 2
    single = DataLoader(TensorDataset(x), batch_size=4)
    [(batch,)] = list(single)
    np.testing.assert_array_equal(batch.data, x)


@pytest.mark.parametrize("arrays, message", [
    ((), "needs at least one array"),
    ((np.zeros((3, 2)), np.zeros(4)), r"arrays of one length .* shapes \[\(3, 2\), \(4,\)\]"),
    ((np.float32(1.0),), r"shapes \[\(\)\]"),
])
def test_tensor_dataset_refuses_arrays_of_different_lengths(arrays, message):
    with pytest.raises(ValueError, match=message):
        TensorDataset(*arrays)


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
def test_bad_batch_sizes_are_refused(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=batch_size)


def test_default_collate():
    features, labels, weights = default_collate([(np.ones(2), 1, 0.5), (Tensor(np.zeros(2)), 0, 1.5)])
    np.testing.assert_array_equal(features.data, [[1, 1], [0, 0]])
    np.testing.assert_array_equal(labels, [1, 0])
    assert isinstance(weights, Tensor) and weights.dtype == np.float64
    with pytest.raises(ValueError, match="samples of different lengths"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_the_base_dataset_names_what_is_missing():
    with pytest.raises(NotImplementedError, match="Dataset must define __getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="Dataset must define __len__"):
        len(Dataset())
