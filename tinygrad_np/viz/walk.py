"""Watch backward() walk the graph: one picture per step of the walk, and files to step through them.

    steps = backward_steps(loss, module=model)   # runs autograd.backprop, the walk backward() runs
    save_walk(steps, "walk.html")                # or "walk.gif", or "walk" (a folder, one PNG a step)

Each picture is `viz.draw_graph`'s, restyled per step: the node being walked (a leaf, or an op and
the tensor it made) is orange with a thick border and shows the gradient it received, complete;
the inputs it hands a gradient to get a blue border and that gradient; nodes already walked are
grey and keep the gradient they received; nodes still waiting are drawn as draw_graph draws them.
The title holds the op's rule (`Function.formula`, kept next to its backward).
"""
import html
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import graphviz
import numpy as np

from tinygrad_np.autograd.gradients import _seeds
from tinygrad_np.autograd.walk import Step, backprop
from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.graph import ModuleTree, Names
from tinygrad_np.viz.labels import GRAD_COLOR, _array_text, _grad_summary
from tinygrad_np.viz.render import draw_graph, render_bytes

WALKED_STYLE = {"style": "filled", "fillcolor": "gray90", "color": "gray60", "fontcolor": "gray45"}
CURRENT_STYLE = {"style": "filled,bold", "fillcolor": "orange", "color": "orangered3", "penwidth": "3"}
HANDED_STYLE = {"color": GRAD_COLOR, "penwidth": "2.5"}
SECONDS_PER_STEP = 1.5  # the GIF's and the page's play speed


@dataclass(frozen=True)
class WalkStep:
    """One step of the walk: the walk's own `step`, its picture, and its text for the page."""
    number: int  # 1-based
    step: Step
    graph: graphviz.Digraph
    title: str  # "linear (layers.2)", or the leaf's name
    formula: str  # the op's backward rule; empty for a leaf
    received: str  # the gradient the node received: shape, norm, values when small
    handed: tuple  # one line per input that got a gradient: "to layers.2.weight: grad (64, 10) norm 0.3"


def backward_steps(output: Tensor, module=None, *, gradient=None, names: Optional[dict] = None,
                   max_values: int = 16, direction: str = "TB") -> list:
    """The walk `output.backward(gradient)` performs, one `WalkStep` per node, in its order.

    It iterates `autograd.backprop`, the generator backward() consumes, so the order and the
    gradients are backward()'s; no `.grad` is touched. module and names label the tensors as in
    `viz.draw_graph`; gradients with at most `max_values` entries are shown in full.
    """
    seeds = _seeds("backward_steps()", [output], gradient, False)
    walked = list(backprop([output], seeds))
    namer = _Namer(Names(ModuleTree.of(module, [step.tensor for step in walked]), names))
    return [_walk_step(number, walked, output, module, names, namer, max_values, direction)
            for number in range(1, len(walked) + 1)]


class _Namer:
    """What the text calls a tensor: its name in the picture, else its op and shape."""

    def __init__(self, names: Names):
        self.names = names

    def __call__(self, tensor: Tensor) -> str:
        name = self.names(tensor)
        if name is not None:
            return name
        made_by = f"{tensor._ctx.name} output" if tensor._ctx is not None else "input"
        return f"{made_by} {tensor.shape}"


