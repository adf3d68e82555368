"""Force conv2d's lowering (kernels/conv.py) for a block of code, whatever spectral.cheaper says."""
from tinygrad_np.kernels import spectral

LOWERINGS = ("im2col", "spectral")


def lowering(name: str):
    """A context: every conv2d that the spectral scheme fits takes `name`'s path ("im2col" or "spectral")."""
    if name not in LOWERINGS:
        raise ValueError(f"no lowering {name!r}: {LOWERINGS}")
    return spectral.forced(name == "spectral")
