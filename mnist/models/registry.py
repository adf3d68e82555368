"""Every model the app can train, by kind: how to build one from its recorded settings.

A checkpoint records `{"kind": ..., "settings": {...}}` (`model_record`); `build_model` rebuilds
the network from that alone, and `parameter_shapes` says which arrays it needs before any is read.
Every model takes images (N, 1, 28, 28), keeps its layers in a Sequential named `layers` (so its
parameters are `layers.<index>.weight` / `.bias`) and returns logits for `num_classes` classes.

Adding a kind: write the Module, then one `ModelKind` entry below.
"""
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnist.models import mlp
from tinygrad_np import nn


@dataclass(frozen=True)
class ModelKind:
    """What the app needs to know of one kind of model, as functions of its settings (a dict)."""

    build: Callable[..., nn.Module]        # build(**settings, seed=, dtype=)
    settings: Callable[[object], dict]     # settings(train_config): the ones this kind uses
    parameter_shapes: Callable[[dict], dict]
    input_size: Callable[[dict], int]      # values per example: 784 for 28x28 images
    num_classes: Callable[[dict], int]
    description: str


def _mlp_settings(config) -> dict:
    return {"layer_sizes": list(config.layer_sizes), "activation": config.activation, "dropout": config.dropout}


KINDS = {
    "mlp": ModelKind(
        build=mlp.MLP, settings=_mlp_settings,
        parameter_shapes=lambda s: mlp.parameter_shapes(s["layer_sizes"], s["dropout"]),
        input_size=lambda s: s["layer_sizes"][0], num_classes=lambda s: s["layer_sizes"][-1],
        description="fully connected layers (--layers, --activation, --dropout)"),
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
