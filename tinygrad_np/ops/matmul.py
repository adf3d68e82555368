"""Matrix product with NumPy's rules: 1-D operands, 2-D, and batched with broadcast batch axes."""
import numpy as np

from tinygrad_np.function import Function


class MatMul(Function):
    """x @ y. d/dx = g @ y^T, d/dy = x^T @ g, on the last two axes.

    A 1-D x is treated as a row (1, k) and a 1-D y as a column (k, 1), as NumPy does; the
    dropped axis is put back on g first. Batch axes that were broadcast are summed by the walk.
    """
    name = "matmul"
    formula = "dx = g yᵀ,  dy = xᵀ g"

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs operands with at least one axis")
        return np.matmul(x, y)

    def backward(self, ops, g, out, x, y):
        x_vector, y_vector = x.ndim == 1, y.ndim == 1
        if x_vector and y_vector:
            g = g.reshape(1, 1)
        elif x_vector:
            g = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
        elif y_vector:
            g = g.reshape(g.shape + (1,))
        x = x.reshape(1, -1) if x_vector else x
        y = y.reshape(-1, 1) if y_vector else y
        grad_x = g @ y.swapaxes(-1, -2) if self.needs_input_grad[0] else None
        grad_y = None
        if self.needs_input_grad[1]:
            grad_y = x.swapaxes(-1, -2) @ g
            if y_vector:
                grad_y = grad_y.reshape(grad_y.shape[:-1])
        return grad_x, grad_y


class Linear(Function):
    """x @ W + b in one node, for nn.Linear: x (..., in), W (in, out), b (out,) or absent.

    The value and gradients of MatMul then Add, with the bias added in place into the product
    (one (..., out) buffer instead of two) and one node instead of two. With x and g taken as
    rows: d/dx = g @ W^T, d/dW = x^T @ g, d/db = the sum of g's rows.
    """
    name = "linear"
    formula = "dA_prev = dZ Wᵀ,  dW = A_prevᵀ dZ,  db = Σ dZ"

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or weight.ndim != 2:
            raise ValueError("linear needs x with at least one axis and a 2-D weight")
        out = np.matmul(x, weight)
        if bias is None:
            return out
        if bias.shape != weight.shape[1:]:
            raise ValueError(f"linear needs a bias of shape {weight.shape[1:]}")
        if bias.dtype == out.dtype:
            out += bias  # the product is this op's own new buffer
            return out
        return out + bias

    def backward(self, ops, g, out, x, weight, bias=None):
        needs_grad = self.needs_input_grad
        grad_x = g @ weight.T if needs_grad[0] else None
        if x.ndim != 2:
            x, g = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
        grad_weight = x.T @ g if needs_grad[1] else None
        if bias is None:
            return grad_x, grad_weight
        return grad_x, grad_weight, g.sum(axis=0) if needs_grad[2] else None
