"""Every public callable of Tensor, Module and nn.functional says what it does in its docstring."""
import inspect
import pydoc

import pytest

from tinygrad_np import Tensor, nn
from tinygrad_np.nn import functional as F


def public_members(cls: type) -> dict:
    """{name: the function or property} for the public methods and properties `cls` defines."""
    members = {}
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value):
            members[name] = value
    return members


def functional_members() -> dict:
    """{name: function} for the public functions nn.functional offers (its own and those it re-exports)."""
    return {name: value for name, value in vars(F).items()
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__.startswith("tinygrad_np")}


CASES = ([(f"Tensor.{name}", value) for name, value in public_members(Tensor).items()]
         + [(f"Module.{name}", value) for name, value in public_members(nn.Module).items()]
         + [(f"nn.functional.{name}", value) for name, value in functional_members().items()])


def test_the_checks_see_the_api():
    names = {name for name, _ in CASES}
    assert {"Tensor.shape", "Tensor.sum", "Tensor.backward", "Module.parameters", "nn.functional.relu",
            "nn.functional.cross_entropy"} <= names


@pytest.mark.parametrize(("name", "member"), CASES, ids=[name for name, _ in CASES])
def test_has_a_docstring(name, member):
    doc = member.__doc__
    assert doc and doc.strip(), f"{name} has no docstring"
    assert doc.splitlines()[0].strip(), f"{name}: the docstring's first line is empty"


def test_pydoc_shows_no_section_comments_as_documentation():
    # Without a docstring, pydoc shows the comment right above a def (`# ---- arithmetic ----`).
    for page in (pydoc.render_doc(Tensor), pydoc.render_doc(nn.Module)):
        assert "# ----" not in page
