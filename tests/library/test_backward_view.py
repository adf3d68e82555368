"""viz.backward_steps and viz.save_walk: the pictures follow backward()'s own walk, step by step."""
import html
import importlib
import pkgutil
import re
import shutil
import subprocess

import numpy as np
import pytest
from cli_runs import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays

import tinygrad_np.ops
import tinygrad_np.ops.elementwise
from tinygrad_np import Tensor, nn, viz
from tinygrad_np.autograd import gradients
from tinygrad_np.function import Function
from tinygrad_np.nn.functional import cross_entropy

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed (apt-get install graphviz)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@st.composite
def small_networks(draw):
    """(loss, model, x): Linear, ReLU, Linear and cross-entropy, plus a tensor used twice
    (h * h), so that some node gathers gradients from two consumers."""
    batch, inputs, hidden, classes = (draw(st.integers(1, 3)) for _ in range(4))
    classes += 1
    model = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, classes))
    for parameter in model.parameters():
        parameter.data = draw(arrays(parameter.shape, low=-1.0, high=1.0)).astype(np.float32)
    x = Tensor(draw(arrays((batch, inputs))).astype(np.float32))
    hidden_out = model[1](model[0](x))
    logits = model[2](hidden_out * hidden_out + hidden_out)
    labels = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch)))
    return cross_entropy(logits, labels), model, x


def backward_order(loss) -> list:
    """The tensors in the order loss.backward() walks them, recorded from the generator it consumes."""
    walked, walk = [], gradients.backprop

    def recording(*args, **kwargs):
        for step in walk(*args, **kwargs):
            walked.append(step.tensor)
            yield step

    gradients.backprop = recording
    try:
        loss.backward()
    finally:
        gradients.backprop = walk
    return walked


@settings(max_examples=15, deadline=None)
@given(small_networks())
def test_walk_has_backwards_order_and_gradients(network):
    loss, model, x = network
    steps = viz.backward_steps(loss, model, names={"x": x})
    assert all(parameter.grad is None for parameter in model.parameters())  # it touched no .grad
    viz.retain_grads(loss)
    order = backward_order(loss)
    assert [s.step.tensor for s in steps] == order
    assert [s.number for s in steps] == list(range(1, len(order) + 1))
    handed_total = {}
    for walk_step in steps:
        tensor = walk_step.step.tensor
        if tensor is not loss:
            np.testing.assert_array_equal(walk_step.step.grad, tensor.grad.data)
        for parent, handed in zip(walk_step.step.inputs, walk_step.step.input_grads, strict=True):
            if handed is not None:
                handed_total[parent] = handed_total.get(parent, 0) + handed
    for tensor, total in handed_total.items():  # what the steps handed on adds up to each .grad
        np.testing.assert_allclose(total, tensor.grad.data, rtol=1e-6, atol=1e-7)
    assert set(handed_total) == {s.step.tensor for s in steps} - {loss}


def primitives() -> list:
    """Every Function subclass in the library with a backward of its own."""
    for info in pkgutil.iter_modules(tinygrad_np.ops.__path__):
        importlib.import_module(f"tinygrad_np.ops.{info.name}")
    found, todo = [], [Function]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tinygrad_np.") and "backward" in vars(cls) and cls is not Function:
            found.append(cls)
    return found


def test_every_primitive_states_its_rule_next_to_its_backward():
    found = primitives()
    assert len(found) >= 40 and any(cls.__name__ == "Linear" for cls in found)
    without = [cls.__qualname__ for cls in found if not vars(cls).get("formula", "").strip()]
    assert without == []
    assert tinygrad_np.ops.elementwise.ReLU.formula == "dZ = dA ⊙ 1[Z > 0]"


@needs_dot
def test_each_picture_highlights_its_node_and_shows_its_rule():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2))
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 6)
    loss = cross_entropy(model(x), np.array([0, 1]))
    steps = viz.backward_steps(loss, model)
    leaves = sum(s.step.fn is None for s in steps)
    assert leaves == 4 and len(steps) == 4 + 4  # cross_entropy, linear, relu, linear; 2 weights, 2 biases
    for walk_step in steps:
        source = walk_step.graph.source
        highlighted = source.count("fillcolor=orange")
        assert highlighted == (1 if walk_step.step.fn is None else 2)  # a leaf, or an op and its result
        walked_before = sum(1 if s.step.fn is None else 2 for s in steps[:walk_step.number - 1])
        assert source.count("fillcolor=gray90") == walked_before
        if walk_step.formula:
            assert walk_step.formula == walk_step.step.fn.formula and walk_step.formula in source
        assert len(walk_step.handed) == sum(g is not None for g in walk_step.step.input_grads)
    assert steps[1].formula == "dA_prev = dZ Wᵀ,  dW = A_prevᵀ dZ,  db = Σ dZ"
    assert "to 2.weight: grad (2, 2) norm" in steps[1].handed[1]


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = Tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4))
    loss = cross_entropy(model(x), np.array([1, 0]))
    return viz.backward_steps(loss, model, names={"x": x, "loss": loss}), tmp_path_factory.mktemp("walk")


