"""tinygrad_np.optim.axpy: y += alpha * x in place, through NumPy's OpenBLAS where it can."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np.optim import axpy as axpy_module
from tinygrad_np.optim.axpy import axpy

# Sizes on both sides of the BLAS threshold, and past OpenBLAS's own switch to several threads.
BLAS_SIZE = axpy_module.MIN_BLAS_SIZE
sizes = st.sampled_from([0, 1, 7, BLAS_SIZE - 1, BLAS_SIZE, 3 * BLAS_SIZE + 1])
dtypes = st.sampled_from([np.float32, np.float64])


def pair(size, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)


@given(sizes, dtypes, st.floats(-10, 10), st.integers(0, 2**32 - 1))
def test_matches_numpy_in_place_and_leaves_x_alone(size, dtype, alpha, seed):
    x, y = pair(size, dtype, seed)
    x_before, expected = x.copy(), (y.astype(np.float64) + alpha * x.astype(np.float64))
    result = axpy(alpha, x, y)
    assert result is y
    np.testing.assert_array_equal(x, x_before)
    # BLAS rounds a fused multiply-add once, NumPy twice: equal to a few units in the last place
    tolerance = 4 * np.finfo(dtype).eps * (np.abs(expected) + np.abs(alpha * x_before.astype(np.float64)))
    assert np.all(np.abs(y - expected) <= tolerance)


@pytest.mark.parametrize("layout", ["fortran", "strided", "overlapping", "mixed dtypes", "transposed x"])
def test_every_layout_gives_numpy_s_answer(layout):
    rng = np.random.default_rng(0)
    rows, columns = 64, BLAS_SIZE // 32  # twice the BLAS threshold
    x, y = rng.standard_normal((rows, columns)), rng.standard_normal((rows, columns))
    if layout == "fortran":
        x, y = np.asfortranarray(x), np.asfortranarray(y)
    elif layout == "strided":
        x, y = (rng.standard_normal((rows, 2 * columns))[:, ::2] for _ in range(2))
    elif layout == "overlapping":
        buffer = rng.standard_normal(rows * columns + 5)
        x, y = buffer[5:].reshape(rows, columns), buffer[:-5].reshape(rows, columns)
    elif layout == "mixed dtypes":
        x = x.astype(np.float32)
    elif layout == "transposed x":
        x = rng.standard_normal((columns, rows)).T
    expected = y + 0.5 * x
    axpy(0.5, x, y)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


def test_x_and_y_the_same_array():
    y = np.arange(BLAS_SIZE, dtype=np.float32)
    axpy(2.0, y, y)
    np.testing.assert_array_equal(y, 3 * np.arange(BLAS_SIZE, dtype=np.float32))


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\) and \(4,\)"):
        axpy(1.0, np.zeros(3), np.zeros(4))


def test_numpy_s_openblas_is_found_when_numpy_uses_openblas():
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    assert axpy_module.uses_blas() == ("openblas" in blas.lower())


def test_blas_path_is_taken_for_large_contiguous_arrays(monkeypatch):
    if not axpy_module.uses_blas():
        pytest.skip("NumPy's BLAS here is not an OpenBLAS with axpy")
    calls = []
    blas = dict(axpy_module._BLAS_AXPY)
    function, max_size = blas[np.dtype(np.float32)]
    blas[np.dtype(np.float32)] = (lambda *args: calls.append(args[0]) or function(*args)), max_size
    monkeypatch.setattr(axpy_module, "_BLAS_AXPY", blas)
    x, y = pair(BLAS_SIZE, np.float32, 1)
    expected = y + np.float32(-0.25) * x
    axpy(-0.25, x, y)
    assert calls == [BLAS_SIZE]
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)


def test_without_openblas_numpy_does_the_update(monkeypatch):
    monkeypatch.setattr(axpy_module, "threadpool_info", lambda: [])
    assert axpy_module._load_blas_axpy() == {}
    monkeypatch.setattr(axpy_module, "_BLAS_AXPY", {})
    assert not axpy_module.uses_blas()
    x, y = pair(BLAS_SIZE, np.float32, 2)
    expected = y + np.float32(3.0) * x
    axpy(3.0, x, y)
    np.testing.assert_array_equal(y, expected)


def test_an_unloadable_library_means_no_blas(monkeypatch):
    monkeypatch.setattr(axpy_module, "_numpy_openblas_path", lambda: "/nonexistent/libopenblas.so")
    assert axpy_module._load_blas_axpy() == {}
