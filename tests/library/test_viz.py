"""tinygrad_np.viz and `python -m mnist graph`: the picture has exactly the graph backward() walks.

Node ids are documented: `tN` is the N-th tensor in input-before-output order and `opN` the op
that computed it, so the expected graphs below are written out edge by edge.
"""
import contextlib
import importlib.util
import itertools
import re
import shutil
import warnings
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist.cli import main
from mnist.models.mlp import MLP
from tinygrad_np import Tensor, nn, viz
from tinygrad_np.nn import module as module_lib
from tinygrad_np.nn.functional import cross_entropy

ROOT = Path(__file__).resolve().parents[2]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed (apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"


# ---- reading the DOT text back ------------------------------------------------------------------

class Picture:
    """The DOT source parsed back: nodes (id -> attributes, plus the frame holding them), edges,
    and frames (label -> label of the frame around it, or None)."""

    def __init__(self, graph):
        self.nodes, self.edges, self.edge_attributes, self.frames = {}, [], [], {}
        self.graph_attributes, self.frame_labels = {}, {}
        open_frames, frame_ids = [], self.frame_labels  # frame_labels: cluster_K -> its label
        for line in graph.source.splitlines()[1:-1]:
            line = line.strip()
            if match := re.fullmatch(r"subgraph (cluster_\d+) \{", line):
                open_frames.append(match[1])
            elif line == "}":
                open_frames.pop()
            elif match := re.fullmatch(r"(\w+) -> (\w+)(?: \[(.*)\])?", line):
                self.edges.append((match[1], match[2]))
                self.edge_attributes.append(parse_attributes(match[3] or ""))
            elif match := re.fullmatch(r"(\w+) \[(.*)\]", line):
                attributes = parse_attributes(match[2])
                if match[1] == "graph":
                    self.graph_attributes.update(attributes)
                elif match[1] not in ("node", "edge"):
                    attributes["frame"] = frame_ids[open_frames[-1]] if open_frames else None
                    self.nodes[match[1]] = attributes
            elif not open_frames:  # more attributes of the whole picture (its label, compound=true)
                self.graph_attributes.update(parse_attributes(line))
            else:  # a frame's own attributes
                attributes = parse_attributes(line)
                frame_ids[open_frames[-1]] = attributes["label"]
                self.frames[attributes["label"]] = frame_ids[open_frames[-2]] if len(open_frames) > 1 else None

    def text(self, node_id) -> str:
        """The label without markup, its lines joined by ' | '."""
        label = self.nodes[node_id]["label"]
        return re.sub(r"<[^>]*>", "", label.replace("<BR/>", " | "))

    def kinds(self) -> Counter:
        return Counter(attributes["class"] for attributes in self.nodes.values())

    def named(self, name) -> str:
        """The id of the node whose label starts with `name` in bold."""
        (node_id,) = [i for i, a in self.nodes.items() if a["label"].startswith(f"<B>{name}</B>")]
        return node_id

    def in_frame(self, label) -> list:
        return [self.text(i) for i, a in self.nodes.items() if a["frame"] == label]


def parse_attributes(text) -> dict:
    """`a=b c="d e" label=<<B>x</B>>` -> {'a': 'b', 'c': 'd e', 'label': '<B>x</B>'}."""
    attributes, position = {}, 0
    while position < len(text):
        key, _, rest = text[position:].lstrip().partition("=")
        position = len(text) - len(rest)
        if rest.startswith("<"):  # HTML-like: up to the matching '>'
            depths = itertools.accumulate({"<": 1, ">": -1}.get(char, 0) for char in rest)
            end = next((index for index, depth in enumerate(depths) if depth == 0), len(rest) - 1)
            attributes[key], length = rest[1:end], end + 1
        elif rest.startswith('"'):
            end = re.match(r'"((?:[^"\\]|\\.)*)"', rest)
            attributes[key], length = end[1], end.end()
        else:
            value = rest.split(" ", 1)[0]
            attributes[key], length = value, len(value)
        position += length + 1
    return attributes


def has_style(attributes, kind) -> bool:
    return attributes["class"] == kind and viz.STYLES[kind].items() <= attributes.items()


# ---- small expressions --------------------------------------------------------------------------

def leaf(*shape, start=1.0):
    return Tensor(np.arange(start, start + np.prod(shape)).reshape(shape), requires_grad=True, dtype=np.float32)


def test_affine_relu_sum_is_drawn_node_by_node():
    a, b, c = leaf(2, 3), leaf(3, 4), leaf(4)
    out = ((a @ b + c).relu()).sum()
    picture = Picture(viz.draw_graph(out, names={"a": a, "b": b, "c": c}))

    assert {i: picture.text(i) for i in picture.nodes} == {
        "t0": "a | (2, 3) float32", "t1": "b | (3, 4) float32", "op2": "matmul",
        "t2": "(2, 4) float32", "t3": "c | (4,) float32", "op4": "add", "t4": "(2, 4) float32",
        "op5": "relu", "t5": "(2, 4) float32", "op6": "sum", "t6": "scalar float32"}
    assert picture.edges == [("t0", "op2"), ("t1", "op2"), ("op2", "t2"), ("t2", "op4"), ("t3", "op4"),
                             ("op4", "t4"), ("t4", "op5"), ("op5", "t5"), ("t5", "op6"), ("op6", "t6")]
    kinds = {"t0": "leaf", "t1": "leaf", "t3": "leaf", "t2": "intermediate", "t4": "intermediate",
             "t5": "intermediate", "t6": "output", "op2": "op", "op4": "op", "op5": "op", "op6": "op"}
    assert all(has_style(picture.nodes[i], kind) for i, kind in kinds.items())
    assert all(a["frame"] is None for a in picture.nodes.values())


def test_each_kind_has_its_own_style():
    looks = {tuple(sorted(style.items())) for style in viz.STYLES.values()}
    assert len(looks) == len(viz.STYLES) == 6


def test_a_reused_tensor_is_one_node_with_an_edge_per_use():
    a, b = leaf(2), leaf(2, start=3.0)
    d = a * b
    out = (d.exp() + d * d).sum()  # d feeds exp once and mul twice
    picture = Picture(viz.draw_graph(out, names={"d": d}))

    d_id = picture.named("d")
    uses = Counter(picture.text(head) for tail, head in picture.edges if tail == d_id)
    assert uses == {"exp": 1, "mul": 2}
    assert picture.kinds() == {"leaf": 2, "intermediate": 4, "output": 1, "op": 5}
    assert len(picture.edges) == 2 + 1 + 1 + 1 + 2 + 1 + 2 + 1 + 1 + 1  # inputs plus one out-edge per op


def test_constants_are_dashed_and_get_no_gradient_line():
    a = leaf(2)
    out = (a * 2).sum()
    out.backward()
    picture = Picture(viz.draw_graph(out, grads=True))

    (constant,) = [i for i, attributes in picture.nodes.items() if attributes["class"] == "constant"]
    assert has_style(picture.nodes[constant], "constant")
    assert picture.text(constant) == "scalar float32"
    assert ("t1", "op2") in picture.edges and picture.text("op2") == "mul"


# Each step maps (x, the tensor before x) to the next tensor.
STEPS = {"sigmoid": lambda x, previous: x.sigmoid(), "tanh": lambda x, previous: x.tanh(),
         "relu": lambda x, previous: x.relu(), "add_self": lambda x, previous: x + x,
         "mul_prev": lambda x, previous: x * previous,
         "sum_axis": lambda x, previous: x.sum(axis=0, keepdims=True)}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(list(STEPS)),
                min_size=1, max_size=8))