def _walk_step(number, walked, output, module, names, namer, max_values, direction) -> WalkStep:
    step = walked[number - 1]
    position = {id(s.tensor): index for index, s in enumerate(walked)}
    position.update({id(s.fn): index for index, s in enumerate(walked) if s.fn is not None})
    handed: dict = {}  # id of an input -> the gradient this step hands it
    for tensor, grad in zip(step.inputs, step.input_grads, strict=False):
        if grad is not None:  # a * a hands a twice: the two shares add up
            handed[id(tensor)] = grad + handed[id(tensor)] if id(tensor) in handed else grad
    current = number - 1

    def restyle(kind, item, attributes):
        index = position.get(id(item))
        if index is None:
            return attributes  # a constant: it gets no gradient
        if index == current:
            attributes.update(CURRENT_STYLE)
            extra = (_gradient_lines(step.grad, max_values, "received ") if kind != "op"
                     else [f"<I>{html.escape(step.fn.formula)}</I>"] if step.fn.formula else [])
        elif index < current:
            attributes.update(WALKED_STYLE)
            extra = [] if kind == "op" else _gradient_lines(walked[index].grad, max_values, "walked, ")
        elif id(item) in handed:
            attributes.update(HANDED_STYLE)
            extra = _gradient_lines(handed[id(item)], max_values, "handed ")
        else:
            return attributes
        attributes["label"] = attributes["label"][:-1] + "".join(f"<BR/>{line}" for line in extra) + ">"
        return attributes

    graph = draw_graph(output, module, names=names, collapse=False, direction=direction, restyle=restyle)
    title = namer(step.tensor) if step.fn is None else _op_title(step, namer)
    formula = step.fn.formula if step.fn is not None else ""
    heading = f"step {number} of {len(walked)}: {title}" + (f"\n{formula}" if formula else "")
    graph.attr(label=heading, labelloc="t", labeljust="l", fontsize="14")
    received = _grad_summary(np.asarray(step.grad))[0]
    lines = tuple(f"to {namer(tensor)}: {_grad_summary(np.asarray(grad))[0]}"
                  for tensor, grad in zip(step.inputs, step.input_grads, strict=False) if grad is not None)
    return WalkStep(number, step, graph, title, formula, received, lines)


def _op_title(step, namer) -> str:
    return f"{step.fn.describe()} → {namer.names(step.tensor) or step.tensor.shape}"


def _gradient_lines(grad, max_values, prefix) -> list:
    grad = np.asarray(grad)
    lines = [f'<FONT COLOR="{GRAD_COLOR}">{html.escape(prefix + _grad_summary(grad)[0])}</FONT>']
    if 0 < grad.ndim and grad.size <= max_values:
        lines.append(f'<FONT COLOR="{GRAD_COLOR}">{_array_text(grad)}</FONT>')
    return lines


# ---- files ------------------------------------------------------------------------------------------

def walk_format(path) -> str:
    """What a path asks save_walk for: "html" (.html), "gif" (.gif) or "png" (no suffix: a folder)."""
    suffix = Path(path).suffix.lower()
    formats = {".html": "html", ".htm": "html", ".gif": "gif", "": "png"}
    if suffix not in formats:
        raise ValueError(f"{path}: name the walk .html (a page), .gif (an animation), "
                         "or give a folder name without a suffix (one PNG per step)")
    return formats[suffix]


def save_walk(steps: list, path) -> Path:
    """Write the steps as one self-contained HTML page, an animated GIF, or a folder of PNGs
    (`step-01.png`, ...), as the path's suffix says (see `walk_format`). Needs Graphviz's `dot`."""
    path, kind = Path(path), walk_format(path)
    if not steps:
        raise ValueError(f"{path}: no steps to save")
    if kind == "html":
        _write_atomic(path, walk_page(steps).encode())
    elif kind == "gif":
        _write_atomic(path, _gif(steps))
    else:
        path.mkdir(parents=True, exist_ok=True)
        for walk_step in steps:
            _write_atomic(path / f"step-{walk_step.number:02d}.png", render_bytes(walk_step.graph, "png"))
    return path


