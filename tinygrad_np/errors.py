"""Errors raised by the library."""


class ShapeError(ValueError):
    """An op got shapes it cannot combine; the message names the op and every input shape."""


class ArgumentError(ValueError):
    """An op got a value it cannot use that is not a shape problem (labels outside the classes,
    clip without bounds); raised as is, without the shape wording of ShapeError."""
