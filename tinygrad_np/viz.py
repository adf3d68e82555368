"""Pictures of the recorded graph, drawn with Graphviz: what backward() walks through.

    with viz.record_modules():                  # optional: lets the picture box each module's ops
        loss = F.cross_entropy(model(x), y)
    viz.retain_grads(loss)                      # optional: keep every tensor's gradient to show it
    loss.backward()
    picture = viz.draw_graph(loss, module=model, grads=True)   # a graphviz.Digraph
    viz.save(picture, "mlp.svg")                # .svg, .png, .pdf through `dot`; .dot needs nothing

Legend (docs/graph-legend.md shows it drawn). Tensors are boxes with their shape and dtype, ops
are grey ellipses, arrows run the way the data flows (backward walks them the other way):
- light-blue box: a leaf that requires grad (a parameter, named like `layers.0.weight`);
- dashed box, grey text: a constant (the input batch, a literal, a mask): it gets no gradient;
- plain box: an intermediate result; green box with a bold border: the output you drew from;
- yellow 3-D box: a whole module, with `collapse=True`; a dashed rounded frame: one module's nodes;
- red border and red text: the gradient holds NaN or Inf.
Each node's kind is also its `class` attribute, so SVG output can be styled or searched by kind.
"""
import contextlib
import html
import itertools
import weakref
from pathlib import Path

import graphviz
import numpy as np

from tinygrad_np.nn import module as module_lib
from tinygrad_np.tensor import Tensor

STYLES = {
    "leaf": {"shape": "box", "style": "filled", "fillcolor": "lightblue"},
    "constant": {"shape": "box", "style": "dashed", "color": "gray45", "fontcolor": "gray35"},
    "intermediate": {"shape": "box"},
    "output": {"shape": "box", "style": "filled,bold", "fillcolor": "darkolivegreen1"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "gray88"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "lightyellow", "margin": "0.15,0.1"},
}
NONFINITE_STYLE = {"color": "red", "penwidth": "2"}
CLUSTER_STYLE = {"style": "rounded,dashed", "color": "gray50", "fontcolor": "gray30"}
GRAD_COLOR = "#1f4e9c"
DIRECTIONS = ("TB", "LR")
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

# Tensor -> the innermost Module whose call produced it (filled inside record_modules()).
# Weak keys: an entry disappears with its graph.
_producers = weakref.WeakKeyDictionary()


class DotNotFoundError(RuntimeError):
    """Graphviz's `dot` program, which turns DOT text into SVG, PNG or PDF, is not installed."""


# ---- which module made which tensor ---------------------------------------------------------

@contextlib.contextmanager
def record_modules():
    """Within the block, remember which Module call produced each tensor, for clusters and collapse.

    A Module's call owns every tensor reachable backwards from its output without passing through
    its arguments (parameters stay with the module that holds them); the innermost call claims
    first, because it returns first. So `relu` lands in `layers.1`, not in the Sequential around it.
    Why a forward hook rather than guessing from parameters: ops without parameters (activations,
    the loss) could not be told apart from the layers around them. Outside the block the hook list
    is empty, so recording costs nothing then. Limitation: a tensor a forward reads from somewhere
    other than its arguments (say a cached state) counts as that module's own.
    """
    if _claim in module_lib.forward_hooks:  # nested: the outer block is already recording
        yield
        return
    module_lib.forward_hooks.append(_claim)
    try:
        yield
    finally:
        module_lib.forward_hooks.remove(_claim)


def _claim(module, args, kwargs, output) -> None:
    inputs = {id(tensor) for tensor in _tensors_in((args, kwargs))}
    stack, seen = list(_tensors_in(output)), set()
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen or id(tensor) in inputs:
            continue
        seen.add(id(tensor))
        if tensor.is_leaf and tensor.requires_grad:
            continue
        _producers.setdefault(tensor, module)
        stack.extend(tensor._parents)


