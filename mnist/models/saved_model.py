"""Rebuild a trained model, and its input preprocessing, from a checkpoint alone."""
import math

import numpy as np

from mnist.data.dataset import Standardizer, to_features
from mnist.errors import CheckpointError
from mnist.models.registry import build_model, model_kind
from mnist.training.checkpoint import load_checkpoint


class SavedModel:
    def __init__(self, path):
        parameters, _, record = load_checkpoint(path)  # the record's every field is checked there
        self.path = path
        self.model = build_model(record["model"])
        self.input_size = model_kind(record["model"]["kind"]).input_size(record["model"]["settings"])
        try:
            self.model.load_state_dict(parameters)
        except (KeyError, ValueError) as error:
            raise CheckpointError(f"{path}: does not describe a model this program can build: {error}") from None
        self.model.eval()
        self.class_names = tuple(record["class_names"])
        standardizer = record["standardizer"]
        self.standardizer = Standardizer(**standardizer) if standardizer else None
        self.config = record["config"]
        self.record = record

    @property
    def data_dir(self):
        return self.config["data_dir"]

    @property
    def history(self) -> list:
        """The run's per-epoch history, for the learning curves."""
        return self.record["progress"]["history"]

    @property
    def test_limit(self):
        """How many test images the run was evaluated on (None: all)."""
        return self.config["test_limit"]

    def features(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, 28, 28) images as the model's inputs, preprocessed as in training."""
        features = to_features(images)
        pixels = math.prod(features.shape[1:])
        if pixels != self.input_size:
            raise CheckpointError(f"{self.path}: the model takes {self.input_size} inputs, "
                                  f"these images have {pixels} pixels")
        return self.standardizer.transform(features) if self.standardizer else features