def test_every_op_is_one_node_with_one_edge_per_input_and_one_out(steps):
    x = previous = leaf(2, 2)
    for step in steps:
        x, previous = STEPS[step](x, previous), x
    picture = Picture(viz.draw_graph(x))

    ops = [i for i in picture.nodes if i.startswith("op")]
    assert len(ops) == len(steps)
    assert all(("op" + i[2:], "t" + i[2:]) in picture.edges for i in ops)
    arity = {"add_self": 2, "mul_prev": 2}
    assert len(picture.edges) == sum(arity.get(step, 1) + 1 for step in steps)


# ---- gradients and values -----------------------------------------------------------------------

def test_grads_show_shape_and_norm_of_what_backward_stored():
    a, b = leaf(2, 3), leaf(3)
    hidden = a * b
    out = hidden.sum()
    out.backward()
    picture = Picture(viz.draw_graph(out, names={"a": a, "hidden": hidden}, grads=True))

    norm = np.linalg.norm(a.grad.data)
    assert picture.text(picture.named("a")) == f"a | (2, 3) float32 | grad (2, 3) norm {norm:.3g}"
    assert "grad" not in picture.text(picture.named("hidden"))  # non-leaves drop theirs by default
    assert "grad" not in Picture(viz.draw_graph(out, names={"a": a})).text("t0")  # off unless asked


