"""kernels.halves: a pass split over two threads gives the single pass's result to the bit, and
the sliding-window kernels that use it (im2col copy, col2im, pooling) do."""
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np.kernels import halves, window


@pytest.fixture
def always_split(monkeypatch):
    """Every pass split, however small, so the tests' small arrays take the two-thread path."""
    monkeypatch.setattr(halves, "MIN_SIZE", 0)
    monkeypatch.setattr(halves, "_enabled", True)


def test_both_halves_run_on_two_threads_and_cover_the_range(always_split):
    seen = {}

    def work(part: slice) -> None:
        seen[(part.start, part.stop)] = threading.get_ident()
    halves.in_halves(work, 7, 7)
    assert sorted(seen) == [(0, 3), (3, 7)]
    assert len(set(seen.values())) == 2


def test_one_thread_when_told(always_split):
    seen = []
    halves.use_two_threads(False)
    try:
        halves.in_halves(seen.append, 6, 6)
    finally:
        halves.use_two_threads(True)
    assert seen == [slice(0, 6)]


def test_an_error_in_the_helper_s_half_reaches_the_caller(always_split):
    def work(part: slice) -> None:
        if part.start:
            raise ValueError("second half failed")
    with pytest.raises(ValueError, match="second half failed"):
        halves.in_halves(work, 4, 4)


@given(channels=st.integers(1, 4), kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 1),
       batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_window_kernels_split_in_halves_equal_the_single_pass(channels, kernel, stride, padding, batch, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, channels, 7, 6)).astype(np.float32)
    x[..., 0] = x[..., 1]  # ties for the pooling's winners
    geometry = dict(kernel_size=(kernel, kernel), stride=(stride, stride), padding=(padding, padding),
                    dilation=(1, 1))

    def results():
        windows = window.unfold(x, **geometry)
        maxima = window.window_max(windows)
        winners, counts = window.max_winners(windows, maxima)
        return (window.unfold_copy(x, **geometry), maxima, winners, counts,
                window.fold(np.ascontiguousarray(windows), (7, 6), **geometry))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(halves, "MIN_SIZE", 1 << 62)  # never split
        single = results()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(halves, "MIN_SIZE", 0)  # always split
        patch.setattr(halves, "_enabled", True)
        split = results()
    for one, two in zip(single, split, strict=True):
        assert one.shape == two.shape and one.strides == two.strides
        assert one.tobytes() == two.tobytes()
