"""Every model the app can train, by kind: how to build one from its recorded settings.

A checkpoint records `{"kind": ..., "settings": {...}}` (`model_record`); `build_model` rebuilds
the network from that alone, and `parameter_shapes` says which arrays it needs before any is read.
Every model takes images (N, 1, 28, 28), keeps its layers in a Sequential named `layers` (so its
parameters are `layers.<index>.weight` / `.bias`) and returns logits for `num_classes` classes.

Each kind also names its training recipe: the settings that differ from TrainConfig's defaults
(which are the MLP's recipe) when a run asks for that kind and does not set them itself, and the
hand-derived network (mnist.reference.network specs) that `compare` checks it against.

Adding a kind: write the Module, then one `ModelKind` entry below.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnist.models import cnn, mlp
from mnist.reference import network
from tinygrad_np import nn


@dataclass(frozen=True)
class ModelKind:
    """What the app needs to know of one kind of model, as functions of its settings (a dict)."""

    build: Callable[..., nn.Module]        # build(**settings, seed=, dtype=)
    settings: Callable[[object], dict]     # settings(train_config): the ones this kind uses
    parameter_shapes: Callable[[dict], dict]
    buffer_shapes: Callable[[dict], dict]  # {name: (shape, dtype)} of the state_dict's other arrays
    input_size: Callable[[dict], int]      # values per example: 784 for 28x28 images
    num_classes: Callable[[dict], int]
    reference_layers: Callable[[dict], list]  # the closed-form network, spec i for `layers.<i>`
    options: tuple                         # the TrainConfig settings that shape this kind (CLI options)
    recipe: dict                           # TrainConfig settings this kind trains with by default
    description: str


def _mlp_settings(config) -> dict:
    return {"layer_sizes": list(config.layer_sizes), "activation": config.activation, "dropout": config.dropout}


def _cnn_layers(settings: dict) -> list:
    """The closed-form network of a CNN, dropout as the identity: compare runs it in eval mode."""
    (first, second), kernel = settings["channels"], settings["kernel_size"]
    layers: list = []
    for fan_in, width in ((1, first), (first, second)):
        layers.append(network.Conv2d(fan_in, width, kernel, bias=not settings["batch_norm"]))
        layers += [network.BatchNorm2d(width)] if settings["batch_norm"] else []
        layers += [network.ReLU(), network.MaxPool2d(2)]
    features = second * cnn.feature_side(kernel) ** 2
    layers.append(network.Flatten())
    if settings["hidden"]:
        layers += [network.Linear(features, settings["hidden"]), network.ReLU()]
        layers += [network.Identity()] if settings["dropout"] > 0 else []
        features = settings["hidden"]
    return layers + [network.Linear(features, settings["classes"])]


def _cnn_settings(config) -> dict:
    return {**DEFAULT_CNN, "batch_norm": config.batch_norm, "dropout": config.dropout}


# The default CNN: `train --model cnn` builds it, with or without batch norm (--no-batch-norm) and
# with the dropout asked for; its checkpoint records these settings.
DEFAULT_CNN = {"channels": [32, 64], "kernel_size": 5, "classes": 10, "batch_norm": True, "hidden": 256,
               "dropout": 0.5}

KINDS = {
    "mlp": ModelKind(
        build=mlp.MLP, settings=_mlp_settings,
        parameter_shapes=lambda s: mlp.parameter_shapes(s["layer_sizes"], s["dropout"]),
        buffer_shapes=lambda s: {},
        input_size=lambda s: s["layer_sizes"][0], num_classes=lambda s: s["layer_sizes"][-1],
        reference_layers=lambda s: network.dense_layers(s["layer_sizes"], s["activation"]),
        options=("layer_sizes", "activation", "dropout"), recipe={},
        description="fully connected layers (--layers, --activation, --dropout)"),
    "cnn": ModelKind(
        build=cnn.CNN, settings=_cnn_settings,
        parameter_shapes=lambda s: cnn.parameter_shapes(**s), buffer_shapes=lambda s: cnn.buffer_shapes(**s),
        input_size=lambda s: cnn.IMAGE_SIDE ** 2, num_classes=lambda s: s["classes"],
        reference_layers=_cnn_layers, options=("batch_norm", "dropout"),
        # SGD as the MLP's (momentum 0.9, weight decay 5e-4, batch 128, per-step cosine) with half the
        # rate, Nesterov momentum, a half-epoch warm-up and standardized pixels: without the warm-up
        # the first steps at lr 0.05 blow the loss up to 100+ and the run never recovers. Batch norm, the
        # hidden layer's dropout, shifted images and 22 epochs take Fashion-MNIST from 91.3% to over 92%
        # in a run of under 10 minutes (the README's tuning runs): 18 epochs gave 91.82% and 20 92.11%.
        recipe={"lr": 0.05, "nesterov": True, "warmup_epochs": 0.5, "standardize": True, "epochs": 22,
                "batch_norm": True, "dropout": 0.5, "shift": 2},
        description="two 5x5 convolutions (32 and 64 channels), each with batch norm (--no-batch-norm: "
                    "without), ReLU and 2x2 max pooling, then Linear(1024, 256), ReLU, Dropout (--dropout) "
                    "and Linear(256, 10)"),
}


def model_kind(kind: str) -> ModelKind:
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; this program builds {', '.join(KINDS)}")
    return KINDS[kind]


def model_record(config) -> dict:
    """What a checkpoint stores to rebuild the model a TrainConfig describes."""
    return {"kind": config.model, "settings": model_kind(config.model).settings(config)}


def build_model(record: dict, seed: int = 0, dtype=np.float32) -> nn.Module:
    """The untrained network a model record describes, its weights drawn from `seed`."""
    return model_kind(record["kind"]).build(**record["settings"], seed=seed, dtype=dtype)