def _write_atomic(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(temporary, 0o644)  # mkstemp's 0o600 would hide the page from a web server
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _gif(steps) -> bytes:
    from PIL import Image  # only the GIF needs Pillow

    frames = [Image.open(io.BytesIO(render_bytes(s.graph, "png"))).convert("RGB") for s in steps]
    size = (max(f.width for f in frames), max(f.height for f in frames))
    canvases = []
    for frame in frames:  # the pictures differ in size: each is centred on a white frame of the largest
        canvas = Image.new("RGB", size, "white")
        canvas.paste(frame, ((size[0] - frame.width) // 2, 0))
        canvases.append(canvas)
    buffer = io.BytesIO()
    canvases[0].save(buffer, format="GIF", save_all=True, append_images=canvases[1:],
                     duration=int(SECONDS_PER_STEP * 1000), loop=0)
    return buffer.getvalue()


def inline_svg(svg: bytes) -> str:
    """Graphviz's SVG, ready to sit inside HTML: no XML prolog, doctype, comments or namespace URLs
    (HTML knows <svg> without them, and the page must not name any network address)."""
    text = svg.decode()
    text = text[text.index("<svg"):]
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)


def walk_page(steps: list) -> str:
    """The HTML page: every step's picture and text, buttons, arrow keys, play, `#step=N`."""
    sections = []
    for walk_step in steps:
        handed = ("".join(f"<li>{html.escape(line)}</li>" for line in walk_step.handed)
                  or "<li>nothing: a leaf; backward() adds this gradient into its .grad</li>")
        formula = f'<p class="formula">{html.escape(walk_step.formula)}</p>' if walk_step.formula else ""
        sections.append(
            f'<section class="step" id="step-{walk_step.number}" hidden>'
            f'<div class="text"><h2>Step {walk_step.number} of {len(steps)}: {html.escape(walk_step.title)}</h2>'
            f'{formula}<p>received: {html.escape(walk_step.received)}</p><p>hands on:</p><ul>{handed}</ul></div>'
            f'<figure>{inline_svg(render_bytes(walk_step.graph, "svg"))}</figure></section>')
    return _PAGE.replace("{sections}", "\n".join(sections)).replace(
        "{milliseconds}", str(int(SECONDS_PER_STEP * 1000)))


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>backward(), step by step</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 1.5em; color: #222; }
nav { position: sticky; top: 0; background: white; padding: .6em 0; border-bottom: 1px solid #ccc; }
button { font-size: 1em; padding: .3em .9em; margin-right: .3em; }
#counter { margin-left: 1em; font-weight: bold; }
.step { display: flex; gap: 1.5em; align-items: flex-start; }
.step[hidden] { display: none; }
.text { flex: 0 0 22em; }
.formula { font-size: 1.3em; background: #fff4e0; padding: .4em .6em; border-left: 4px solid #e07000; }
figure { flex: 1; margin: .5em 0; }
figure svg { max-width: 100%; max-height: calc(100vh - 8em); width: auto; height: auto; }
.keys { color: #666; font-size: .9em; margin-left: 1em; }
</style></head>
<body>
<nav><button id="prev">&#9664; Previous</button><button id="play">&#9654; Play</button>
<button id="next">Next &#9654;</button>
<span id="counter"></span><span class="keys">keys: &larr; &rarr; space</span>
<div class="keys">orange: the node being walked, with the gradient it received &middot; blue border: a gradient
just handed to it &middot; grey: walked already &middot; plain: still waiting &middot; dashed: a constant</div></nav>
{sections}
<script>
const steps = document.querySelectorAll("section.step");
const prev = document.getElementById("prev"), next = document.getElementById("next");
const play = document.getElementById("play"), counter = document.getElementById("counter");
let current = 0, timer = null;
function show(index) {
  current = Math.max(0, Math.min(steps.length - 1, index));
  steps.forEach((section, k) => { section.hidden = k !== current; });
  counter.textContent = "Step " + (current + 1) + " of " + steps.length;
  prev.disabled = current === 0;
  next.disabled = current === steps.length - 1;
  try { history.replaceState(null, "", "#step=" + (current + 1)); } catch (error) {}
}
function stop() { clearInterval(timer); timer = null; play.innerHTML = "&#9654; Play"; }
function start() {
  if (current === steps.length - 1) show(0);
  play.innerHTML = "&#10074;&#10074; Pause";
  timer = setInterval(() => { if (current === steps.length - 1) stop(); else show(current + 1); }, {milliseconds});
}
function fromHash() { const match = /step=(\\d+)/.exec(location.hash); show(match ? Number(match[1]) - 1 : 0); }
prev.onclick = () => { stop(); show(current - 1); };
next.onclick = () => { stop(); show(current + 1); };
play.onclick = () => { if (timer) stop(); else start(); };
document.addEventListener("keydown", (event) => {
  if (event.key === "ArrowRight") { stop(); show(current + 1); }
  else if (event.key === "ArrowLeft") { stop(); show(current - 1); }
  else if (event.key === " ") { event.preventDefault(); play.onclick(); }
});
window.addEventListener("hashchange", fromHash);
fromHash();
</script>
</body></html>
"""