def test_retain_grads_keeps_every_intermediate_gradient_for_the_picture():
    a = leaf(2, 2)
    out = (a.tanh() * 3).sum()
    viz.retain_grads(out)
    out.backward()
    picture = Picture(viz.draw_graph(out, grads=True))

    tensors = [i for i, attributes in picture.nodes.items() if attributes["class"] not in ("op", "constant")]
    assert all("grad" in picture.text(i) for i in tensors)
    assert picture.text("t4") == "scalar float32 | grad = 1"  # the loss: d(out)/d(out)


def test_nan_and_inf_gradients_are_flagged_red():
    a, b = leaf(3), leaf(3)
    out = (a * b).sum()
    out.backward()
    a.grad = Tensor([np.nan, np.inf, 1.0], dtype=np.float32)
    picture = Picture(viz.draw_graph(out, names={"a": a, "b": b}, grads=True))

    bad, good = picture.nodes[picture.named("a")], picture.nodes[picture.named("b")]
    assert viz.NONFINITE_STYLE.items() <= bad.items()
    assert '<FONT COLOR="red">grad (3,) has 1 NaN, 1 Inf</FONT>' in bad["label"]
    assert bad["fillcolor"] == viz.STYLES["leaf"]["fillcolor"]  # still recognisable as a leaf
    assert "red" not in good["label"] and "penwidth" not in good


def test_values_are_shown_for_small_tensors_only():
    small, big = leaf(2), leaf(20)
    out = (small.sum() + big.sum())
    out.backward()
    picture = Picture(viz.draw_graph(out, names={"small": small, "big": big}, values=True, grads=True))

    assert picture.text(picture.named("small")) == ("small | (2,) float32 | = [1., 2.] | "
                                                    "grad (2,) norm 1.41 | grad = [1., 1.]")
    assert "=" not in picture.text(picture.named("big"))  # 20 entries > max_values=16
    assert "= [1., 2.]" not in Picture(viz.draw_graph(out, names={"small": small})).text("t0")


def test_direction_is_top_to_bottom_or_left_to_right():
    out = leaf(2).sum()
    assert Picture(viz.draw_graph(out)).graph_attributes["rankdir"] == "TB"
    assert Picture(viz.draw_graph(out, direction="LR")).graph_attributes["rankdir"] == "LR"
    with pytest.raises(ValueError, match="direction"):
        viz.draw_graph(out, direction="up")


def test_wrong_inputs_are_refused_with_a_reason():
    with pytest.raises(TypeError, match="Tensor"):
        viz.draw_graph(np.ones(2))
    with pytest.raises(TypeError, match="names\\['x'\\]"):
        viz.draw_graph(leaf(2).sum(), names={"x": np.ones(2)})


# ---- the gradient graph of backward(create_graph=True) ---------------------------------------

def test_the_gradient_graph_of_create_graph_is_drawn_like_any_other():
    x = Tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward(create_graph=True)
    dy_dx = x.grad
    picture = Picture(viz.draw_graph(dy_dx, names={"x": x, "dy/dx": dy_dx}, values=True))

    assert picture.text(picture.named("dy/dx")) == "dy/dx | scalar float32 | = 12."  # 3 x^2
    assert picture.nodes[picture.named("dy/dx")]["class"] == "output"
    assert picture.nodes[picture.named("x")]["class"] == "leaf"
    constants = [picture.text(i) for i, a in picture.nodes.items() if a["class"] == "constant"]
    assert constants == ["scalar float32 | = 1."]  # the seed d(y)/d(y)
    assert {picture.text(i) for i in picture.nodes if i.startswith("op")} == {"mul", "add"}

    both = Picture(viz.draw_graph([y, dy_dx], names={"x": x, "y": y, "dy/dx": dy_dx}))
    assert both.kinds()["output"] == 2
    x_id = both.named("x")  # one x, read by the forward and the gradient graph alike
    assert len([edge for edge in both.edges if edge[0] == x_id]) > len(
        [edge for edge in Picture(viz.draw_graph(y)).edges if edge[0] == "t0"])