def _tensors_in(value):
    """The Tensors inside nested tuples, lists and dicts (a module's arguments or output)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def retain_grads(output) -> None:
    """Keep the gradient of every intermediate tensor behind `output` at the next backward()."""
    for tensor in _graph_order(_as_roots(output)):
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()


# ---- drawing --------------------------------------------------------------------------------

def draw_graph(output, module=None, *, names=None, grads=False, values=False, max_values=16,
               clusters=True, collapse=False, direction="TB") -> graphviz.Digraph:
    """The graph that produced `output` (a Tensor, or a list of them), from the inputs down to it.

    module: names its parameters by dotted path (`layers.0.weight`) and its sub-modules' frames.
    names: {label: tensor} for other tensors worth naming, e.g. {"x": x, "loss": loss}.
    grads: add each stored gradient's shape and norm (after backward(); see retain_grads).
    values: add the values, and gradients, of tensors with at most `max_values` entries.
    clusters: frame each module's nodes (its ops need record_modules(); parameters do not).
    collapse: draw each module as one node instead, for big graphs.
    direction: "TB" (top to bottom) or "LR" (left to right).

    Gradient graphs draw the same way: after `y.backward(create_graph=True)`, `draw_graph(x.grad)`.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    roots = _as_roots(output)
    order = _graph_order(roots)
    tree = _ModuleTree(module)
    labeller = _Labeller(tree, names, grads, values, max_values)
    nodes, edges = _nodes_and_edges(order, {id(root) for root in roots}, tree)
    if collapse:
        nodes, edges = _collapse(nodes, edges)
    graph = graphviz.Digraph(
        graph_attr={"rankdir": direction, "fontname": "Helvetica", "fontsize": "11",
                    "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.12,0.04", "height": "0.3"},
        edge_attr={"arrowsize": "0.7", "color": "gray30"})
    _add_nodes(graph, nodes, tree, labeller, clusters)
    for tail, head in edges:
        graph.edge(tail, head, **_edge_style(nodes[tail], nodes[head], clusters))
    return graph


def _edge_style(tail, head, clusters) -> dict:
    # A heavy edge keeps the data's main path straight while parameters join it from the side.
    # An edge into another module's frame spans two ranks: that leaves room for the frame's
    # parameters above its first op, so frames stack instead of stepping sideways.
    style = {"weight": "1" if tail[0] == "leaf" else "4"}
    if clusters and tail[2] is not head[2]:
        style["minlen"] = "2"
    return style


def _as_roots(output) -> list:
    roots = [output] if isinstance(output, Tensor) else list(output)
    if not roots or not all(isinstance(root, Tensor) for root in roots):
        raise TypeError(f"draw_graph needs a Tensor or a list of Tensors, got {output!r:.60}")
    return roots


def _graph_order(roots) -> list:
    """Every tensor behind the roots, constants included, each after its inputs.

    Like autograd.topological_order, iterative (no recursion limit), but it keeps the constants
    that backward() skips and visits inputs in argument order, so `a @ b` draws a left of b.
    """
    order, seen = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
        elif id(tensor) not in seen:
            seen.add(id(tensor))
            stack.append((tensor, True))
            stack.extend((parent, False) for parent in reversed(tensor._parents) if id(parent) not in seen)
    return order


class _ModuleTree:
    """What `module` tells about names: dotted names of its parameters and sub-modules, the module
    holding each parameter, and each sub-module's parent. Without a module all are empty."""

    def __init__(self, module):
        self.parameter_names, self.holders, self.module_names, self.parents = {}, {}, {}, {}
        if module is None:
            return
        by_name = dict(module.named_modules())
        for name, sub in by_name.items():
            self.module_names.setdefault(id(sub), name)
            if name:
                self.parents.setdefault(id(sub), by_name[name.rpartition(".")[0]])
        for name, parameter in module.named_parameters():
            self.parameter_names.setdefault(id(parameter), name)
            self.holders.setdefault(id(parameter), by_name[name.rpartition(".")[0]])

    def owner(self, tensor):
        """The module a tensor belongs to: a parameter's holder, else the call that produced it."""
        holder = self.holders.get(id(tensor))
        return holder if holder is not None else _producers.get(tensor)

    def framed_ancestor(self, module, framed):
        """The nearest module above `module` that has a frame of its own, or None."""
        module = self.parents.get(id(module))
        while module is not None and id(module) not in framed:
            module = self.parents.get(id(module))
        return module

    def title(self, module) -> str:
        name = self.module_names.get(id(module))
        kind = type(module).__name__
        return f"{name}: {kind}" if name else kind


