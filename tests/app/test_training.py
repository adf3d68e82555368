"""The training loop on a tiny synthetic problem: batches, history rows, the per-step learning rate."""
import csv
import json
import math

import numpy as np
import pytest

from mnist.report.history import COLUMNS
from mnist.training.config import TrainConfig
from mnist.training.trainer import PreparedData, Trainer

TRAIN, BATCH = 90, 32  # three batches an epoch: 32, 32, 26
STEPS_PER_EPOCH = math.ceil(TRAIN / BATCH)


def synthetic_data(features=6, classes=3, validation=12, seed=0) -> PreparedData:
    """Random inputs with random labels: every training row is distinct, so a row names its sample."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(TRAIN + validation, features)).astype(np.float32)
    y = rng.integers(0, classes, size=TRAIN + validation)
    empty = x[:0]
    return PreparedData(x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:], empty, y[:0], np.zeros((0, 2, 3), np.uint8),
                        tuple("abc"))


def make_trainer(tmp_path, **settings) -> Trainer:
    config = TrainConfig(**{"layer_sizes": (6, 5, 3), "epochs": 3, "batch_size": BATCH, **settings})
    return Trainer(config, synthetic_data(), tmp_path, log=lambda *_: None)


def spy_on_steps(trainer) -> list:
    """Record (inputs, loss, correct) of every training step the trainer takes."""
    steps, step = [], trainer._step

    def recording_step(x, y):
        loss, correct = step(x, y)
        steps.append((x.data.copy(), loss, correct))
        return loss, correct

    trainer._step = recording_step
    return steps


def test_each_epoch_visits_every_training_sample_once(tmp_path):
    trainer = make_trainer(tmp_path)
    steps = spy_on_steps(trainer)
    trainer.run()
    row_index = {row.tobytes(): index for index, row in enumerate(trainer.data.train_x)}
    assert len(steps) == 3 * STEPS_PER_EPOCH
    orders = []
    for epoch in range(3):
        batches = [x for x, _, _ in steps[epoch * STEPS_PER_EPOCH:(epoch + 1) * STEPS_PER_EPOCH]]
        assert [len(batch) for batch in batches] == [32, 32, 26]
        order = [row_index[row.tobytes()] for batch in batches for row in batch]
        assert sorted(order) == list(range(TRAIN))
        orders.append(order)
    assert orders[0] != orders[1] != orders[2]  # reshuffled every epoch


def test_history_has_one_row_per_epoch_with_the_documented_columns(tmp_path):
    trainer = make_trainer(tmp_path)
    steps = spy_on_steps(trainer)
    history = trainer.run()
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert all(tuple(row) == COLUMNS for row in history)
    sizes = [len(x) for x, _, _ in steps]
    for epoch, row in enumerate(history):
        part = slice(epoch * STEPS_PER_EPOCH, (epoch + 1) * STEPS_PER_EPOCH)
        losses = [loss for _, loss, _ in steps[part]]
        assert row["train_loss"] == pytest.approx(np.average(losses, weights=sizes[part]), rel=1e-12)
        assert row["train_accuracy"] == sum(correct for _, _, correct in steps[part]) / TRAIN
        assert 0 <= row["val_accuracy"] <= 1 and np.isfinite(row["val_loss"])
    assert [row["train_seconds"] for row in history] == sorted(row["train_seconds"] for row in history)
    assert json.loads((tmp_path / "history.json").read_text()) == history
    with open(tmp_path / "history.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [[float(row[column]) for column in COLUMNS] for row in table] == \
        [[float(row[column]) for column in COLUMNS] for row in history]


LR = 0.2


@pytest.mark.parametrize("settings, expected", [
    ({"schedule": "step", "step_size": 1, "gamma": 0.5},
     [LR] * 3 + [LR * 0.5] * 3 + [LR * 0.25] * 3),
    ({"schedule": "constant", "warmup_epochs": 1.0},
     [LR / 3, LR * 2 / 3, LR] + [LR] * 6),
    ({"schedule": "cosine"},
     [LR * (1 + math.cos(math.pi * step / 9)) / 2 for step in range(9)]),
], ids=["step", "warm-up", "cosine"])
def test_learning_rate_schedule_is_applied_at_every_step(tmp_path, settings, expected):
    trainer = make_trainer(tmp_path, lr=LR, **settings)
    used, step = [], trainer.optimizer.step
    trainer.optimizer.step = lambda: (used.append(trainer.optimizer.lr), step())
    history = trainer.run()
    assert used == pytest.approx(expected, rel=1e-12)
    assert [row["lr"] for row in history] == used[STEPS_PER_EPOCH - 1::STEPS_PER_EPOCH]