# ---- modules: names, frames, collapse -----------------------------------------------------------

def mlp_loss(layer_sizes=(6, 5, 4, 3), record=True):
    model = MLP(layer_sizes, seed=0)
    x = Tensor(np.random.default_rng(0).random((4, layer_sizes[0])), dtype=np.float32)
    labels = np.array([0, 1, 2, 0])
    with viz.record_modules() if record else contextlib.nullcontext():
        loss = cross_entropy(model(x), labels)
    return model, x, loss


def test_mlp_has_one_frame_per_layer_holding_its_named_parameters_and_ops():
    model, x, loss = mlp_loss()
    picture = Picture(viz.draw_graph(loss, model, names={"x": x, "loss": loss}))

    assert picture.frames == {"layers.0: Linear": None, "layers.1: ReLU": None, "layers.2: Linear": None,
                              "layers.3: ReLU": None, "layers.4: Linear": None}
    assert picture.in_frame("layers.0: Linear") == [
        "layers.0.weight | (6, 5) float32", "layers.0.bias | (5,) float32", "linear", "layers.0 | (4, 5) float32"]
    assert picture.in_frame("layers.1: ReLU") == ["relu", "layers.1 | (4, 5) float32"]  # named after its maker
    assert picture.in_frame(None) == ["x | (4, 6) float32", "cross_entropy targets=int64[4]", "loss | scalar float32"]
    named = {picture.text(i).split(" | ")[0] for i, a in picture.nodes.items() if a["class"] == "leaf"}
    assert named == {name for name, _ in model.named_parameters()}


def test_without_recording_only_parameters_are_framed():
    model, x, loss = mlp_loss(record=False)
    picture = Picture(viz.draw_graph(loss, model))

    framed = [a["class"] for a in picture.nodes.values() if a["frame"] is not None]
    assert framed == ["leaf"] * 6
    assert Picture(viz.draw_graph(loss, model, clusters=False)).frames == {}


def test_nested_modules_frame_inside_their_parents_and_ops_go_to_the_innermost():
    class Block(nn.Module):
        def __init__(self):
            self.linear = nn.Linear(3, 2, rng=np.random.default_rng(0))

        def forward(self, x):
            return self.linear(x).tanh() * 2

    class Net(nn.Module):
        def __init__(self):
            self.block = Block()

        def forward(self, x):
            return self.block(x).sum()

    net = Net()
    with viz.record_modules():
        out = net(Tensor(np.ones((4, 3)), dtype=np.float32))
    picture = Picture(viz.draw_graph(out, net))

    assert picture.frames == {"Net": None, "block: Block": "Net", "block.linear: Linear": "block: Block"}
    assert picture.in_frame("block: Block") == [
        "tanh", "(4, 2) float32", "scalar float32", "mul", "block | (4, 2) float32"]
    assert picture.in_frame("Net") == ["sum", "scalar float32"]
    assert picture.in_frame(None) == ["(4, 3) float32"]  # the input is nobody's


def test_collapse_draws_each_layer_as_one_node():
    model, x, loss = mlp_loss()
    loss.backward()
    picture = Picture(viz.draw_graph(loss, model, names={"x": x}, collapse=True, grads=True))

    assert picture.kinds() == {"constant": 1, "module": 5, "op": 1, "output": 1}
    assert all(has_style(a, a["class"]) for a in picture.nodes.values())
    chain = ["t0", "m0", "m1", "m2", "m3", "m4"]
    assert picture.edges == list(zip(chain, chain[1:] + ["op12"], strict=True)) + [("op12", "t12")]
    assert picture.text("m0").startswith("layers.0: Linear | linear | weight (6, 5) float32 | grad (6, 5) norm ")
    assert "bias (5,) float32" in picture.text("m0") and "out (4, 5) float32" in picture.text("m0")
    assert picture.text("m1") == "layers.1: ReLU | relu | out (4, 5) float32"
    assert picture.frames == {}


