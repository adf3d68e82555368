"""The library's one default random generator, and `manual_seed` to make it reproducible.

Everything that draws random numbers without being handed a generator (`nn.Linear`'s and
`nn.Embedding`'s initial weights, `nn.Dropout`'s masks, `randn`, `rand`) draws from this one
NumPy Generator, so one call

    tinygrad_np.manual_seed(0)

makes a whole script reproducible, as `torch.manual_seed` does. A generator passed explicitly
(`rng=`) always wins over the default. The default starts from fresh OS entropy, as NumPy's
`default_rng()` does.
"""
from typing import Optional

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator in place and return it.

    In place, so a layer that kept the default generator (a Dropout built before the call) draws
    from the reseeded stream too. Afterwards it draws exactly what `np.random.default_rng(seed)`
    would."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed needs a non-negative integer, got {seed!r}")
    _default.bit_generator.state = np.random.PCG64(seed).state
    return _default


def default_generator() -> np.random.Generator:
    """The shared default generator (the object itself: draws from it advance its state)."""
    return _default


def generator(rng: Optional[np.random.Generator] = None) -> np.random.Generator:
    """`rng` when one is given, else the default generator: what a layer with `rng=None` uses."""
    return _default if rng is None else rng
