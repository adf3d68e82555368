"""Jacobians and their products, as torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp.

All are built on `autograd.grad`, so no `.grad` is read or written. `func` takes the inputs as
positional Tensors and returns a Tensor or a tuple of Tensors; `inputs` is a Tensor or a tuple
of Tensors, and each result follows its form: one Tensor for one input, a tuple for a tuple.
`func` runs on fresh leaves that share the inputs' data (with create_graph=True, on identity
views of the inputs that require grad, so the results can be differentiated back to them).
Results are cut from the graph unless create_graph=True. An input that no output depends on
gets zeros, or, with strict=True, a RuntimeError.

    def f(x): return (x ** 3).sum()
    hessian(f, Tensor([1.0, 2.0]))          # diag(6x): [[6, 0], [0, 12]]
    hvp(f, Tensor([1.0, 2.0]), v)[1]        # H v, without forming H
"""
from typing import Callable, Optional, Sequence

import numpy as np

from tinygrad_np.autograd.gradients import grad
from tinygrad_np.errors import ArgumentError, ShapeError
from tinygrad_np.functional import stack
from tinygrad_np.grad_mode import enable_grad
from tinygrad_np.tensor import Tensor

RETURNS = "the function must return"  # the rule for func's outputs, in errors


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J): the gradient of sum(v * func(inputs)) with respect to the inputs.
    `v` has the form and shapes of func's output; None for a single one-element output."""
    return _jacobian_product("vjp", _vjp, "output", func, inputs, v, create_graph, strict)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v): the directional derivative of func along `v` (the form and shapes of
    the inputs; None for a single one-element input), by the double-vjp trick."""
    return _jacobian_product("jvp", _jvp, "input", func, inputs, v, create_graph, strict)


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """d func(inputs) / d inputs, each block of shape output.shape + input.shape: a Tensor for one
    input and one output, a tuple over inputs (or outputs) when one side is a tuple, a tuple of
    tuples [output][input] when both are. Reverse mode, one vjp per output element; `vectorize`
    is accepted for PyTorch's signature and changes nothing."""
    if strategy != "reverse-mode":
        raise ArgumentError(f"jacobian: only strategy='reverse-mode' is implemented, got {strategy!r}")
    inputs_tuple, inputs = _as_tuple("jacobian", inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple("jacobian", func(*inputs), RETURNS)
        table = [_jacobian_blocks(index, output, inputs, create_graph, strict) for index, output in enumerate(outputs)]
    rows = [tuple(row) if inputs_tuple else row[0] for row in table]
    return tuple(rows) if outputs_tuple else rows[0]


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The second derivatives of a function with a one-element output: the jacobian of its gradient.
    A Tensor of shape input.shape * 2 for one input; for a tuple, a tuple of tuples [i][j] with
    block d^2 f / d input_i d input_j."""
    inputs_tuple, inputs = _as_tuple("hessian", inputs)

    def gradient(*leaves):
        output = _one_element("hessian", func(*leaves))
        return _vjp("hessian", [output], leaves, [None], True, strict)

    table = jacobian(gradient, inputs, create_graph, strict, vectorize, outer_jacobian_strategy)
    return table if inputs_tuple else table[0][0]


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a function with a one-element output, without forming H."""
    return _hessian_product("vhp", _vjp, func, inputs, v, create_graph, strict)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v) for a function with a one-element output (equal to vhp for twice
    continuously differentiable functions, where H is symmetric)."""
    return _hessian_product("hvp", _jvp, func, inputs, v, create_graph, strict)


def _hessian_product(caller: str, product: Callable, func: Callable, inputs, v, create_graph: bool,
                     strict: bool) -> tuple:
    """func(inputs) and `product` (_vjp or _jvp) of func's gradient with v: v^T H or H v."""
    inputs_tuple, inputs = _as_tuple(caller, inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        output = _one_element(caller, func(*inputs))
        gradients = _vjp(caller, [output], inputs, [None], True, strict)
        products = product(caller, gradients, inputs, _vectors(caller, "input", v, inputs), create_graph, strict)
    return _result([output], False, create_graph), _result(products, inputs_tuple, create_graph)


def _jacobian_product(caller: str, product: Callable, side: str, func: Callable, inputs, v, create_graph: bool,
                      strict: bool) -> tuple:
    """func(inputs) and `product` (_vjp or _jvp) of its Jacobian with v, which has the form of
    func's outputs (side "output": the result has the inputs' form) or of its inputs (side
    "input": the result has the outputs' form)."""
    inputs_tuple, inputs = _as_tuple(caller, inputs)
    with enable_grad():
        inputs = _prepare(inputs, create_graph)
        outputs_tuple, outputs = _as_tuple(caller, func(*inputs), RETURNS)
        v_like, result_tuple = (outputs, inputs_tuple) if side == "output" else (inputs, outputs_tuple)
        products = product(caller, outputs, inputs, _vectors(caller, side, v, v_like), create_graph, strict)
    return _result(outputs, outputs_tuple, create_graph), _result(products, result_tuple, create_graph)


# ---- the two products everything above is made of ----------------------------------------------
def _vjp(caller: str, outputs: Sequence[Tensor], inputs: Sequence[Tensor], cotangents: Sequence,
         create_graph: bool, strict: bool, output_index: Optional[int] = None) -> list:
    """sum_k cotangent_k^T d outputs_k / d inputs, one Tensor per input (zeros where unused).
    A None cotangent stands for ones (a one-element output)."""
    live = [(output, cotangent) for output, cotangent in zip(outputs, cotangents, strict=True) if output.requires_grad]
    products: Sequence[Optional[Tensor]] = [None] * len(inputs)
    if live:
        products = grad([output for output, _ in live], list(inputs), [cotangent for _, cotangent in live],
                        create_graph=create_graph, allow_unused=True)
    return _zeros_for_unused(caller, products, inputs, strict, output_index)


def _jvp(caller: str, outputs: Sequence[Tensor], inputs: Sequence[Tensor], tangents: Sequence,
         create_graph: bool, strict: bool) -> list:
    """J v by the double-vjp trick: g(u) = u^T J is linear in u, and the gradient of g . v with
    respect to u is J v. u is a zero placeholder per output; only g's graph in u matters."""
    placeholders = [Tensor(np.zeros(output.shape, output.dtype), requires_grad=True) for output in outputs]
    transposed = _vjp(caller, outputs, inputs, placeholders, True, strict)
    pairs = [(product, tangent) for product, tangent in zip(transposed, tangents, strict=True) if product.requires_grad]
    products: Sequence[Optional[Tensor]] = [None] * len(outputs)
    if pairs:
        products = grad([product for product, _ in pairs], placeholders, [tangent for _, tangent in pairs],
                        create_graph=create_graph, allow_unused=True)
    return [_zeros_like(output) if product is None else product for product, output in zip(products, outputs,
                                                                                            strict=True)]


def _jacobian_blocks(output_index: int, output: Tensor, inputs: Sequence[Tensor], create_graph: bool,
                     strict: bool) -> list:
    """d output / d input for every input, as output.shape + input.shape blocks: one vjp per
    output element, seeded with that element's unit vector."""
    if output.size == 0:
        return [Tensor(np.zeros(output.shape + x.shape, x.dtype)) for x in inputs]
    rows: list = [[] for _ in inputs]
    for position in range(output.size):
        unit = np.zeros(output.size, output.dtype)
        unit[position] = 1
        products = _vjp("jacobian", [output], inputs, [unit.reshape(output.shape)], create_graph, strict, output_index)
        for row, product in zip(rows, products, strict=True):
            row.append(product)
    return [stack(row).reshape(output.shape + x.shape) for row, x in zip(rows, inputs, strict=True)]


# ---- forms and checks ---------------------------------------------------------------------------
def _as_tuple(caller: str, tensors, rule: str = "inputs must be") -> tuple:
    """(whether `tensors` was a tuple, the tensors as a tuple), for func's inputs and its outputs."""
    is_tuple = isinstance(tensors, (tuple, list))
    listed = tuple(tensors) if is_tuple else (tensors,)
    if not listed or not all(isinstance(x, Tensor) for x in listed):
        raise TypeError(f"{caller}: {rule} a Tensor or a tuple of Tensors, got {tensors!r:.80}")
    return is_tuple, listed


def _one_element(caller: str, output) -> Tensor:
    if not isinstance(output, Tensor) or output.size != 1:
        shape = output.shape if isinstance(output, Tensor) else type(output).__name__
        raise RuntimeError(f"{caller}: the function must return a single Tensor with one element, got {shape}")
    return output


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """What func runs on: new leaves on the same data, or, to keep the graph back to an input
    that requires grad (create_graph), an identity view of it."""
    return tuple(x.reshape(x.shape) if create_graph and x.requires_grad else x.detach().requires_grad_()
                 for x in inputs)


def _vectors(caller: str, side: str, v, like: tuple) -> list:
    """`v` as one vector per tensor of `like` (the outputs or the inputs), shapes checked. None
    stands for 1 when `like` is a single one-element tensor."""
    if v is None:
        if len(like) != 1 or like[0].size != 1:
            raise RuntimeError(f"{caller}: v may be None only when the {side} is a single Tensor with one element")
        return [None]
    vectors = list(v) if isinstance(v, (tuple, list)) else [v]
    if len(vectors) != len(like):
        raise ShapeError(f"{caller}: v has {len(vectors)} entries for {len(like)} {side}s")
    vectors = [vector if isinstance(vector, Tensor) else np.asarray(vector, dtype=x.dtype)
               for vector, x in zip(vectors, like, strict=True)]
    for index, (vector, x) in enumerate(zip(vectors, like, strict=True)):
        if vector.shape != x.shape:
            raise ShapeError(f"{caller}: v[{index}] has shape {vector.shape}, {side} {index} has shape {x.shape}")
    return vectors


def _zeros_for_unused(caller: str, products, inputs: Sequence[Tensor], strict: bool,
                      output_index: Optional[int]) -> list:
    filled = []
    for index, (product, x) in enumerate(zip(products, inputs, strict=True)):
        if product is None:
            if strict:
                output = "the output" if output_index is None else f"output {output_index}"
                raise RuntimeError(f"{caller}: {output} of the function is independent of input {index}, "
                                   "which strict=True does not allow")
            product = _zeros_like(x)
        filled.append(product)
    return filled


def _zeros_like(x: Tensor) -> Tensor:
    return Tensor(np.zeros(x.shape, x.dtype))


def _result(tensors: Sequence[Tensor], as_tuple: bool, create_graph: bool):
    kept = tuple(t if create_graph else t.detach() for t in tensors)
    return kept if as_tuple else kept[0]
