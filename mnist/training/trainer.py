"""Mini-batch training with a history, checkpoints every epoch, and stops that lose nothing.

Each epoch's batch order comes from a generator seeded with (seed, epoch), and the checkpoint
holds the position inside the epoch, the optimizer state and the dropout generator's state, so
a run interrupted at any step and resumed ends with exactly the parameters of an unbroken run.
"""
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist.atomic import make_folder
from mnist.data import augment
from mnist.data import dataset as mnist_data
from mnist.errors import CheckpointError, DataError, TrainingDiverged
from mnist.models.registry import build_model, model_record
from mnist.report.diagnostics import DIAGNOSTICS_NAME, PROBE_SIZE, TrainingDiagnostics
from mnist.report.evaluation import loss_and_accuracy
from mnist.report.history import write_history
from mnist.training import stopping as stopping
from mnist.training.checkpoint import load_checkpoint, save_checkpoint
from mnist.training.config import TrainConfig
from mnist.training.optimizers import build_optimizer, build_schedule
from mnist.training.progress import ProgressBar
from mnist.training.run_record import Progress
from tinygrad_np import Tensor, nn, no_grad
from tinygrad_np.data import DataLoader, TensorDataset
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.nn.module import forward_hooks

CHECKPOINT_NAME = "checkpoint.npz"


@dataclass
class PreparedData:
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    test_images: np.ndarray
    class_names: tuple
    standardizer: mnist_data.Standardizer | None = None

    @property
    def background(self) -> float:
        """A black pixel as a feature: what a shifted image's uncovered border is filled with."""
        black = np.zeros(1, np.float32)
        return float((self.standardizer.transform(black) if self.standardizer else black)[0])


def prepare_data(config: TrainConfig) -> PreparedData:
    """Load, scale (and optionally standardize with training statistics), split off validation."""
    dataset = mnist_data.load_dataset(config.data_dir)
    images, labels = dataset.train_images[:config.train_limit], dataset.train_labels[:config.train_limit]
    test_images, test_labels = dataset.test_images[:config.test_limit], dataset.test_labels[:config.test_limit]
    if config.validation_size >= len(images):
        raise DataError(f"--validation-size {config.validation_size} leaves no training images out of {len(images)}")
    train_idx, val_idx = mnist_data.split_validation(len(images), config.validation_size, config.seed)
    # Split the uint8 images, then scale: no float copy of the whole training set (188 MB) is made.
    train_x, val_x = mnist_data.to_features(images[train_idx]), mnist_data.to_features(images[val_idx])
    test_features = mnist_data.to_features(test_images)
    standardizer = None
    if config.standardize:
        standardizer = mnist_data.Standardizer.fit(train_x)
        train_x, val_x, test_features = (standardizer.transform(x) for x in (train_x, val_x, test_features))
    return PreparedData(train_x, labels[train_idx].astype(np.intp), val_x, labels[val_idx].astype(np.intp),
                        test_features, test_labels.astype(np.intp), test_images, dataset.class_names,
                        standardizer)


def read_run_config(checkpoint_path) -> TrainConfig:
    """The settings a checkpoint's run was started with (what --resume continues)."""
    _, _, record = load_checkpoint(checkpoint_path)  # the record's settings are checked there
    return TrainConfig.from_dict(record["config"])


