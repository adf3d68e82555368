"""A one-line progress bar on stderr: batches done, running loss and accuracy, samples/s, ETA.

Redrawn at most ten times a second so it costs nothing measurable; when stderr is not a
terminal (CI, logs) only the final line of each epoch is printed.
"""
import sys
import time


class ProgressBar:
    def __init__(self, total_batches: int, label: str, stream=None, width: int = 24):
        self.total, self.label, self.width = total_batches, label, width
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.start = self.last_draw = time.perf_counter()

    def update(self, done: int, samples: int, loss: float, accuracy: float) -> None:
        now = time.perf_counter()
        if self.live and (now - self.last_draw >= 0.1 or done == self.total):
            self.last_draw = now
            self.stream.write("\r" + self._line(done, samples, loss, accuracy, now))
            self.stream.flush()

    def close(self, done: int, samples: int, loss: float, accuracy: float) -> None:
        line = self._line(done, samples, loss, accuracy, time.perf_counter())
        self.stream.write(("\r" + line if self.live else line) + "\n")
        self.stream.flush()

    def _line(self, done, samples, loss, accuracy, now) -> str:
        elapsed = max(now - self.start, 1e-9)
        filled = int(self.width * done / max(self.total, 1))
        eta = elapsed / max(done, 1) * (self.total - done)
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} "
                f"loss {loss:.4f} acc {accuracy:.2%} {samples / elapsed:,.0f} samples/s "
                f"{'ETA' if done < self.total else 'in'} {eta if done < self.total else elapsed:.1f}s")
