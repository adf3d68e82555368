"""Random expression graphs: shared subexpressions, diamonds, a value meeting itself, broadcasting.

Each op is right on its own (test_ops_gradients); here the graph walk must order the nodes, add
the gradients of every path and sum broadcast gradients back to each leaf's shape.
"""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import graphs, run_program

from tinygrad_np import Tensor, gradcheck

# Graphs are cheap and varied: four times the profile's examples.
MORE_EXAMPLES = settings(max_examples=4 * settings.default.max_examples)


@MORE_EXAMPLES
@given(graphs())
def test_random_graph_gradients_match_finite_differences(graph):
    program, leaves = graph
    assert gradcheck(lambda *tensors: run_program(program, tensors)[-1], *leaves)


@MORE_EXAMPLES
@given(graphs(), st.sampled_from([np.float64, np.float32]))
def test_random_graph_forward_matches_numpy_and_grads_keep_shape_and_dtype(graph, dtype):
    program, leaves = graph
    leaves = [leaf.astype(dtype) for leaf in leaves]
    tensors = [Tensor(leaf, requires_grad=True) for leaf in leaves]
    out = run_program(program, tensors)[-1]
    expected = run_program(program, leaves, library=False)[-1]
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-10 if dtype == np.float64 else 1e-4, atol=1e-6)

    out.backward(np.ones(out.shape))
    for tensor in tensors:
        if tensor.grad is not None:  # a leaf the output never uses gets no gradient
            assert tensor.grad.shape == tensor.shape and tensor.grad.dtype == dtype


def test_a_diamond_adds_both_paths():
    """d/dx of (2x)(x + 1) = 4x + 2, through two paths that meet again."""
    x = Tensor(np.array([0.5, -2.0]), requires_grad=True)
    twice, shifted = x * 2, x + 1
    (twice * shifted).sum().backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data + 2)