def test_collapse_merges_repeated_edges_between_modules_but_not_a_reused_input():
    class Split(nn.Module):
        def forward(self, x): return x * 2, x * 3

    class Join(nn.Module):
        def forward(self, pair): return pair[0] * pair[1]

    x = leaf(2)
    with viz.record_modules():
        out = Join()(Split()(x)).sum()
    picture = Picture(viz.draw_graph(out, names={"x": x}, collapse=True))

    assert picture.edges == [("t0", "m0"), ("m0", "m1"), ("m1", "op6"), ("op6", "t6")]
    assert picture.text("m0") == "Split | mul, mul | out (2,) float32 | out (2,) float32"
    square = (x * x).sum()
    assert Counter(Picture(viz.draw_graph(square, collapse=True)).edges)[("t0", "op1")] == 2


def test_recording_is_off_outside_the_block_even_after_an_error():
    assert module_lib.forward_hooks == []
    with viz.record_modules():
        with viz.record_modules():  # nested blocks record once
            assert len(module_lib.forward_hooks) == 1
        assert len(module_lib.forward_hooks) == 1
    assert module_lib.forward_hooks == []
    with pytest.raises(ZeroDivisionError), viz.record_modules():
        raise ZeroDivisionError
    assert module_lib.forward_hooks == []


# ---- big graphs: collapsed by default, names from the model, inputs whose ops were not recorded ----

