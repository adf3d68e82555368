"""Force conv2d's lowering (kernels/conv.py) for a block of code, whatever spectral.cheaper says."""
from contextlib import contextmanager
from unittest import mock

from tinygrad_np.kernels import spectral

LOWERINGS = ("im2col", "spectral")


@contextmanager
def lowering(name: str):
    """Inside: every conv2d that the spectral scheme fits takes `name`'s path ("im2col" or "spectral")."""
    with mock.patch.object(spectral, "cheaper", lambda *args: name == "spectral"):
        yield
