"""Whether ops record the graph: off inside `no_grad()` (evaluation, optimizer steps)."""
import contextlib
import threading


class _State(threading.local):
    enabled = True  # every thread starts recording; a plain attribute read, as Function.apply does per op


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode(contextlib.ContextDecorator):
    """Usable both as `with no_grad():` and as `@no_grad()`."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def _recreate_cm(self):
        # A decorator enters once per call; a fresh instance keeps recursive and threaded calls apart.
        return _GradMode(self.enabled)

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.enabled = self._previous
        return False


def no_grad() -> _GradMode:
    """Nothing computed inside is recorded, so no backward graph (and no saved buffers) is kept."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record again inside a `no_grad()` block."""
    return _GradMode(True)
