"""Elementwise ops. Inputs broadcast as in NumPy; the graph walk sums gradients back to shape."""
import numpy as np

from tinygrad_np.errors import ArgumentError
from tinygrad_np.function import Function
from tinygrad_np.kernels import elementwise as elementwise_kernels


class Add(Function):
    name = "add"
    formula = "dx = g,  dy = g"
    def forward(self, x, y): return x + y
    def backward(self, ops, g, out, x, y): return g, g


class Sub(Function):
    name = "sub"
    formula = "dx = g,  dy = −g"
    def forward(self, x, y): return x - y
    def backward(self, ops, g, out, x, y): return g, -g


class Mul(Function):
    name = "mul"
    formula = "dx = g ⊙ y,  dy = g ⊙ x"
    def forward(self, x, y): return x * y
    def backward(self, ops, g, out, x, y): return g * y, g * x


class Div(Function):
    name = "div"
    formula = "dx = g / y,  dy = −g ⊙ out / y"
    def forward(self, x, y): return x / y
    # d(x/y)/dy = -x/y^2 = -out/y
    def backward(self, ops, g, out, x, y): return g / y, -g * out / y


class Neg(Function):
    name = "neg"
    formula = "dx = −g"
    def forward(self, x): return -x
    def backward(self, ops, g, out, x): return -g


class Pow(Function):
    """x ** y. d/dx = y x^(y-1); d/dy = x^y log x, taken as 0 where x <= 0 (log undefined)."""
    name = "pow"
    formula = "dx = g ⊙ y x^(y−1),  dy = g ⊙ out ⊙ log x  (0 where x ≤ 0)"
    def forward(self, x, y): return x ** y

    def backward(self, ops, g, out, x, y):
        grad_x = g * y * x ** (y - 1) if self.needs_input_grad[0] else None
        grad_y = None
        if self.needs_input_grad[1]:
            positive = ops.values(x) > 0
            grad_y = g * out * ops.where(positive, ops.log(ops.where(positive, x, 1.0)), 0.0)
        return grad_x, grad_y


class Exp(Function):
    name = "exp"
    formula = "dx = g ⊙ out"
    def forward(self, x): return np.exp(x)
    def backward(self, ops, g, out, x): return g * out


class Log(Function):
    name = "log"
    formula = "dx = g / x"
    def forward(self, x): return np.log(x)
    def backward(self, ops, g, out, x): return g / x


class ReLU(Function):
    """max(x, 0). Convention: ReLU'(0) = 0, as in PyTorch and the seed's `1 if z > 0 else 0`."""
    name = "relu"
    formula = "dZ = dA ⊙ 1[Z > 0]"
    def forward(self, x): return elementwise_kernels.relu(x)
    def backward(self, ops, g, out, x): return g * (ops.values(out) > 0)  # out > 0 exactly where x > 0


class Sigmoid(Function):
    """1 / (1 + e^-x), computed from e^-|x| so it never overflows (|x| up to 1e3 and beyond)."""
    name = "sigmoid"
    formula = "dx = g ⊙ out ⊙ (1 − out)"

    def forward(self, x):
        decay = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + decay), decay / (1 + decay))

    def backward(self, ops, g, out, x): return g * out * (1 - out)


class Tanh(Function):
    name = "tanh"
    formula = "dx = g ⊙ (1 − out²)"
    def forward(self, x): return np.tanh(x)
    def backward(self, ops, g, out, x): return g * (1 - out * out)


class Abs(Function):
    """|x|. Convention: abs'(0) = 0."""
    name = "abs"
    formula = "dx = g ⊙ sign(x)"
    def forward(self, x): return np.abs(x)
    def backward(self, ops, g, out, x): return g * np.sign(ops.values(x))


class Clip(Function):
    """Limit to [low, high]; the gradient passes where low <= x <= high (bounds included)."""
    name = "clip"
    formula = "dx = g ⊙ 1[low ≤ x ≤ high]"

    def forward(self, x, low=None, high=None):
        if low is None and high is None:
            raise ArgumentError("clip needs low, high or both")
        return np.clip(x, low, high)

    def backward(self, ops, g, out, x):
        low, high, x = self.params["low"], self.params["high"], ops.values(x)
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return g * inside


class Maximum(Function):
    """Elementwise max of x and y. Convention: at ties each side gets half the gradient."""
    name = "maximum"
    formula = "dx = g ⊙ (1[x > y] + ½·1[x = y]),  dy = g − dx"
    def forward(self, x, y): return np.maximum(x, y)

    def backward(self, ops, g, out, x, y):
        x, y = ops.values(x), ops.values(y)
        share_x = (x > y) + 0.5 * (x == y)
        return g * share_x.astype(out.dtype), g * (1 - share_x).astype(out.dtype)


class Where(Function):
    """condition ? x : y, with a fixed boolean condition that carries no gradient."""
    name = "where"
    formula = "dx = g ⊙ 1[cond],  dy = g ⊙ 1[¬cond]"
    def forward(self, x, y, condition=None): return np.where(condition, x, y)

    def backward(self, ops, g, out, x, y):
        condition = self.params["condition"]
        return g * condition, g * ~condition