def cnn_loss(record=True):
    """A small CNN's loss on an input built by indexing a constant, as a data loader does. Its
    layer norm, a composition of ten ops, makes the graph big."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.BatchNorm2d(4), nn.LayerNorm((4, 8, 8)), nn.ReLU(),
                          nn.MaxPool2d(2),
                          nn.Conv2d(4, 4, 3, rng=rng), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3, rng=rng))
    data = Tensor(rng.random((5, 1, 10, 10)), dtype=np.float32)
    x = data[np.array([0, 3])]  # no op recorded: nothing here needs a gradient
    with viz.record_modules() if record else contextlib.nullcontext():
        loss = cross_entropy(model(x), np.array([0, 2]))
    return model, x, loss


def test_a_big_graph_is_drawn_module_by_module_by_default_and_says_how_to_expand_it():
    model, x, loss = cnn_loss()
    expanded = Picture(viz.draw_graph(loss, model, collapse=False))
    ops = expanded.kinds()["op"]
    assert ops > viz.MAX_EXPANDED_OPS and "module" not in expanded.kinds()
    assert "label" not in expanded.graph_attributes

    picture = Picture(viz.draw_graph(loss, model))
    modules = [picture.text(i).split(" | ")[0] for i, a in picture.nodes.items() if a["class"] == "module"]
    assert sorted(modules) == ["0: Conv2d", "1: BatchNorm2d", "2: LayerNorm", "3: ReLU", "4: MaxPool2d",
                               "5: Conv2d", "6: ReLU", "7: Flatten", "8: Linear"]
    assert picture.graph_attributes["label"] == (
        f"collapsed by module ({ops} ops in 9 modules): collapse=False draws every op")
    assert picture.nodes == Picture(viz.draw_graph(loss, model, collapse=True)).nodes


def test_a_small_graph_and_one_without_recorded_modules_stay_expanded():
    model, x, loss = mlp_loss()
    assert viz.MAX_EXPANDED_OPS >= Picture(viz.draw_graph(loss, model)).kinds()["op"] == 6
    assert "module" not in Picture(viz.draw_graph(loss, model)).kinds()

    model, x, loss = cnn_loss(record=False)  # nothing says which module made which op
    picture = Picture(viz.draw_graph(loss, model))
    assert picture.kinds()["op"] > viz.MAX_EXPANDED_OPS and "module" not in picture.kinds()


def test_buffers_tensor_attributes_and_module_results_are_named_by_their_path():
    class Scaled(nn.Module):
        def __init__(self):
            self.layers = nn.Sequential(nn.Linear(3, 2, rng=np.random.default_rng(0)), nn.BatchNorm1d(2))
            self.scale = Tensor([0.5, 2.0])  # a constant kept as an attribute, not a parameter

        def forward(self, x):
            return self.layers(x) * self.scale

    model = Scaled().eval()  # eval: batch norm reads its running_mean buffer
    with viz.record_modules():
        out = model(Tensor(np.ones((4, 3)), dtype=np.float32)).sum()
    picture = Picture(viz.draw_graph(out, model))

    named = {picture.text(i).split(" | ")[0]: a["class"] for i, a in picture.nodes.items()
             if a["label"].startswith("<B>")}
    assert named == {"layers.0.weight": "leaf", "layers.0.bias": "leaf", "layers.0": "intermediate",
                     "layers.1.running_mean": "constant", "layers.1.weight": "leaf", "layers.1.bias": "leaf",
                     "layers.1": "intermediate", "scale": "constant"}
    running_mean = picture.named("layers.1.running_mean")
    assert picture.nodes[running_mean]["frame"] == "layers.1: BatchNorm1d"
    assert picture.text([head for tail, head in picture.edges if tail == running_mean][0]) == "sub"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


def test_a_gradient_graph_drawn_on_its_own_names_the_weights_of_the_recorded_model():
    attention = load_example("attention")
    rng = np.random.default_rng(0)
    model = attention.RunningMean(dim=8, heads=2, rng=rng)
    values = Tensor(rng.standard_normal((2, 3)), dtype=np.float32)
    with viz.record_modules():
        loss = nn.MSELoss()(model(values), np.cumsum(values.data, axis=1))
    loss.backward(create_graph=True)
    weight_grad = model.block.attention.query.weight.grad
    picture = Picture(viz.draw_graph(weight_grad, collapse=False))  # no module: the recorded one names

    leaves = {picture.text(i).split(" | ")[0] for i, a in picture.nodes.items() if a["class"] == "leaf"}
    assert leaves == {name for name, _ in model.named_parameters()}
    results = {picture.text(i).split(" | ")[0] for i, a in picture.nodes.items()
               if a["class"] == "intermediate" and a["label"].startswith("<B>")}
    assert {"block.attention.query", "block.attention.key", "block.norm1", "block.mlp.1"} <= results
    assert picture.nodes == Picture(viz.draw_graph(weight_grad, model, collapse=False)).nodes


class FlatRowsCnn(nn.Module):
    """A CNN fed flat rows, as MNIST files store images: it makes them images itself."""

    def __init__(self, rng):
        self.layers = nn.Sequential(nn.Conv2d(1, 2, 3, rng=rng), nn.ReLU(), nn.Flatten(), nn.Linear(128, 3, rng=rng))

    def forward(self, rows):
        return self.layers(rows.reshape(-1, 1, 10, 10))


def flat_rows_loss(record=True):
    """FlatRowsCnn's loss: the rows' reshape needs no gradient, so it is not recorded."""
    rng = np.random.default_rng(0)
    model = FlatRowsCnn(rng)
    x = Tensor(rng.random((5, 100)), dtype=np.float32)[np.array([0, 3])]
    with viz.record_modules() if record else contextlib.nullcontext():
        loss = cross_entropy(model(x), np.array([0, 2]))
    return model, x, loss


def test_a_named_input_whose_ops_were_not_recorded_goes_into_the_module_call_it_was_given_to():
    model, x, loss = flat_rows_loss()
    picture = Picture(viz.draw_graph(loss, model, names={"x": x}, collapse=False))

    x_id = picture.named("x")
    assert picture.nodes[x_id]["class"] == "constant" and picture.nodes[x_id]["frame"] is None
    assert picture.text(x_id) == "x | (2, 100) float32"
    ((head, style),) = [(h, a) for (t, h), a in zip(picture.edges, picture.edge_attributes, strict=True) if t == x_id]
    assert style["style"] == "dashed" and picture.graph_attributes["compound"] == "true"
    assert picture.frame_labels[style["lhead"]] == picture.nodes[head]["frame"] == "layers.0: Conv2d"
    unframed = Picture(viz.draw_graph(loss, model, names={"x": x}, clusters=False, collapse=False))
    assert [unframed.text(h) for t, h in unframed.edges if t == unframed.named("x")] == ["conv2d"]  # reads its reshape
    collapsed = Picture(viz.draw_graph(loss, model, names={"x": x}, collapse=True))
    assert [collapsed.text(h).split(" | ")[0] for t, h in collapsed.edges if t == collapsed.named("x")] == [
        "layers.0: Conv2d"]

    model, x, loss = cnn_loss()  # an image batch goes into the conv as it is: an ordinary constant input
    picture = Picture(viz.draw_graph(loss, model, names={"x": x}, collapse=False))
    ((head, style),) = [(h, a) for (t, h), a in zip(picture.edges, picture.edge_attributes, strict=True)
                        if t == picture.named("x")]
    assert "style" not in style and picture.text(head) == "conv2d" and picture.nodes[head]["frame"] == "0: Conv2d"


def test_a_name_that_matches_no_node_is_warned_about_and_names_that_match_are_not():
    model, x, loss = flat_rows_loss(record=False)
    with pytest.warns(UserWarning, match=r"names \['x'\] match no node of the graph: .*record_modules") as caught:
        picture = Picture(viz.draw_graph(loss, model, names={"x": x, "loss": loss}))
    assert len(caught) == 1 and caught[0].filename == __file__  # points at the caller's line
    assert picture.nodes[picture.named("loss")]["class"] == "output"
    with pytest.warns(UserWarning, match=r"names \['a', 'stray'\]"):
        viz.draw_graph(loss, model, names={"stray": Tensor(np.ones(2)), "a": leaf(3), "loss": loss})

    model, x, loss = flat_rows_loss()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.draw_graph(loss, model, names={"x": x, "loss": loss})
        model, x, loss = mlp_loss(record=False)
        viz.draw_graph(loss, model, names={"x": x, "loss": loss})


def test_the_walk_draws_every_op_of_a_big_graph():
    model, x, loss = cnn_loss()
    steps = viz.backward_steps(loss, model, names={"x": x})
    assert all("class=module" not in step.graph.source for step in steps[:2])
    assert steps[0].graph.source.count("class=op") > viz.MAX_EXPANDED_OPS


# ---- rendering ----------------------------------------------------------------------------------

@needs_dot
def test_dot_renders_a_valid_svg_with_every_node():
    model, x, loss = mlp_loss()
    loss.backward()
    graph = viz.draw_graph(loss, model, grads=True)
    root = ElementTree.fromstring(viz.render_bytes(graph, "svg"))

    groups = root.iter(f"{SVG}g")
    classes = Counter(g.get("class") for g in groups)
    assert classes["node leaf"] == 6 and classes["node op"] == 6 and classes["node output"] == 1
    assert sum(n for c, n in classes.items() if c.startswith("node")) == len(Picture(graph).nodes) == 19
    assert classes["cluster"] == 5 and classes["edge"] == len(Picture(graph).edges)
    titles = {t.text for t in root.iter(f"{SVG}text")}
    assert {"layers.0.weight", "layers.4.bias", "cross_entropy targets=int64[4]"} <= titles


@needs_dot
def test_png_and_pdf_come_from_dot_and_save_picks_the_format_by_suffix(tmp_path):
    graph = viz.draw_graph(leaf(2).sum())
    assert viz.render_bytes(graph, "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert viz.render_bytes(graph, "pdf").startswith(b"%PDF")
    assert viz.save(graph, tmp_path / "g.SVG").read_bytes().lstrip().startswith(b"<?xml")


def test_dot_text_needs_no_install_and_a_missing_dot_says_what_to_install(tmp_path, monkeypatch):
    graph = viz.draw_graph(leaf(2).sum())
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` to be found
    assert viz.save(graph, tmp_path / "g.gv").read_text() == graph.source
    with pytest.raises(viz.DotNotFoundError, match="apt-get install graphviz"):
        viz.render_bytes(graph, "svg")
    with pytest.raises(ValueError, match="name the file"):
        viz.format_of("picture.jpeg")
    with pytest.raises(ValueError, match="format"):
        viz.render_bytes(graph, "jpeg")


# ---- python -m mnist graph ----------------------------------------------------------------------

def test_cli_draws_one_training_step_with_gradients(tmp_path, capsys):
    out = tmp_path / "mlp.dot"
    assert main(["graph", "--out", str(out), "--layers", "6", "4", "3", "--grads", "--batch-size", "2"]) == 0
    source = out.read_text()
    assert "layers.0.weight" in source and "layers.2.bias" in source and "cross_entropy" in source
    assert "(2, 6) float32" in source  # seeded random inputs, since 6 is not 784
    assert source.count("grad (") == 7 and "grad = 1" in source  # every tensor but the input batch
    assert source.count("subgraph cluster_") == 3
    assert f"wrote {out}" in capsys.readouterr().out


def test_cli_collapse_and_dropout(tmp_path):
    out = tmp_path / "mlp.dot"
    assert main(["graph", "--out", str(out), "--layers", "6", "4", "3", "--collapse", "--dropout", "0.5"]) == 0
    source = out.read_text()
    assert source.count("class=module") == 4 and "layers.2: Dropout" in source


@pytest.mark.parametrize("flag, modules", [([], 0), (["--no-collapse"], 0), (["--collapse"], 13)])
def test_cli_passes_its_collapse_flag_to_the_library_and_draws_the_cnn_input(tmp_path, flag, modules):
    """The default CNN's step is 14 ops, few enough to draw op by op unless told to collapse."""
    out = tmp_path / "cnn.dot"
    assert main(["graph", "--model", "cnn", "--batch-size", "1", "--out", str(out), *flag]) == 0
    source = out.read_text()
    assert source.count("class=module") == modules
    assert "collapsed by module" not in source  # only an automatic collapse says so
    assert "<B>x (input batch)</B><BR/>(1, 1, 28, 28) float32" in source  # its unfolding is not recorded