class Trainer:
    def __init__(self, config: TrainConfig, data: PreparedData, out_dir: Path, log=print, diagnostics: bool = False):
        self.config, self.data, self.out_dir, self.log = config, data, Path(out_dir), log
        self.model = build_model(model_record(config), seed=config.seed)
        self.parameters = dict(self.model.named_parameters())
        self.optimizer = build_optimizer(config, list(self.parameters.values()))
        self.batches_per_epoch = -(-len(data.train_x) // config.batch_size)
        self.schedule = build_schedule(config, self.batches_per_epoch)
        self.progress = Progress()
        # The probe batch: the first validation images (training images when none are held out).
        probe = (data.val_x if len(data.val_x) else data.train_x)[:PROBE_SIZE]
        self.diagnostics = (TrainingDiagnostics(self.model, probe, self.batches_per_epoch,
                                                self.out_dir / DIAGNOSTICS_NAME) if diagnostics else None)
        self.last_good: Path | None = None  # the checkpoint a divergence falls back on: the last saved or restored

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME

    # ---- checkpoints ----------------------------------------------------------------------
    def save(self) -> None:
        save_checkpoint(self.checkpoint_path, self.model.state_dict(), self.optimizer.state_dict(), self.record())
        self.last_good = self.checkpoint_path

    def record(self) -> dict:
        """What a checkpoint holds besides the arrays (mnist.training.run_record says what it must hold)."""
        return {"model": model_record(self.config), "config": self.config.to_dict(),
                "progress": vars(self.progress), "dropout_rng": self._dropout_rng_state(),
                "standardizer": vars(self.data.standardizer) if self.data.standardizer else None,
                "class_names": list(self.data.class_names)}

    def restore(self, checkpoint_path) -> None:
        parameters, optimizer_state, record = load_checkpoint(checkpoint_path)
        try:
            self.model.load_state_dict(parameters)
            self.optimizer.load_state_dict(optimizer_state)
            progress = Progress(**record["progress"])
            if (rng := self._dropout_rng()) is not None:
                rng.bit_generator.state = record["dropout_rng"]
        except (KeyError, ValueError, TypeError, OverflowError) as error:
            raise CheckpointError(f"{checkpoint_path}: does not fit this model: {error}") from None
        if progress.batch >= self.batches_per_epoch:
            raise CheckpointError(f"{checkpoint_path}: progress.batch: {progress.batch} batches done, but an epoch "
                                  f"of this data has {self.batches_per_epoch}")
        self.progress, self.last_good = progress, Path(checkpoint_path)
        if self.diagnostics:
            self.diagnostics.continue_from(self.out_dir / DIAGNOSTICS_NAME)

    def _dropout_rng(self):
        return next((m.rng for m in self.model.layers if isinstance(m, nn.Dropout)), None)

    def _dropout_rng_state(self):
        rng = self._dropout_rng()
        return rng.bit_generator.state if rng is not None else None

    # ---- the loop -------------------------------------------------------------------------
    def run(self) -> list:
        """Train to `config.epochs`; returns the history (one dict per epoch).

        SIGINT or SIGTERM stops the run after the current step (the next one, when it comes
        during an epoch's validation), saving the state, or after the last epoch's checkpoint:
        then `stopping.Interrupted` is raised."""
        # A signal is only recorded in here, and acted on where the saved state is whole.
        # Overflow ends the run with TrainingDiverged, which names where it happened;
        # NumPy's warnings on the way there would only bury that message.
        with stopping.deferred(), np.errstate(over="ignore", invalid="ignore"):
            make_folder(self.out_dir)
            for epoch in range(self.progress.epoch, self.config.epochs):
                self._train_epoch(epoch)
                self._finish_epoch(epoch)
        return self.progress.history

    def _train_epoch(self, epoch: int) -> None:
        config, progress = self.config, self.progress
        # One seed per epoch, so a resumed epoch draws the same order; it skips the batches it had done.
        loader = DataLoader(TensorDataset(self.data.train_x, self.data.train_y), config.batch_size, shuffle=True,
                            generator=np.random.default_rng([config.seed, epoch]))
        batches = itertools.islice(loader.batch_indices(), progress.batch, None)
        bar = ProgressBar(self.batches_per_epoch, f"epoch {epoch + 1}/{config.epochs}")
        if self.diagnostics:
            self.diagnostics.start_epoch(epoch)
        started = time.perf_counter()
        offsets = (augment.random_offsets(len(self.data.train_x), config.shift,
                                          np.random.default_rng([config.seed, epoch, 1])) if config.shift else None)
        for batch, index in enumerate(batches, start=progress.batch):
            self.optimizer.lr = self.schedule(progress.step)
            x, y = loader.dataset.get_batch(index)
            if offsets is not None:
                x = Tensor(augment.translate(x.data, offsets[index], self.data.background))
            loss, correct = self._step(x, y)
            progress.batch, progress.step = batch + 1, progress.step + 1
            progress.loss_sum += loss * len(index)
            progress.correct += correct
            progress.seen += len(index)
            bar.update(progress.batch, progress.seen, progress.loss_sum / progress.seen,
                       progress.correct / progress.seen)
            if (signum := stopping.requested()) is not None:
                progress.train_seconds += time.perf_counter() - started
                self.save()
                write_history(self.out_dir, progress.history)
                raise stopping.Interrupted(signum)
        progress.train_seconds += time.perf_counter() - started
        bar.close(progress.batch, progress.seen, progress.loss_sum / max(progress.seen, 1),
                  progress.correct / max(progress.seen, 1))

    def _step(self, x: Tensor, y: np.ndarray):
        logits = self.model(x)
        loss = cross_entropy(logits, y)
        loss_value = loss.item()
        if not np.isfinite(loss_value):
            self._diverged(f"the loss is {loss_value}", self._nonfinite_parameters() or self._overflowing_layer(x))
        self.optimizer.zero_grad()
        loss.backward()
        bad_grads = self._nonfinite({name: p.grad.data for name, p in self.parameters.items()})
        if bad_grads:
            self._diverged("a gradient is not finite", bad_grads)
        if self.diagnostics:
            self.diagnostics.step(self.optimizer, self.progress.step)
        else:
            self.optimizer.step()
        bad_parameters = self._nonfinite_parameters()
        if bad_parameters:
            self._diverged("the update made a parameter not finite", bad_parameters)
        return loss_value, int((logits.data.argmax(axis=1) == y).sum())

    @staticmethod
    def _nonfinite(arrays: dict) -> list:
        """Names of arrays holding NaN or Inf. A finite sum proves every entry finite, so only an
        array whose sum is not (NaN/Inf inside, or large entries overflowing it) is scanned."""
        return [name for name, array in arrays.items()
                if not np.isfinite(array.sum()) and not np.isfinite(array).all()]

    def _nonfinite_parameters(self) -> list:
        return self._nonfinite({name: p.data for name, p in self.parameters.items()})

    @no_grad()
    def _overflowing_layer(self, x: Tensor) -> list:
        """With finite parameters, a non-finite loss means some layer's output overflowed: the
        parameters of the first layer whose output on `x` is not finite (the last layer's when
        only the softmax overflowed, its logits too far apart). Layers are the model's modules
        without children, in the order the forward pass calls them, whatever the architecture."""
        names = {id(module): name for name, module in self.model.named_modules()}
        called = []  # (name, module, output finite) of each layer, in call order

        def watch(module, args, kwargs, output):
            if next(module.named_children(), None) is None:
                called.append((names[id(module)], module, bool(np.isfinite(output.data).all())))

        self.model.eval()
        forward_hooks.append(watch)
        try:
            self.model(x)
        finally:
            forward_hooks.remove(watch)
            self.model.train()
        name, module, _ = next((layer for layer in called if not layer[2]), called[-1])
        return [f"{name}.{parameter}" for parameter, _ in module.named_parameters()]

    def _diverged(self, what: str, names: list, step: int | None = None) -> None:
        """Raise TrainingDiverged for `step` (default: the one being taken), naming `names`."""
        write_history(self.out_dir, self.progress.history)
        where = f" in {', '.join(names)}" if names else ""
        kept = (f"; the last good checkpoint {self.last_good} is kept" if self.last_good
                else "; no checkpoint was written yet")
        raise TrainingDiverged(
            f"training diverged at step {step or self.progress.step + 1} (epoch {self.progress.epoch + 1}): "
            f"{what}{where}; try a lower learning rate than {self.optimizer.lr:g}{kept}")

    def _finish_epoch(self, epoch: int) -> None:
        progress = self.progress
        val_loss, val_accuracy = loss_and_accuracy(self.model, self.data.val_x, self.data.val_y)
        if val_loss is not None and not np.isfinite(val_loss):  # never save such a model
            self._diverged(f"the validation loss at the end of the epoch is {val_loss}",
                           self._overflowing_layer(Tensor.from_numpy(self.data.val_x)), step=progress.step)
        if self.diagnostics:
            self.diagnostics.end_epoch(epoch + 1)
        progress.history.append({
            "epoch": epoch + 1, "lr": self.optimizer.lr,
            "train_loss": progress.loss_sum / max(progress.seen, 1),
            "train_accuracy": progress.correct / max(progress.seen, 1),
            "val_loss": val_loss, "val_accuracy": val_accuracy,
            "train_seconds": progress.train_seconds})
        progress.epoch, progress.batch = epoch + 1, 0
        progress.loss_sum, progress.correct, progress.seen = 0.0, 0, 0
        self.save()
        write_history(self.out_dir, progress.history)
        row = progress.history[-1]
        self.log(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.2%}"
                 + (f" | val loss {val_loss:.4f} acc {val_accuracy:.2%}" if val_loss is not None else ""))
