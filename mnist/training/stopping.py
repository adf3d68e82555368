"""Ctrl-C and SIGTERM as a request to stop, honoured at every point of a command.

The first SIGINT or SIGTERM decides how the program ends: exit status 128 + its number (130,
143). Later ones are ignored, so a second Ctrl-C cannot cut short the saving the first started.
Inside `deferred()` (the training loop) a signal is only recorded, and that code checks
`requested()` where stopping loses nothing: between steps, after an epoch's checkpoint.
Everywhere else it raises `Interrupted` at once, like KeyboardInterrupt; an atomic write it cuts
short removes its temporary file on the way out.

    with stop_on_signals():          # the command line, around every command
        load_data()                  # a signal here raises Interrupted at once
        with deferred():             # a signal here waits for requested() to be checked
            for step in steps:
                ...
                if requested():
                    save(); raise Interrupted(requested())
"""
import contextlib
import signal
from typing import Iterator, Optional

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A stop asked for by signal `signum`. A BaseException, like KeyboardInterrupt, so no
    `except Exception` on the way swallows it."""

    def __init__(self, signum: int):
        self.signum, self.exit_code = signum, 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class _State:
    installed = 0   # nesting depth of stop_on_signals()
    deferring = 0   # nesting depth of deferred()
    signum = None   # the first signal received, once one has been


_state = _State()


def _on_signal(signum, frame) -> None:
    if _state.signum is not None:
        return  # the first signal decides; this one must not interrupt what the first is saving
    _state.signum = signum
    if not _state.deferring:
        raise Interrupted(signum)


def requested() -> Optional[int]:
    """The signal that asked to stop, or None while none has."""
    return _state.signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as described above inside the block; nested blocks share one
    state, and the outermost restores the previous handlers and forgets the request."""
    if _state.installed == 0:
        previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
        _state.signum = None
    _state.installed += 1
    try:
        yield
    finally:
        _state.installed -= 1
        if _state.installed == 0:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _state.signum = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Only record a signal inside the block; the block polls `requested()`. A request the
    block did not act on is raised as Interrupted when it ends."""
    with stop_on_signals():
        _state.deferring += 1
        try:
            yield
        finally:
            _state.deferring -= 1
        if _state.signum is not None:
            raise Interrupted(_state.signum)
