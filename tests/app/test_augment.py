"""Shifted training images (--shift): each a translation of its training image within the bound,
drawn anew every epoch; validation, test and a resumed run see what the unbroken run saw."""
import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_training import spy_on_steps

from mnist.data.augment import random_offsets, translate
from mnist.training.config import TrainConfig
from mnist.training.trainer import PreparedData, Trainer


@given(st.integers(1, 3), st.integers(1, 2), st.integers(2, 6), st.integers(2, 6), st.integers(0, 3),
       st.integers(0, 2**16))
def test_translate_moves_every_pixel_by_its_offset_and_fills_the_rest(count, channels, height, width, shift, seed):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(count, channels, height, width)).astype(np.float32)
    offsets = random_offsets(count, shift, rng)
    assert offsets.shape == (count, 2) and np.abs(offsets).max(initial=0) <= shift
    moved = translate(images, offsets, background=-7.0)
    for n, c, y, x in itertools.product(range(count), range(channels), range(height), range(width)):
        source_y, source_x = y - offsets[n, 0], x - offsets[n, 1]
        inside = 0 <= source_y < height and 0 <= source_x < width
        assert moved[n, c, y, x] == (images[n, c, source_y, source_x] if inside else -7.0)


def image_data(count=40, validation=8, seed=0) -> PreparedData:
    """Random 1x8x8 'images' with random labels; every one distinct."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count + validation, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, size=count + validation)
    return PreparedData(x[:count], y[:count], x[count:], y[count:], x[:0], y[:0], np.zeros((0, 8, 8), np.uint8),
                        tuple("abc"))


def make_trainer(folder, **settings) -> Trainer:
    config = TrainConfig(**{"layer_sizes": (64, 5, 3), "epochs": 2, "batch_size": 16, "shift": 2, **settings})
    return Trainer(config, image_data(), folder, log=lambda *_: None)


def test_each_training_input_is_its_image_moved_by_at_most_the_shift_and_the_moves_vary(tmp_path):
    trainer = make_trainer(tmp_path)
    steps = spy_on_steps(trainer)
    trainer.run()
    originals = trainer.data.train_x
    found = []
    for inputs, _, _ in steps:
        for row in inputs:
            matches = [(index, (dy, dx)) for index, dy, dx in itertools.product(range(len(originals)), range(-2, 3),
                                                                                   range(-2, 3))
                       if np.array_equal(translate(originals[index:index + 1], np.array([[dy, dx]]), 0.0)[0], row)]
            assert matches, "a training input is no shifted training image"
            found.append(matches[0])
    assert sorted(index for index, _ in found) == sorted(list(range(len(originals))) * 2)  # each once an epoch
    assert len({offset for _, offset in found}) > 10  # the offsets vary
    first, second = ({index: offset for index, offset in found[40 * e:40 * (e + 1)]} for e in range(2))
    assert first != second  # drawn anew each epoch


def test_without_shift_the_inputs_are_the_training_images(tmp_path):
    trainer = make_trainer(tmp_path, shift=0)
    steps = spy_on_steps(trainer)
    trainer.run()
    rows = {row.tobytes() for inputs, _, _ in steps for row in inputs}
    assert rows == {image.tobytes() for image in trainer.data.train_x}
