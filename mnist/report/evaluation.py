"""Running a trained model over a dataset: probabilities, loss and accuracy, without a graph."""
import numpy as np

from tinygrad_np import Tensor, no_grad
from tinygrad_np.nn.functional import cross_entropy


@no_grad()
def predict_probabilities(model, features: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Softmax outputs (N, classes) in eval mode (dropout off), in chunks to bound memory."""
    was_training = model.training
    model.eval()
    try:
        parts = [model(Tensor.from_numpy(features[start:start + chunk])).softmax(-1).data
                 for start in range(0, len(features), chunk)]
    finally:
        model.train(was_training)
    return np.concatenate(parts) if parts else np.zeros((0, model.num_classes))


@no_grad()
def loss_and_accuracy(model, features: np.ndarray, labels: np.ndarray, chunk: int = 2000):
    """Mean cross-entropy and accuracy over the whole set (None, None for an empty set)."""
    if len(features) == 0:
        return None, None
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, len(features), chunk):
            logits = model(Tensor.from_numpy(features[start:start + chunk]))
            batch_labels = labels[start:start + chunk]
            total_loss += cross_entropy(logits, batch_labels).item() * len(batch_labels)
            correct += int((logits.data.argmax(axis=1) == batch_labels).sum())
    finally:
        model.train(was_training)
    return total_loss / len(features), correct / len(features)
