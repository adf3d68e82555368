"""Embedding: a lookup table of learned vectors, one row per index."""
from typing import Optional

import numpy as np

from tinygrad_np import random
from tinygrad_np.nn.functional import embedding
from tinygrad_np.nn.module import Module, Parameter


class Embedding(Module):
    """Row i of `weight` (num_embeddings, embedding_dim) for index i, as torch.nn.Embedding (whose
    weight layout this keeps); the weight starts as N(0, 1) draws from `rng`, else from the
    default generator (`tinygrad_np.manual_seed`)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: Optional[np.random.Generator] = None,
                 dtype=np.float32):
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(f"Embedding needs positive sizes, got num_embeddings={num_embeddings}, "
                             f"embedding_dim={embedding_dim}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(random.generator(rng).standard_normal((num_embeddings, embedding_dim)), dtype=dtype)

    def forward(self, input):
        return embedding(input, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
