"""mnist.data.dataset: loading and verifying datasets, preprocessing, validation split and batching."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnist.data import dataset as data
from mnist.data.dataset import (
    FILE_NAMES,
    VENDORED_DIR,
    Standardizer,
    load_dataset,
    one_hot,
    split_validation,
    to_features,
    verify_vendored,
)
from mnist.data.idx import write_idx
from mnist.errors import DataError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
seeds = st.integers(0, 2**32 - 1)
labels = hnp.arrays(np.uint8, st.integers(0, 50), elements=st.integers(0, 9))


def assert_one_line_data_error(call, *fragments):
    """call() raises DataError in one line containing every fragment."""
    with pytest.raises(DataError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert str(fragment) in message


def write_dataset(folder, suffix=".gz", num_train=6, num_test=4, **replacements):
    """A small valid dataset of random images in `folder`; keyword arguments replace arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, num_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, num_test, dtype=np.uint8),
        **replacements,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for role, array in arrays.items():
        write_idx(folder / f"{FILE_NAMES[role]}{suffix}", array)
    return arrays


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


@pytest.fixture
def vendored_copy(tmp_path):
    """A copy of the vendored folder that a test may damage; new path, so never cached as good."""
    return Path(shutil.copytree(VENDORED_DIR, tmp_path / "mnist"))


# --- the vendored MNIST ---------------------------------------------------------------------

def test_vendored_mnist_has_the_documented_sizes(mnist):
    assert mnist.name == "mnist"
    assert mnist.class_names == tuple("0123456789")
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.train_labels.shape == (60000,)
    assert mnist.test_images.shape == (10000, 28, 28) and mnist.test_labels.shape == (10000,)
    for array in (mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels):
        assert array.dtype == np.uint8
    for split_labels in (mnist.train_labels, mnist.test_labels):
        assert np.all(np.bincount(split_labels, minlength=10) > 0) and split_labels.max() == 9


def test_dataset_arrays_are_read_only(mnist):
    with pytest.raises(ValueError, match="read-only"):
        mnist.train_images[0, 0, 0] = 1


def test_vendored_files_pass_verification():
    verify_vendored()
    verify_vendored(VENDORED_DIR)


@pytest.mark.parametrize("name", FILE_NAMES.values())
def test_sha_mismatch_names_the_file_and_both_hashes(vendored_copy, name):
    path = vendored_copy / f"{name}.gz"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(content)
    actual = hashlib.sha256(content).hexdigest()
    assert_one_line_data_error(lambda: verify_vendored(vendored_copy),
                               path, "sha256 mismatch", f"expected {expected}", f"got {actual}")


def test_loading_the_vendored_dataset_verifies_it(vendored_copy, monkeypatch):
    path = vendored_copy / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"\0")
    monkeypatch.setattr(data, "VENDORED_DIR", vendored_copy)
    assert_one_line_data_error(load_dataset, path, "sha256 mismatch")


