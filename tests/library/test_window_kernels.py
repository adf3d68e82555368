"""tinygrad_np.kernels.window, the plain-NumPy sliding-window kernels: each against a loop over
every window written from its definition, fold as unfold's adjoint, and the fast paths against
the general ones."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, images_and_windows

from tinygrad_np.kernels import window


def naive_windows(x, kernel_size, stride, padding, dilation, pad_value=0.0):
    """(C, kH, kW, oH, oW, N) by one loop per window entry, from the definition."""
    batch, channels, height, width = x.shape
    padded = np.full((batch, channels, height + 2 * padding[0], width + 2 * padding[1]), pad_value)
    padded[:, :, padding[0]:padding[0] + height, padding[1]:padding[1] + width] = x
    out_h = (height + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) // stride[0] + 1
    out_w = (width + 2 * padding[1] - dilation[1] * (kernel_size[1] - 1) - 1) // stride[1] + 1
    out = np.empty((channels,) + tuple(kernel_size) + (out_h, out_w, batch))
    for c, i, j, p, q, n in np.ndindex(*out.shape):
        out[c, i, j, p, q, n] = padded[n, c, p * stride[0] + i * dilation[0], q * stride[1] + j * dilation[1]]
    return out


@given(images_and_windows())
def test_unfold_gives_every_window(case):
    x, geometry = case
    np.testing.assert_array_equal(window.unfold(x, **geometry), naive_windows(x, **geometry))


@given(images_and_windows(), st.data())
def test_fold_is_the_adjoint_of_unfold(case, data):
    """<fold(w), x> = <w, unfold(x)> for every x and w: what makes each the other's backward."""
    x, geometry = case
    windows = window.unfold(x, **geometry)
    other = data.draw(arrays(windows.shape), label="windows")
    folded = window.fold(other, x.shape[2:], **geometry)
    assert folded.shape == x.shape
    np.testing.assert_allclose(np.sum(folded * x), np.sum(other * windows), rtol=1e-12, atol=1e-12)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(0, 2), st.data())
def test_fold_of_tiling_windows_is_a_reshape_equal_to_the_offset_loop(kernel_h, kernel_w, extra_h, extra_w, data):
    """Non-overlapping windows (stride = kernel): fold_tiles, with zeros in the rows and columns
    no window covers, against the general slice-add loop."""
    out_h, out_w = data.draw(st.integers(1, 3), label="oH"), data.draw(st.integers(1, 3), label="oW")
    output_size = (out_h * kernel_h + min(extra_h, kernel_h - 1), out_w * kernel_w + min(extra_w, kernel_w - 1))
    windows = data.draw(arrays((2, kernel_h, kernel_w, out_h, out_w, 3)), label="windows")
    geometry = dict(kernel_size=(kernel_h, kernel_w), stride=(kernel_h, kernel_w), padding=(0, 0), dilation=(1, 1))
    np.testing.assert_array_equal(window.fold_tiles(windows, output_size),
                                  window.fold_by_offsets(windows, output_size, **geometry))
    np.testing.assert_array_equal(window.fold(windows, output_size, **geometry),
                                  window.fold_by_offsets(windows, output_size, **geometry))


def test_fold_tiles_copies_nothing_when_the_windows_lie_in_image_order():
    image = np.arange(2 * 4 * 6 * 3, dtype=np.float64).reshape(2, 4, 6, 3)  # (C, H, W, N)
    windows = image.reshape(2, 2, 2, 3, 2, 3).transpose(0, 2, 4, 1, 3, 5)  # (C, kH, kW, oH, oW, N) view
    folded = window.fold_tiles(windows, (4, 6))
    assert np.shares_memory(folded, image)
    np.testing.assert_array_equal(folded, image.transpose(3, 0, 1, 2))


class _NoScatter:
    """numpy as the kernels see it, except that ufunc.at (a scatter, one element at a time) fails."""

    def __getattr__(self, name):
        value = getattr(np, name)
        return _UfuncWithoutAt(value) if isinstance(value, np.ufunc) else value


class _UfuncWithoutAt:
    def __init__(self, ufunc):
        self.ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return self.ufunc(*args, **kwargs)

    def __getattr__(self, name):
        if name == "at":
            raise AssertionError(f"np.{self.ufunc.__name__}.at on the hot path")
        return getattr(self.ufunc, name)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_fold_adds_slices_and_never_scatters_element_by_element(monkeypatch, stride):
    monkeypatch.setattr(window, "np", _NoScatter())
    geometry = dict(kernel_size=(3, 3), stride=(stride, stride), padding=(1, 1), dilation=(1, 1))
    x = np.ones((2, 1, 6, 6))
    folded = window.fold(window.unfold(x, **geometry), (6, 6), **geometry)
    np.testing.assert_array_equal(folded, window.fold_by_offsets(naive_windows(x, **geometry), (6, 6), **geometry))
    if stride == 1:  # an entry of the middle lies in 9 windows, a corner in 4 (padding 1)
        assert folded[0, 0, 2, 2] == 9 and folded[0, 0, 0, 0] == 4