def _nodes_and_edges(order, root_ids, tree):
    """Node id -> (kind, tensor or Function, owning module or None), and (tail, head) edges.

    A tensor computed by an op is two nodes, the op `opN` and its result `tN`, so the picture
    alternates tensors and ops the way the math does. N is the position in `order`.
    """
    position = {id(tensor): index for index, tensor in enumerate(order)}
    nodes, edges = {}, []
    for index, tensor in enumerate(order):
        owner = tree.owner(tensor)
        if tensor._ctx is not None:
            nodes[f"op{index}"] = ("op", tensor._ctx, owner)
            edges.extend((f"t{position[id(parent)]}", f"op{index}") for parent in tensor._parents)
            edges.append((f"op{index}", f"t{index}"))
        kind = ("output" if id(tensor) in root_ids else "intermediate" if tensor._ctx is not None
                else "leaf" if tensor.requires_grad else "constant")
        nodes[f"t{index}"] = (kind, tensor, owner)
    return nodes, edges


class _ModuleNode:
    """A module drawn as one node: what it computed inside, and the tensors it hands on."""

    def __init__(self, module):
        self.module, self.inside, self.handed_out = module, [], []


def _collapse(nodes, edges):
    """Merge each module's nodes into one node `mK` of kind "module" (the output stays apart)."""
    merged, collapsed, by_module = {}, {}, {}
    for node_id, (kind, item, owner) in nodes.items():
        if owner is None or kind == "output":
            collapsed[node_id] = (kind, item, None)
            continue
        if id(owner) not in by_module:
            by_module[id(owner)] = f"m{len(by_module)}"
            collapsed[by_module[id(owner)]] = ("module", _ModuleNode(owner), None)
        merged[node_id] = by_module[id(owner)]
        collapsed[merged[node_id]][1].inside.append((kind, item))
    kept, seen = [], set()
    for tail, head in edges:
        edge = (merged.get(tail, tail), merged.get(head, head))
        if edge[0] == edge[1]:
            continue  # inside one module
        if tail in merged and nodes[tail][0] != "op":
            handed_out = collapsed[edge[0]][1].handed_out
            if all(tensor is not nodes[tail][1] for tensor in handed_out):
                handed_out.append(nodes[tail][1])
        if edge not in seen or edge == (tail, head):  # merging makes repeats; a * a keeps its two
            seen.add(edge)
            kept.append(edge)
    return collapsed, kept


def _add_nodes(graph, nodes, tree, labeller, clusters) -> None:
    """Declare the nodes, each module's inside a frame nested in its nearest framed parent's."""
    framed = {}
    if clusters:
        framed = {id(owner): owner for _, _, owner in nodes.values() if owner is not None}
    contents, subframes = {}, {}
    for frame_id, module in framed.items():
        parent = tree.framed_ancestor(module, framed)
        subframes.setdefault(None if parent is None else id(parent), []).append(frame_id)
    for node_id, (_, _, owner) in nodes.items():
        contents.setdefault(id(owner) if id(owner) in framed else None, []).append(node_id)
    frame_numbers = itertools.count()

    def fill(target, key):
        for node_id in contents.get(key, ()):
            kind, item, _ = nodes[node_id]
            target.node(node_id, **labeller.attributes(kind, item))
        for frame_id in subframes.get(key, ()):
            with target.subgraph(name=f"cluster_{next(frame_numbers)}") as frame:
                frame.attr(label=tree.title(framed[frame_id]), labeljust="l", **CLUSTER_STYLE)
                fill(frame, frame_id)

    fill(graph, None)


