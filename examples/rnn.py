"""A character-level RNN with embeddings that learns to continue short repeating words, written as
for PyTorch (an Elman RNN written out, as nn.RNN's equations are).

Ported from the PyTorch script by changing the imports, and:
- token ids are a NumPy integer array (tensors hold floats only);
- nn.Linear's weight is (in_features, out_features), transposed against PyTorch's; the script
  never touches it directly, so nothing else changes;
- `tinygrad_np.stack(..., dim=1)` as `torch.stack` (PyTorch's `dim=` is accepted beside NumPy's `axis=`).
Gradient clipping (`nn.utils.clip_grad_norm_` between backward and step) is written exactly as for PyTorch.

    python examples/rnn.py
"""
import numpy as np

import tinygrad_np
from tinygrad_np import Tensor, nn
from tinygrad_np.nn import functional as F
from tinygrad_np.optim import Adam

WORDS = ["abc", "hello", "xyzzy", "ab"]
ALPHABET = sorted(set("".join(WORDS)) | {" "})


def sequences(count: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Token ids (count, length + 1): each row one word repeated with spaces, from a random offset."""
    rows = []
    for _ in range(count):
        text = (WORDS[rng.integers(len(WORDS))] + " ") * (length + 8)
        start = rng.integers(0, 6)
        rows.append([ALPHABET.index(char) for char in text[start:start + length + 1]])
    return np.array(rows)


class CharRNN(nn.Module):
    def __init__(self, vocab: int, embedding_dim: int, hidden: int, rng: np.random.Generator):
        self.embedding = nn.Embedding(vocab, embedding_dim, rng=rng)
        self.input_to_hidden = nn.Linear(embedding_dim, hidden, init="xavier_normal", rng=rng)
        self.hidden_to_hidden = nn.Linear(hidden, hidden, init="xavier_normal", rng=rng, bias=False)
        self.head = nn.Linear(hidden, vocab, init="xavier_normal", rng=rng)
        self.hidden = hidden

    def forward(self, tokens: np.ndarray) -> Tensor:
        """Logits (batch, time, vocab) for the next token after each position."""
        embedded = self.embedding(tokens)  # (batch, time, embedding_dim)
        state = Tensor(np.zeros((tokens.shape[0], self.hidden), np.float32))
        outputs = []
        for step in range(tokens.shape[1]):
            state = (self.input_to_hidden(embedded[:, step]) + self.hidden_to_hidden(state)).tanh()
            outputs.append(state)
        return self.head(tinygrad_np.stack(outputs, dim=1))


def main(steps: int = 150, batch_size: int = 32, length: int = 12, seed: int = 0, verbose: bool = True) -> list:
    """Train and return the loss of every step."""
    rng = np.random.default_rng(seed)
    model = CharRNN(len(ALPHABET), embedding_dim=8, hidden=32, rng=rng)
    optimizer = Adam(model.parameters(), lr=0.01)
    losses = []
    for step in range(steps):
        batch = sequences(batch_size, length, rng)
        inputs, targets = batch[:, :-1], batch[:, 1:]
        logits = model(inputs)
        loss = F.cross_entropy(logits.transpose(1, 2), targets)  # classes on axis 1, as in PyTorch
        optimizer.zero_grad()
        loss.backward()
        # backpropagation through time multiplies by hidden_to_hidden once per step, so a gradient
        # can grow geometrically with the length: cap its norm, as RNN training scripts do
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
        if verbose and (step + 1) % 25 == 0:
            mean = np.mean(losses[-25:])  # perplexity e^loss: how many characters the model hesitates between
            print(f"step {step + 1:3d}  loss {mean:.4f}  perplexity {np.exp(mean):.2f}")
    return losses


if __name__ == "__main__":
    main()