@needs_dot
def test_cli_draws_real_mnist_images_as_svg(tmp_path):
    out = tmp_path / "mlp.svg"
    assert main(["graph", "--out", str(out), "--layers", "784", "8", "10", "--direction", "LR"]) == 0
    root = ElementTree.parse(out).getroot()
    assert "x (input batch)" in {t.text for t in root.iter(f"{SVG}text")}
    assert "(4, 784) float32" in {t.text for t in root.iter(f"{SVG}text")}


@pytest.mark.parametrize("argv, complaint", [
    (["--layers", "784"], "at least two sizes"), (["--layers", "784", "0", "10"], "must be an integer >= 1"),
    (["--activation", "swish"], "invalid choice"), (["--batch-size", "0"], "must be an integer >= 1"),
    (["--direction", "up"], "invalid choice"), (["--out", "g.jpeg"], "name the file .svg, .png, .pdf or .dot")])
def test_cli_rejects_bad_arguments_with_exit_status_2(tmp_path, argv, complaint, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", "--out", str(tmp_path / "g.svg"), *argv])
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err
    assert not (tmp_path / "g.svg").exists()


def test_cli_without_dot_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["graph", "--out", str(tmp_path / "g.svg"), "--layers", "3", "2"]) == 1
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert not (tmp_path / "g.svg").exists()


