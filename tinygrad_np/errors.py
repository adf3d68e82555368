"""Errors raised by the library."""


class ShapeError(ValueError):
    """An op got shapes it cannot combine; the message names the op and every input shape."""
