"""The errors the application raises on bad input; the command line prints them in one line."""


class MnistError(Exception):
    """Base class: anything the CLI reports as `error: <message>` without a traceback (exit status 1)."""


class UsageError(MnistError):
    """Arguments that argparse accepted one by one but that do not go together (exit status 2)."""


class DataError(MnistError, ValueError):
    """A dataset file is missing, truncated, corrupt or inconsistent; the message names the file."""


class CheckpointError(MnistError, ValueError):
    """A checkpoint cannot be read or does not fit the model it is loaded into."""


class WriteError(MnistError, OSError):
    """A file or folder cannot be written; the message names the path and the reason."""


class TrainingDiverged(MnistError, FloatingPointError):
    """The loss or a gradient became NaN or Inf; the message names the step and the parameter."""