class _Labeller:
    """HTML-like labels and styles: bold name, shape and dtype, then values and gradients."""

    def __init__(self, tree, names, grads, values, max_values):
        self.tree, self.grads, self.values, self.max_values = tree, grads, values, max_values
        self.names = dict(tree.parameter_names)
        for name, tensor in (names or {}).items():
            if not isinstance(tensor, Tensor):
                raise TypeError(f"names[{name!r}] must be a Tensor, got {type(tensor).__name__}")
            self.names[id(tensor)] = name

    def attributes(self, kind, item) -> dict:
        if kind == "op":
            lines, alarm = [html.escape(item.describe())], False
        elif kind == "module":
            lines, alarm = self._module_lines(item)
        else:
            name = self.names.get(id(item))
            lines, alarm = self._tensor_lines(item, heading=f"<B>{html.escape(name)}</B>" if name else None)
        attributes = {"label": f"<{'<BR/>'.join(lines)}>", "class": kind, **STYLES[kind]}
        if kind != "leaf":
            attributes["group"] = "data"  # dot keeps a group's edges straight where it can
        if alarm:
            attributes.update(NONFINITE_STYLE)
        return attributes

    def _tensor_lines(self, tensor, heading=None, prefix=""):
        """(label lines, whether the gradient holds NaN or Inf)."""
        lines = [heading] if heading else []
        lines.append(html.escape(f"{prefix}{_shape_text(tensor.shape)} {tensor.dtype}"))
        small = self.values and tensor.size <= self.max_values
        if small:
            lines.append(_array_text(tensor.data))
        alarm = False
        if self.grads and tensor.grad is not None:
            grad = tensor.grad.data
            summary, alarm = _grad_summary(grad)
            colour = NONFINITE_STYLE["color"] if alarm else GRAD_COLOR
            lines.append(f'<FONT COLOR="{colour}">{html.escape(summary)}</FONT>')
            if small:
                lines.append(f'<FONT COLOR="{colour}">grad {_array_text(grad)}</FONT>')
        return lines, alarm

    def _module_lines(self, node):
        lines = [f"<B>{html.escape(self.tree.title(node.module))}</B>"]
        ops = [item.describe() for kind, item in node.inside if kind == "op"]
        if ops:
            lines.append(f'<FONT COLOR="gray30">{html.escape(", ".join(ops))}</FONT>')
        alarm = False
        entries = [(item, self.names.get(id(item), "leaf").rpartition(".")[2] + " ")
                   for kind, item in node.inside if kind == "leaf"]
        for tensor, prefix in entries + [(tensor, "out ") for tensor in node.handed_out]:
            tensor_lines, tensor_alarm = self._tensor_lines(tensor, prefix=prefix)
            lines += tensor_lines
            alarm = alarm or tensor_alarm
        return lines, alarm


def _shape_text(shape) -> str:
    return str(shape) if shape else "scalar"


def _array_text(array) -> str:
    text = np.array2string(array, precision=4, separator=", ", max_line_width=48)
    return "= " + "<BR/>".join(html.escape(line) for line in text.splitlines())


def _grad_summary(grad):
    """('grad (3, 2) norm 0.125', False), or ('grad (3, 2) has 1 NaN, 2 Inf', True)."""
    problems = [f"{count} {what}" for count, what in
                ((np.isnan(grad).sum(), "NaN"), (np.isinf(grad).sum(), "Inf")) if count]
    if problems:
        return f"grad {_shape_text(grad.shape)} has {', '.join(problems)}", True
    if grad.ndim == 0:
        return f"grad = {grad.item():.4g}", False
    norm = np.sqrt(np.sum(np.square(grad, dtype=np.float64)))
    return f"grad {grad.shape} norm {norm:.3g}", False


# ---- rendering ------------------------------------------------------------------------------

INSTALL_HINT = ("Graphviz's `dot` program is not installed, and it is needed for {format} pictures. "
                "Install Graphviz: `apt-get install graphviz` (Debian, Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`. "
                "The DOT text needs nothing: save to a .dot file, or read `graph.source`.")


def render_bytes(graph: graphviz.Digraph, format: str) -> bytes:
    """The picture as "svg", "png" or "pdf" (through `dot`), or as "dot" text (no install needed)."""
    if format not in FORMATS.values():
        raise ValueError(f"format must be one of {sorted(set(FORMATS.values()))}, got {format!r}")
    if format == "dot":
        return graph.source.encode()
    try:
        return graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise DotNotFoundError(INSTALL_HINT.format(format=format.upper())) from None


def format_of(path) -> str:
    """The picture format a file name asks for: mlp.svg -> "svg"; .dot and .gv give DOT text."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: name the file .svg, .png, .pdf or .dot to choose the format")
    return FORMATS[suffix]


def save(graph: graphviz.Digraph, path) -> Path:
    """Write the picture, in the format the file name's suffix names."""
    path = Path(path)
    path.write_bytes(render_bytes(graph, format_of(path)))
    return path