def test_unfold_is_a_read_only_view_of_a_batch_minor_input():
    batch_minor = np.arange(3 * 5 * 5 * 2, dtype=np.float32).reshape(3, 5, 5, 2)  # (C, H, W, N)
    x = batch_minor.transpose(3, 0, 1, 2)  # (N, C, H, W), as conv2d and the pools return it
    windows = window.unfold(x, kernel_size=(2, 2), stride=(1, 1), padding=(0, 0), dilation=(1, 1))
    assert np.shares_memory(windows, batch_minor) and not windows.flags.writeable
    assert windows.dtype == np.float32


@given(images_and_windows())
def test_window_max_and_sum_reduce_every_window(case):
    x, geometry = case
    windows = naive_windows(x, **geometry)
    view = window.unfold(x, **geometry)
    np.testing.assert_array_equal(window.window_max(view), windows.max(axis=(1, 2)))
    np.testing.assert_allclose(window.window_sum(view), windows.sum(axis=(1, 2)), rtol=1e-12, atol=1e-12)


def test_route_to_maxima_splits_each_window_gradient_among_its_tied_maxima():
    x = np.array([[[[1.0, 1.0], [0.0, 1.0]]], [[[2.0, 0.0], [0.0, 0.0]]]])  # two images, one 2x2 window each
    geometry = dict(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    windows = window.unfold(x, **geometry)
    g = np.array([6.0, 5.0]).reshape(2, 1, 1, 1)
    shares = window.route_to_maxima(g, windows, window.window_max(windows))
    np.testing.assert_array_equal(shares[0, :, :, 0, 0, 0], [[2, 2], [0, 2]])  # three tied maxima: 6 / 3 each
    np.testing.assert_array_equal(shares[0, :, :, 0, 0, 1], [[5, 0], [0, 0]])
    assert shares.transpose(0, 3, 1, 4, 2, 5).flags.c_contiguous  # image order: a tiling folds by a reshape


@pytest.mark.parametrize("block_bytes", [1, 10**9])  # one channel per block; all channels in one
def test_route_to_maxima_gives_the_same_shares_block_by_block(monkeypatch, block_bytes):
    monkeypatch.setattr(window, "ROUTE_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, (3, 5, 7, 6)).astype(np.float64)  # small integers: many ties
    geometry = dict(kernel_size=(3, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1))
    windows = window.unfold(x, **geometry)
    maxima = window.window_max(windows)
    g = rng.standard_normal((3,) + maxima.shape[:3])  # (N, C, oH, oW)
    winners = windows == maxima[:, None, None]
    expected = winners * (g.transpose(1, 2, 3, 0) / winners.sum(axis=(1, 2)))[:, None, None]
    np.testing.assert_allclose(window.route_to_maxima(g, windows, maxima), expected, rtol=1e-15)


@st.composite
def pad_widths(draw, shape):
    """(before, after) per axis, each -crop..3, cropping at most all but one entry of an axis."""
    widths = []
    for size in shape:
        before = draw(st.integers(-(size - 1), 3))
        widths.append((before, draw(st.integers(-(size - 1 - max(-before, 0)), 3))))
    return tuple(widths)


@given(st.data())
def test_pad_by_minus_the_widths_is_the_adjoint_and_undoes_padding(data):
    x = data.draw(arrays(st.tuples(st.integers(1, 4), st.integers(1, 4))), label="x")
    widths = data.draw(pad_widths(x.shape), label="widths")
    opposite = tuple((-before, -after) for before, after in widths)
    padded = window.pad(x, widths, value=7.0)
    other = data.draw(arrays(padded.shape), label="other")
    back = window.pad(other, opposite)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(back * x), np.sum(other * window.pad(x, widths)), rtol=1e-12, atol=1e-12)
    if min(min(pair) for pair in widths) >= 0:
        np.testing.assert_array_equal(window.pad(padded, opposite), x)  # cropping what was added gives x back


def test_a_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(ValueError, match=r"spans 5, more than the padded input's 4"):
        window.count_windows((2, 8), kernel_size=(3, 3), stride=(1, 1), padding=(1, 0), dilation=(2, 1))
