"""Einstein summation over any number of operands, with an einsum for each operand's gradient."""
import numpy as np

from tinygrad_np import kernels
from tinygrad_np.errors import ArgumentError
from tinygrad_np.function import Function


class Einsum(Function):
    """np.einsum with explicit `subscripts` ('ij,jk->ik'); `tinygrad_np.einsum` writes them out.

    The gradient of an operand is the einsum of the output's gradient with the other operands,
    into that operand's subscripts: for 'ij,jk->ik', dA = 'ik,jk->ij' (g, B). An index that
    only that operand has (summed over alone, like j in 'ij->i') gets its axis back from a
    constant operand of ones. An index repeated within one operand (a diagonal, 'ii->i') has
    no such gradient and is refused by `parse_subscripts`.
    """
    name = "einsum"

    def forward(self, *arrays, subscripts=None): return kernels.einsum(*arrays, subscripts=subscripts)

    def backward(self, ops, g, out, *inputs):
        terms, output = self.params["subscripts"].split("->")
        terms = terms.split(",")
        grads = []
        for position, (term, x) in enumerate(zip(terms, inputs, strict=True)):
            others = [t for i, t in enumerate(terms) if i != position]
            operands = [g] + [y for i, y in enumerate(inputs) if i != position]
            alone = _alone(term, [output] + others)
            if alone:  # a constant of ones spans the axes no other operand has
                operands.append(np.ones(_sizes_of(alone, term, x.shape), dtype=x.dtype))
                others.append(alone)
            grads.append(ops.einsum(*operands, subscripts=f"{','.join([output] + others)}->{term}"))
        return tuple(grads) if len(grads) > 1 else grads[0]


def _alone(term: str, elsewhere: list) -> str:
    """The indices of `term` that none of the `elsewhere` subscripts has ('...' always has a partner:
    the output keeps it)."""
    seen = "".join(elsewhere)
    return "".join(letter for letter in term.replace("...", "") if letter not in seen)


def _sizes_of(letters: str, term: str, shape: tuple) -> tuple:
    """The sizes of `letters` in an operand with subscripts `term` and `shape`."""
    head, _, tail = term.partition("...")
    sizes = dict(zip(head, shape[:len(head)], strict=True))
    sizes.update(zip(tail, shape[len(shape) - len(tail):], strict=True))
    return tuple(sizes[letter] for letter in letters)


def parse_subscripts(subscripts: str, ndims: list) -> str:
    """`subscripts` in explicit form ('ij,jk->ik'), checked against the operands' numbers of axes.

    Implicit output (no '->') follows NumPy: '...' first, then the indices used once, sorted."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ndims):
        raise ArgumentError(f"einsum: {len(terms)} operand subscripts in {subscripts!r} for {len(ndims)} operands")
    for position, (term, ndim) in enumerate(zip(terms, ndims, strict=True)):
        letters = term.replace("...", "")
        if letters and not letters.isalpha() or term.count("...") > 1:
            raise ArgumentError(f"einsum: operand {position}'s subscripts {term!r} must be letters and at most "
                                "one '...'")
        if len(set(letters)) != len(letters):
            raise ArgumentError(f"einsum: operand {position}'s subscripts {term!r} repeat an index (a diagonal "
                                "or trace); not supported: take the diagonal by indexing first")
        if len(letters) > ndim or len(letters) != ndim and "..." not in term:
            raise ArgumentError(f"einsum: operand {position} has {ndim} axes, its subscripts {term!r} name "
                                f"{len(letters)}")
    if not arrow:
        letters = "".join(terms).replace("...", "")
        output = ("..." if "..." in inputs else "") + "".join(sorted(i for i in set(letters) if letters.count(i) == 1))
    elif "..." in inputs and "..." not in output:
        raise ArgumentError(f"einsum: {subscripts!r} has '...' in the inputs but not in the output (as NumPy, "
                            "broadcast axes are kept)")
    return f"{','.join(terms)}->{output}"
