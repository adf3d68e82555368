"""Matrix product with NumPy's rules: 1-D operands, 2-D, and batched with broadcast batch axes."""
import numpy as np

from tinygrad_np.function import Function


class MatMul(Function):
    """x @ y. d/dx = g @ y^T, d/dy = x^T @ g, on the last two axes.

    A 1-D x is treated as a row (1, k) and a 1-D y as a column (k, 1), as NumPy does; the
    dropped axis is put back on g first. Batch axes that were broadcast are summed by the walk.
    """
    name = "matmul"

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs operands with at least one axis")
        return np.matmul(x, y)

    def backward(self, g, out, x, y):
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