# ---- the picture in the docs --------------------------------------------------------------------

def test_the_documented_picture_exists_and_the_legend_names_its_command():
    legend = (ROOT / "docs" / "graph-legend.md").read_text()
    assert "python -m mnist graph --out docs/mlp-graph.svg --layers 784 32 16 10 --grads" in legend
    assert "mlp-graph.svg" in legend
    root = ElementTree.parse(ROOT / "docs" / "mlp-graph.svg").getroot()
    classes = Counter(g.get("class") for g in root.iter(f"{SVG}g"))
    assert classes["cluster"] == 5 and classes["node leaf"] == 6
    assert {"layers.0.weight", "layers.4.bias", "layers.3"} <= {t.text for t in root.iter(f"{SVG}text")}

    command = "python -m mnist graph --out docs/cnn-graph.svg --model cnn --grads --collapse"
    assert command in legend and "cnn-graph.svg" in legend
    root = ElementTree.parse(ROOT / "docs" / "cnn-graph.svg").getroot()
    assert Counter(g.get("class") for g in root.iter(f"{SVG}g"))["node module"] == 13
    assert "x (input batch)" in {t.text for t in root.iter(f"{SVG}text")}


def test_a_jupyter_display_without_dot_says_how_to_install_it(monkeypatch):
    """Jupyter calls _repr_mimebundle_, which runs dot: without dot, the library's own message."""
    import graphviz

    def no_dot(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    picture = viz.draw_graph(Tensor(np.ones(2), requires_grad=True).sum())
    monkeypatch.setattr(graphviz.Digraph, "_repr_mimebundle_", no_dot)
    with pytest.raises(viz.DotNotFoundError, match="apt-get install graphviz"):
        picture._repr_mimebundle_()