def test_verification_missing_file(vendored_copy):
    (vendored_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    assert_one_line_data_error(lambda: verify_vendored(vendored_copy),
                               vendored_copy / "t10k-labels-idx1-ubyte.gz")


@pytest.mark.parametrize("edit, fragments", [
    (lambda text: text.replace("t10k-images-idx3-ubyte.gz", "other.gz"),
     ["SHA256SUMS", "no entry for t10k-images-idx3-ubyte.gz"]),
    (lambda text: "not a checksum line\n" + text, ["SHA256SUMS", "line 1 "]),
    (lambda text: None, ["SHA256SUMS", "cannot read"]),
])
def test_verification_bad_checksum_file(vendored_copy, edit, fragments):
    checksums = vendored_copy / "SHA256SUMS"
    edited = edit(checksums.read_text())
    if edited is None:
        checksums.unlink()
    else:
        checksums.write_text(edited)
    assert_one_line_data_error(lambda: verify_vendored(vendored_copy), *fragments)


def test_a_folder_is_hashed_once_per_process(vendored_copy, monkeypatch):
    hashed = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(data.hashlib, "sha256",
                        lambda content: hashed.append(1) or real_sha256(content))
    verify_vendored(vendored_copy)
    verify_vendored(vendored_copy)
    assert len(hashed) == len(FILE_NAMES)


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_from_its_debian_package():
    fashion = load_dataset(FASHION_DIR)
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    assert fashion.train_images.shape == (60000, 28, 28) and fashion.test_labels.shape == (10000,)


# --- other folders --------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".gz", ""])
def test_loads_a_folder_of_gzipped_or_raw_files(tmp_path, suffix):
    written = write_dataset(tmp_path / "digits", suffix)
    dataset = load_dataset(tmp_path / "digits")
    for role, array in written.items():
        np.testing.assert_array_equal(getattr(dataset, role), array)
    assert dataset.name == "digits" and dataset.class_names == tuple("0123456789")


@pytest.mark.parametrize("folder", ["fashion", "Fashion-MNIST", "my_FASHION_data"])
def test_a_fashion_folder_gets_clothing_names(tmp_path, folder):
    write_dataset(tmp_path / folder)
    assert load_dataset(tmp_path / folder).class_names == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@pytest.mark.parametrize("name", FILE_NAMES.values())
def test_missing_file_names_the_folder_and_the_file(tmp_path, name):
    write_dataset(tmp_path)
    (tmp_path / f"{name}.gz").unlink()
    assert_one_line_data_error(lambda: load_dataset(tmp_path), tmp_path, name)


def test_missing_folder(tmp_path):
    assert_one_line_data_error(lambda: load_dataset(tmp_path / "absent"), tmp_path / "absent")


@pytest.mark.parametrize("split", ["train", "test"])
def test_count_mismatch_names_both_files_and_counts(tmp_path, split):
    write_dataset(tmp_path, **{f"{split}_labels": np.zeros(3, np.uint8)})
    images, labels = (FILE_NAMES[f"{split}_{kind}"] for kind in ("images", "labels"))
    count = {"train": 6, "test": 4}[split]
    assert_one_line_data_error(lambda: load_dataset(tmp_path),
                               f"{images}.gz has {count} images", f"{labels}.gz has 3 labels")


@pytest.mark.parametrize("bad_label", [10, 255])
def test_labels_outside_0_to_9(tmp_path, bad_label):
    write_dataset(tmp_path, test_labels=np.array([1, 2, bad_label, 3], np.uint8))
    assert_one_line_data_error(lambda: load_dataset(tmp_path), FILE_NAMES["test_labels"],
                               "outside 0..9", f"{bad_label} at index 2")


@pytest.mark.parametrize("role, array", [
    ("train_images", np.zeros((6, 27, 28), np.uint8)),
    ("train_images", np.zeros((6, 784), np.uint8)),
    ("test_images", np.zeros((4, 28, 28, 1), np.uint8)),
    ("test_images", np.zeros((4, 28, 28), np.int16)),
    ("train_labels", np.zeros((6, 1), np.uint8)),
    ("train_labels", np.zeros(6, np.int32)),
])
def test_wrong_shape_or_dtype_names_the_file(tmp_path, role, array):
    write_dataset(tmp_path, **{role: array})
    assert_one_line_data_error(lambda: load_dataset(tmp_path), FILE_NAMES[role], "must be")


def test_a_corrupt_file_in_a_folder_is_reported(tmp_path):
    write_dataset(tmp_path)
    path = tmp_path / f"{FILE_NAMES['train_labels']}.gz"
    path.write_bytes(path.read_bytes()[:-3])
    assert_one_line_data_error(lambda: load_dataset(tmp_path), path)


# --- model inputs ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(images=hnp.arrays(np.uint8, st.tuples(st.integers(0, 5), st.just(28), st.just(28))))
def test_to_features_gives_one_channel_images_in_unit_range(dtype, images):
    features = to_features(images, dtype)
    assert features.shape == (len(images), 1, 28, 28) and features.dtype == dtype
    assert np.all((features >= 0) & (features <= 1))
    for feature, image in zip(features, images, strict=True):
        np.testing.assert_allclose(feature[0] * 255, image, rtol=1e-6)


def test_to_features_keeps_black_and_white_exact():
    features = to_features(np.array([[[0, 255]]], np.uint8))
    assert features.tolist() == [[[[0.0, 1.0]]]]


def test_standardizer_centers_and_scales_the_features_it_was_fitted_on(mnist):
    features = to_features(mnist.train_images[:10000])  # a sixth: the full set adds a second
    standardized = Standardizer.fit(features).transform(features)
    assert standardized.dtype == np.float32
    assert abs(standardized.mean()) < 1e-5 and abs(standardized.std() - 1) < 1e-5


def test_standardizer_applies_the_training_statistics_to_other_data():
    standardizer = Standardizer.fit(np.array([[0.0, 2.0]]))
    assert (standardizer.mean, standardizer.std) == (1.0, 1.0)
    np.testing.assert_array_equal(standardizer.transform(np.array([[5.0, -1.0]])), [[4.0, -2.0]])


def test_standardizer_on_constant_features_only_centers():
    standardizer = Standardizer.fit(np.full((3, 4), 0.5))
    np.testing.assert_array_equal(standardizer.transform(np.full((1, 4), 0.75)), [[0.25] * 4])


@given(labels=labels)
def test_one_hot_rows_hold_a_single_one_at_the_label(labels):
    encoded = one_hot(labels)
    assert encoded.shape == (len(labels), 10) and encoded.dtype == np.float32
    assert np.all(encoded.sum(axis=1) == 1) and set(np.unique(encoded)) <= {0, 1}
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)


@pytest.mark.parametrize("bad", [[10], [-1], [0, 3, 12]])
def test_one_hot_rejects_labels_outside_the_classes(bad):
    with pytest.raises(ValueError, match="0..9"):
        one_hot(np.array(bad))


@given(num_samples=st.integers(0, 300), data=st.data(), seed=seeds)
def test_validation_split_is_disjoint_complete_and_seeded(num_samples, data, seed):
    validation_size = data.draw(st.integers(0, num_samples))
    train, val = split_validation(num_samples, validation_size, seed)
    assert len(val) == validation_size
    assert not set(train) & set(val)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(num_samples))
    again = split_validation(num_samples, validation_size, seed)
    np.testing.assert_array_equal(again[1], val)


def test_validation_split_depends_on_the_seed():
    assert not np.array_equal(split_validation(1000, 100, 0)[1], split_validation(1000, 100, 1)[1])


@pytest.mark.parametrize("size", [-1, 11])
def test_validation_split_rejects_impossible_sizes(size):
    with pytest.raises(ValueError, match="validation_size"):
        split_validation(10, size, 0)