@needs_dot
def test_page_is_self_contained(walk):
    steps, folder = walk
    page = viz.save_walk(steps, folder / "walk.html").read_text()
    assert not re.search(r"https?:|<script\s+src|<link|@import|url\(", page)
    assert page.count("<svg") == len(steps) == page.count('<section class="step"')
    for walk_step in steps:
        assert html.escape(walk_step.formula) in page


@needs_dot
def test_gif_has_a_frame_per_step_and_a_folder_a_png_per_step(walk):
    from PIL import Image

    steps, folder = walk
    with Image.open(viz.save_walk(steps, folder / "walk.gif")) as gif:
        assert gif.n_frames == len(steps)
    pngs = sorted(p.name for p in viz.save_walk(steps, folder / "pngs").iterdir())
    assert pngs == [f"step-{n:02d}.png" for n in range(1, len(steps) + 1)]


def test_unknown_suffix_is_refused_with_the_name(walk):
    steps, folder = walk
    with pytest.raises(ValueError, match=r"walk\.svg: name the walk \.html"):
        viz.save_walk(steps, folder / "walk.svg")


# ---- a real browser --------------------------------------------------------------------------------

PRESS_NEXT_TWICE_AND_RIGHT = """<script>
document.getElementById("next").click(); document.getElementById("next").click();
document.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight"}));
</script></body>"""


def browse(url: str, *flags) -> str:
    """Chromium's output for `url` with `flags` (--screenshot=..., --dump-dom)."""
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1200,900", *flags, url], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def shown_step(dom: str) -> int:
    (shown,) = re.findall(r'<section class="step" id="step-(\d+)">', dom)  # the one without `hidden`
    return int(shown)


@needs_dot
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (Debian: apt-get install chromium)")
def test_page_steps_through_in_a_real_browser(walk):
    steps, folder = walk
    page = viz.save_walk(steps, folder / "browse.html")
    pressed = folder / "pressed.html"
    pressed.write_text(page.read_text().replace("</body>", PRESS_NEXT_TWICE_AND_RIGHT))
    playing = folder / "playing.html"
    playing.write_text(page.read_text().replace("</body>", '<script>document.getElementById("play").click();'
                                                           "</script></body>"))
    assert shown_step(browse(page.as_uri(), "--dump-dom")) == 1
    assert shown_step(browse(page.as_uri() + "#step=3", "--dump-dom")) == 3
    assert shown_step(browse(pressed.as_uri(), "--dump-dom")) == 4  # two clicks on Next, one arrow key
    assert shown_step(browse(playing.as_uri(), "--virtual-time-budget=5000", "--dump-dom")) == 4  # 1.5 s a step
    shots = {}
    for name, url in (("first", page.as_uri()), ("fourth", page.as_uri() + "#step=4"), ("pressed", pressed.as_uri())):
        browse(url, f"--screenshot={folder / name}.png")
        shots[name] = (folder / f"{name}.png").read_bytes()
    assert shots["first"] != shots["fourth"]
    assert shots["pressed"] == shots["fourth"]


# ---- the command -------------------------------------------------------------------------------

@needs_dot
def test_cli_writes_the_walk_of_one_training_step(tmp_path):
    status, out, err = run_cli("graph", "--walk", "--out", tmp_path / "walk.html", "--layers", "6", "4", "3")
    assert status == 0, err
    assert "(8 steps)" in out  # cross_entropy, linear, relu, linear, then four parameters
    page = (tmp_path / "walk.html").read_text()
    assert page.count("<svg") == 8 and "layers.0.weight" in page


def test_cli_refuses_a_walk_to_a_picture_suffix(tmp_path):
    status, _, err = run_cli("graph", "--walk", "--out", tmp_path / "walk.svg", "--layers", "6", "4", "3")
    assert status == 2 and "walk.svg: name the walk .html" in err
    assert not (tmp_path / "walk.svg").exists()


def test_steps_need_a_scalar_or_a_gradient():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward_steps\(\) without a gradient works only for one-element"):
        viz.backward_steps(x * 2)
    steps = viz.backward_steps(x * 2, gradient=np.ones((2, 2)))
    np.testing.assert_array_equal(steps[-1].step.grad, np.full((2, 2), 2.0))
