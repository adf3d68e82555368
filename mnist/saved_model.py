"""Rebuild a trained model, and its input preprocessing, from a checkpoint alone."""
import numpy as np

from mnist.checkpoint import load_checkpoint
from mnist.data import Standardizer, to_features
from mnist.errors import CheckpointError
from mnist.model import MLP


class SavedModel:
    def __init__(self, path):
        parameters, _, record = load_checkpoint(path)
        try:
            self.model = MLP(**record["model"])
            self.model.load_state_dict(parameters)
            self.class_names = tuple(record["class_names"])
            standardizer = record.get("standardizer")
            self.standardizer = Standardizer(**standardizer) if standardizer else None
            self.config = dict(record["config"])
        except (KeyError, ValueError, TypeError) as error:
            raise CheckpointError(f"{path}: does not describe a model this program can build: {error}") from None
        self.model.eval()
        self.record = record

    @property
    def data_dir(self):
        return self.config.get("data_dir")

    @property
    def history(self) -> list:
        """The run's per-epoch history, for the learning curves."""
        return self.record.get("progress", {}).get("history", [])

    @property
    def test_limit(self):
        """How many test images the run was evaluated on (None: all)."""
        return self.config.get("test_limit")

    def features(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, 28, 28) images as the model's inputs, preprocessed as in training."""
        features = to_features(images)
        return self.standardizer.transform(features) if self.standardizer else features
