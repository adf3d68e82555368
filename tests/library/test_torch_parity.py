"""The issue-15 ops against PyTorch (skipped without it): the same op-table inputs through both
libraries, in float64; the values and the gradients of sum(w * out) must agree."""
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from op_table import OPS

from tinygrad_np import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def dim(axis, ndim):
    """NumPy's axis as torch's dim: None and tuples pass; () reduces nothing in NumPy but everything
    in PyTorch, so such draws are skipped."""
    assume(axis != () or ndim == 0)
    return tuple(range(ndim)) if axis is None else axis


def distinct_dims(dims, ndim):
    """PyTorch refuses a dim named twice (squeeze((0, 0))), which this library accepts: such draws are skipped."""
    if isinstance(dims, tuple):
        assume(len({d % max(ndim, 1) for d in dims}) == len(dims))
    return dims


def torch_prod(t, axis, keepdims):
    assume(axis is None or isinstance(axis, int))  # torch.prod takes one dim
    out = torch.prod(t) if axis is None else torch.prod(t, axis, keepdim=keepdims)
    return out.reshape((1,) * t.ndim) if axis is None and keepdims else out


def torch_split(t, size, dim, pieces):
    return torch.cat([piece * (i + 1) for i, piece in enumerate(pieces)], dim=dim)


# row name in op_table.OPS -> the same computation in PyTorch, (tensors..., **params) -> tensor
TORCH = {
    "sin": torch.sin, "cos": torch.cos, "log1p": torch.log1p, "expm1": torch.expm1, "erf": torch.erf,
    "sign": torch.sign, "rsqrt": torch.rsqrt, "square": torch.square,
    "einsum": lambda *ts, equation: torch.einsum(equation, *ts),
    "leaky_relu": TF.leaky_relu, "elu": TF.elu, "gelu": TF.gelu,
    "gelu tanh": lambda t: TF.gelu(t, approximate="tanh"), "silu": TF.silu, "softplus": TF.softplus,
    "hardtanh": TF.hardtanh, "relu6": TF.relu6, "hardswish": TF.hardswish, "mish": TF.mish,
    "logsigmoid": TF.logsigmoid,
    "var": lambda t, axis, keepdims, correction: torch.var(t, dim(axis, t.ndim), correction=correction,
                                                            keepdim=keepdims),
    "std": lambda t, axis, keepdims, correction: torch.std(t, dim(axis, t.ndim), correction=correction,
                                                            keepdim=keepdims),
    "logsumexp": lambda t, axis, keepdims: torch.logsumexp(t, dim(axis, t.ndim), keepdim=keepdims),
    "prod": torch_prod,
    "cumsum": lambda t, axis: torch.cumsum(t, axis),
    "norm": lambda t, p, axis, keepdims: torch.linalg.vector_norm(t, 2 if p == "fro" else p, dim(axis, t.ndim),
                                                                  keepdim=keepdims),
    "topk values": lambda t, k, axis: torch.topk(t, k, axis).values,
    "unsqueeze": torch.unsqueeze,
    "squeeze": lambda t, dim: t.squeeze() if dim is None else t.squeeze(distinct_dims(dim, t.ndim)),
    "expand": lambda t, sizes, target: t.expand(*sizes) if sizes else t,  # torch wants a size
    "view": lambda t, shape: t.reshape(shape),
    "split": lambda t, size, dim: torch_split(t, size, dim, t.split(size, dim)),
    "chunk": lambda t, size, dim: torch_split(t, size, dim, t.chunk(size, dim)),
    "repeat": lambda t, sizes: t.repeat(*sizes) if sizes else t,
    "flip": lambda t, dims: torch.flip(t, dims),
    "gather": lambda t, dim, index: torch.gather(t, dim, torch.from_numpy(index)),
    "masked_fill": lambda t, mask, value: t.masked_fill(torch.from_numpy(mask), value),
    "tril": torch.tril, "triu": torch.triu,
    "cat(dim=)": lambda *ts, axis: torch.cat(ts, dim=axis),
    "embedding": lambda weight, indices: TF.embedding(torch.from_numpy(indices), weight),
}
ROWS = {op.name: op for op in OPS}


def test_every_row_named_here_is_in_the_op_table():
    assert set(TORCH) <= set(ROWS)


@pytest.mark.parametrize("name", sorted(TORCH))
@given(data=st.data())
def test_values_and_gradients_match_pytorch(name, data):
    op = ROWS[name]
    inputs, params = data.draw(op.inputs, label="inputs, params")
    theirs = [torch.tensor(x, requires_grad=True) for x in inputs]
    expected = TORCH[name](*theirs, **params)
    ours = [Tensor(x, requires_grad=True) for x in inputs]
    out = op.apply(*ours, **params)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)

    weights = np.random.default_rng(0).standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    for mine, reference in zip(ours, theirs, strict=True):
        reference_grad = np.zeros(mine.shape) if reference.grad is None else reference.grad.numpy()
        mine_grad = np.zeros(mine.shape) if mine.grad is None else mine.grad.data
        np.testing.assert_allclose(mine_grad, reference_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("x", [-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
@pytest.mark.parametrize("name", ["leaky_relu", "elu", "hardtanh", "relu6", "hardswish", "sign"])
def test_gradients_at_the_kinks_match_pytorch(name, x):
    theirs = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    getattr(TF, name, getattr(torch, name, None))(theirs).sum().backward()
    ours = Tensor(np.array([x]), requires_grad=True)
    getattr(ours, name)().sum().backward()
    assert np.isclose(ours.grad.data[0], theirs.grad.item(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["softplus", "logsigmoid", "mish", "silu", "gelu", "elu"])
def test_large_inputs_stay_finite_with_pytorch_s_values(name):
    values = np.array([-1e3, -50.0, -20.5, 20.5, 50.0, 1e3])
    theirs = torch.tensor(values, requires_grad=True)
    expected = getattr(TF, name)(theirs)
    expected.sum().backward()
    ours = Tensor(values, requires_grad=True)
    out = getattr(ours, name)()
    out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(ours.grad.data))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-9, atol=1e-300)


def test_erf_matches_pytorch_to_the_last_digits():
    values = np.concatenate([np.linspace(-6, 6, 2001), [1e-300, -1e-20, 1e-8, math.pi]])
    np.testing.assert_allclose(Tensor(values).erf().data, torch.erf(torch.tensor(values)).numpy(),
                               rtol=4e-16, atol=0)
