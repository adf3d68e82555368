"""tinygrad_np.viz and `python -m mnist graph`: the picture has exactly the graph backward() walks.

Node ids are documented: `tN` is the N-th tensor in input-before-output order and `opN` the op
that computed it, so the expected graphs below are written out edge by edge.
"""
import contextlib
import itertools
import re
import shutil
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
        self.graph_attributes = {}
        open_frames, frame_ids = [], {}
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
                    self.graph_attributes = attributes
                elif match[1] not in ("node", "edge"):
                    attributes["frame"] = frame_ids[open_frames[-1]] if open_frames else None
                    self.nodes[match[1]] = attributes
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
        "layers.0.weight | (6, 5) float32", "layers.0.bias | (5,) float32", "linear", "(4, 5) float32"]
    assert picture.in_frame("layers.1: ReLU") == ["relu", "(4, 5) float32"]
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
        "tanh", "(4, 2) float32", "scalar float32", "mul", "(4, 2) float32"]
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
    assert {"layers.0.weight", "layers.4.bias"} <= {t.text for t in root.iter(f"{SVG}text")}


def test_a_jupyter_display_without_dot_says_how_to_install_it(monkeypatch):
    """Jupyter calls _repr_mimebundle_, which runs dot: without dot, the library's own message."""
    import graphviz

    def no_dot(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    picture = viz.draw_graph(Tensor(np.ones(2), requires_grad=True).sum())
    monkeypatch.setattr(graphviz.Digraph, "_repr_mimebundle_", no_dot)
    with pytest.raises(viz.DotNotFoundError, match="apt-get install graphviz"):
        picture._repr_mimebundle_()
