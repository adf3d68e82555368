"""Module state: buffers, ModuleList and ModuleDict, the tree walkers, state_dict round trips, summary."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np import Tensor, nn
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.optim import SGD


class RunningMean(nn.Module):
    """A layer with state that is not trained: the running mean of its inputs (as batch norm)."""

    def __init__(self, features: int):
        self.scale = nn.Parameter(np.ones(features))
        self.register_buffer("running_mean", np.zeros(features))
        self.register_buffer("calls", np.zeros((), dtype=np.int64))
        self.register_buffer("scratch", np.zeros(features), persistent=False)

    def forward(self, x):
        self.running_mean = 0.9 * self.running_mean + 0.1 * x.data.mean(axis=0)
        self.calls += 1
        return (x - self.running_mean) * self.scale


class Stack(nn.Module):
    def __init__(self, widths=(3, 4, 2)):
        self.blocks = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.heads = nn.ModuleDict({"digits": nn.Linear(widths[-1], 2), "norm": RunningMean(widths[-1])})

    def forward(self, x):
        for block in self.blocks:
            x = block(x).relu()
        return self.heads["digits"](self.heads["norm"](x))


# ---- buffers ------------------------------------------------------------------------------------
def test_buffers_are_state_but_not_parameters():
    layer = RunningMean(3)
    assert [name for name, _ in layer.named_parameters()] == ["scale"]
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "calls", "scratch"]
    assert list(layer.state_dict()) == ["scale", "running_mean", "calls"]  # scratch is not persistent
    assert layer.state_dict()["calls"].dtype == np.int64


def test_a_reassigned_buffer_stays_a_buffer_and_is_saved_with_its_new_value():
    layer = RunningMean(2)
    layer(Tensor(np.array([[1.0, 3.0], [3.0, 5.0]])))
    np.testing.assert_allclose(layer.state_dict()["running_mean"], [0.2, 0.4])
    assert layer.state_dict()["calls"] == 1


def test_buffers_follow_the_module_on_load():
    trained, fresh = Stack(), Stack()
    for _ in range(3):
        trained(Tensor(np.random.default_rng(0).standard_normal((5, 3))))
    fresh.load_state_dict(trained.state_dict())
    assert fresh.heads["norm"].calls == 3
    np.testing.assert_array_equal(fresh.heads["norm"].running_mean, trained.heads["norm"].running_mean)
    x = Tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)


@pytest.mark.parametrize("name, array, error", [
    ("a.b", np.zeros(1), KeyError), ("", np.zeros(1), KeyError), ("forward", np.zeros(1), KeyError),
    ("scale", np.zeros(1), KeyError), ("fine", [1.0], TypeError)])
def test_register_buffer_refuses_bad_names_and_values(name, array, error):
    with pytest.raises(error):
        RunningMean(1).register_buffer(name, array)


# ---- ModuleList, ModuleDict ------------------------------------------------------------------------
def test_module_list_and_dict_register_their_parameters_with_dotted_names():
    names = [name for name, _ in Stack().named_parameters()]
    assert names == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
                     "heads.digits.weight", "heads.digits.bias", "heads.norm.scale"]


def test_module_list_behaves_as_a_list():
    first, second, third = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    modules = nn.ModuleList([first])
    modules.append(third)
    modules.insert(1, second)
    assert list(modules) == [first, second, third] and len(modules) == 3 and modules[-1] is third
    assert isinstance(modules[1:], nn.ModuleList) and list(modules[1:]) == [second, third]
    del modules[0]
    modules[0] = first
    assert list(modules) == [first, third] and [name for name, _ in modules.named_children()] == ["0", "1"]
    with pytest.raises(TypeError, match="holds Modules"):
        modules.append(np.zeros(2))


def test_a_sequential_slice_is_a_sequential_that_runs():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    head = model[:2]
    assert isinstance(head, nn.Sequential) and head(Tensor(np.ones((4, 2)))).shape == (4, 3)


def test_module_dict_behaves_as_a_dict():
    relu, tanh = nn.ReLU(), nn.Tanh()
    heads = nn.ModuleDict({"a": relu})
    heads["b"] = tanh
    assert list(heads) == ["a", "b"] and heads.keys() == ["a", "b"] and heads.values() == [relu, tanh]
    assert "a" in heads and "c" not in heads and len(heads) == 2
    del heads["a"]
    assert heads.items() == [("b", tanh)]
    for key in ("train", "x.y", 3):
        with pytest.raises(KeyError):
            heads[key] = relu
    with pytest.raises(KeyError):
        heads["missing"]


@pytest.mark.parametrize("value, container", [
    ([nn.Linear(2, 2)], "ModuleList"), ((nn.ReLU(), nn.Tanh()), "ModuleList"),
    ([nn.Parameter(np.ones(2))], "ModuleList"), ({"a": nn.ReLU()}, "ModuleDict")])
def test_a_plain_list_of_modules_is_refused_naming_the_container(value, container):
    model = nn.Module()
    with pytest.raises(TypeError, match=f"use nn.{container}"):
        model.layers = value
    model.sizes = [1, 2, 3]  # lists of anything else are fine
    assert model.sizes == [1, 2, 3]


# ---- walking the tree -----------------------------------------------------------------------------
def test_children_modules_and_apply_visit_every_module_once():
    model = Stack()
    assert list(model.children()) == [model.blocks, model.heads]
    visited = []
    assert model.apply(visited.append) is model
    assert len(visited) == len(list(model.modules())) == 7 and visited[-1] is model
    assert len({id(module) for module in visited}) == 7


def test_apply_initializes_every_linear_layer():
    model = Stack()

    def zero_linear(module):
        if isinstance(module, nn.Linear):
            module.weight.data[...] = 0.0
    model.apply(zero_linear)
    assert all(not np.any(p.data) for name, p in model.named_parameters() if name.endswith("weight"))


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    model = Stack()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


# ---- state_dict round trips -------------------------------------------------------------------------
@given(st.integers(0, 2**16), st.integers(1, 4))
def test_state_dict_round_trip_after_training_gives_identical_outputs(seed, steps):
    rng = np.random.default_rng(seed)
    trained = Stack()
    optimizer = SGD(trained.parameters(), lr=0.1)
    x, labels = Tensor(rng.standard_normal((6, 3))), rng.integers(0, 2, 6)
    for _ in range(steps):
        optimizer.zero_grad()
        cross_entropy(trained(x), labels).backward()
        optimizer.step()
    state = trained.state_dict()
    copy = Stack()
    assert copy.load_state_dict(state) == ([], [])
    assert all(np.array_equal(copy.state_dict()[name], value) for name, value in state.items())
    np.testing.assert_array_equal(copy(x).data, trained(x).data)


def test_load_state_dict_not_strict_reports_missing_and_unexpected_keys():
    model = Stack()
    state = model.state_dict()
    kept = model.heads["digits"].bias.data.copy()
    del state["heads.digits.bias"]
    state["extra"] = np.zeros(1)
    state["blocks.0.weight"] = np.full((3, 4), 7.0, dtype=np.float32)
    with pytest.raises(KeyError, match=r"missing keys \['heads.digits.bias'\], unexpected keys \['extra'\]"):
        model.load_state_dict(state)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["heads.digits.bias"], ["extra"])
    np.testing.assert_array_equal(model.blocks[0].weight.data, 7.0)  # what matched was loaded
    np.testing.assert_array_equal(model.heads["digits"].bias.data, kept)


def test_load_state_dict_refuses_a_buffer_of_the_wrong_shape_even_when_not_strict():
    model = Stack()
    state = model.state_dict()
    state["heads.norm.running_mean"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"heads.norm.running_mean has shape \(5,\)"):
        model.load_state_dict(state, strict=False)


# ---- repr and summary ------------------------------------------------------------------------------
def test_repr_prints_the_tree():
    assert repr(Stack()) == "\n".join([
        "Stack(",
        "  (blocks): ModuleList(",
        "    (0): Linear(in_features=3, out_features=4)",
        "    (1): Linear(in_features=4, out_features=2)",
        "  )",
        "  (heads): ModuleDict(",
        "    (digits): Linear(in_features=2, out_features=2)",
        "    (norm): RunningMean()",
        "  )",
        ")"])


def test_summary_lists_each_layers_output_shape_and_parameters_and_the_total():
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    model.train()
    lines = model.summary((32, 784)).splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "parameters"]
    rows = [line.split(maxsplit=2) for line in lines[2:-1]]
    assert [(name, kind) for name, kind, _ in rows] == [
        ("0", "Linear"), ("1", "ReLU"), ("2", "Dropout"), ("3", "Linear")]
    assert rows[0][2].split() == ["(32,", "128)", "100,480"] and rows[3][2].split() == ["(32,", "10)", "1,290"]
    assert lines[-1] == "total parameters: 101,770 (trainable 101,770)"
    assert model.training and model[2].training  # the summary's eval() pass restored the mode
    assert all(p.grad is None for p in model.parameters())
