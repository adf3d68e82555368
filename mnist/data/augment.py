"""Random translations of training images (data augmentation): every epoch moves each image by
up to `shift` pixels along each axis, filling the uncovered border with the background.

A network then sees a slightly different image every epoch, so it cannot learn the training
images pixel by pixel. The offsets of an epoch are drawn all at once from the epoch's own
generator (the run's seed and the epoch), so a resumed epoch moves each image as the unbroken
run did.
"""
import numpy as np


def random_offsets(count: int, shift: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 2) integer (rows, columns) offsets, each uniform in [-shift, shift]."""
    return rng.integers(-shift, shift + 1, size=(count, 2))


def translate(images: np.ndarray, offsets: np.ndarray, background: float) -> np.ndarray:
    """Images (N, C, H, W) moved by offsets (N, 2): out[n, :, y, x] = images[n, :, y - dy, x - dx],
    `background` where that lies outside the image."""
    count, channels, height, width = images.shape
    shift = int(np.abs(offsets).max(initial=0))
    padded = np.full((count, channels, height + 2 * shift, width + 2 * shift), background, images.dtype)
    padded[:, :, shift:shift + height, shift:shift + width] = images
    rows = shift - offsets[:, 0, None] + np.arange(height)  # (N, H): the padded row each output row reads
    columns = shift - offsets[:, 1, None] + np.arange(width)
    examples = np.arange(count)[:, None, None, None]
    return padded[examples, np.arange(channels)[None, :, None, None], rows[:, None, :, None], columns[:, None, None, :]]
