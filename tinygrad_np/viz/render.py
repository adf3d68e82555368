"""Drawing with Graphviz: `draw_graph` builds a `graphviz.Digraph`, `save`/`render_bytes` turn it
into SVG, PNG or PDF through Graphviz's `dot` (or DOT text, which needs nothing installed)."""
import itertools
import warnings
from pathlib import Path

import graphviz

from tinygrad_np.autograd.graph import topological_order
from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.graph import ModuleTree, Names, handed_inputs, nodes_and_edges, tensor_ids
from tinygrad_np.viz.graph import collapse as collapse_modules
from tinygrad_np.viz.labels import Labeller

CLUSTER_STYLE = {"style": "rounded,dashed", "color": "gray50", "fontcolor": "gray30"}
DIRECTIONS = ("TB", "LR")
# collapse=None draws each module as one node above this many ops. Expanded, a top-to-bottom picture
# grows about 200 px an op (at 96 dpi; left to right, 380 px): 16 ops, an 8-layer MLP's step, make
# 3,250 px, three screens, and fitted to one screen its 11 pt labels shrink below 4 pt. The default
# CNN's step has 21 ops (2,800 x 880 px expanded, 9,200 px wide left to right; collapsed 1,390 x 930);
# the 784-32-16-10 MLP's has 6 and reads well expanded.
MAX_EXPANDED_OPS = 16
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class DotNotFoundError(RuntimeError):
    """Graphviz's `dot` program, which turns DOT text into SVG, PNG or PDF, is not installed."""


class GraphPicture(graphviz.Digraph):
    """A graphviz.Digraph whose Jupyter display says how to install `dot` when it is missing,
    instead of graphviz's bare ExecutableNotFound."""

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError(INSTALL_HINT.format(format="SVG")) from None


def draw_graph(output, module=None, *, names=None, grads=False, values=False, max_values=16,
               clusters=True, collapse=None, direction="TB", restyle=None) -> graphviz.Digraph:
    """The graph that produced `output` (a Tensor, or a list of them), from the inputs down to it.

    module: names its parameters, buffers and other Tensor attributes by dotted path
    (`layers.0.weight`, `layers.1.running_mean`), the tensor each sub-module's recorded call
    returned by the sub-module's path (`layers.3`), and its sub-modules' frames. Without one, the
    outermost module whose call record_modules() recorded names them.
    names: {label: tensor} for other tensors worth naming, e.g. {"x": x, "loss": loss}; a named
    tensor the graph does not hold is drawn anyway when it was an argument of a recorded module call
    (flat rows a model reshapes into images: the reshape is not recorded), else a UserWarning says it matched no node.
    grads: add each stored gradient's shape and norm (after backward(); see retain_grads).
    values: add the values, and gradients, of tensors with at most `max_values` entries.
    clusters: frame each module's nodes (its ops need record_modules(); parameters do not).
    collapse: draw each module as one node; None (the default) does so when the graph has more than
    MAX_EXPANDED_OPS ops and record_modules() told which module made them, and says so in the picture.
    direction: "TB" (top to bottom) or "LR" (left to right).
    restyle: `restyle(kind, item, attributes) -> attributes`, called for every node (item: the
    Tensor, the Function, or the collapsed module), to mark or annotate some of them; the
    step-by-step backward pictures (tinygrad_np.viz.walk) highlight the node being walked.

    Gradient graphs draw the same way: after `y.backward(create_graph=True)`, `draw_graph(x.grad)`.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    roots = as_roots(output)
    order = topological_order(roots)
    tree = ModuleTree.of(module, order)
    namer = Names(tree, names)
    root_ids = {id(root) for root in roots}
    nodes, edges = nodes_and_edges(order, root_ids, tree)
    handed = handed_inputs(nodes, edges, (names or {}).values(), root_ids)
    _warn_unmatched(names, nodes)
    ops = sum(kind == "op" for kind, _, _ in nodes.values())
    made_by_modules = any(kind == "op" and owner is not None for kind, _, owner in nodes.values())
    auto = collapse is None and ops > MAX_EXPANDED_OPS and made_by_modules
    if collapse or auto:
        nodes, edges = collapse_modules(nodes, edges)
    graph = GraphPicture(
        graph_attr={"rankdir": direction, "fontname": "Helvetica", "fontsize": "11",
                    "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.12,0.04", "height": "0.3"},
        edge_attr={"arrowsize": "0.7", "color": "gray30"})
    if auto:  # say so, and how to undo it
        modules = sum(kind == "module" for kind, _, _ in nodes.values())
        graph.attr(label=f"collapsed by module ({ops} ops in {modules} modules): collapse=False draws every op",
                   labelloc="t", labeljust="l", fontcolor="gray30")
    frames = _add_nodes(graph, nodes, tree, Labeller(tree, namer, grads, values, max_values), clusters, restyle)
    _add_edges(graph, nodes, edges, clusters, handed, frames)
    return graph


def _add_edges(graph, nodes, edges, clusters, handed, frames) -> None:
    """Declare the edges; those from a handed input (graph.handed_inputs) are dashed and end at the
    border of the frame they go into, aimed at its first node so that the input sits above it."""
    if handed and frames:
        graph.attr(compound="true")  # lets an edge end at a frame's border (lhead)
    for tail, head in edges:
        style = _edge_style(nodes[tail], nodes[head], clusters)
        if tail in handed:
            style["style"] = "dashed"
            owner = nodes[head][2]
            if id(owner) in frames:
                style["lhead"] = frames[id(owner)]
                head = next(node_id for node_id, node in nodes.items() if node[2] is owner)
        graph.edge(tail, head, **style)


def _warn_unmatched(names, nodes) -> None:
    drawn = tensor_ids(nodes)
    unmatched = {label for label, tensor in (names or {}).items() if id(tensor) not in drawn}
    if unmatched:
        warnings.warn(f"draw_graph: names {sorted(unmatched)} match no node of the graph: a tensor is drawn "
                      "when the output was computed from it by recorded ops (ops on tensors that need no "
                      "gradient are not recorded), or when it went into a module call recorded by "
                      "viz.record_modules()", UserWarning, stacklevel=3)


def _edge_style(tail, head, clusters) -> dict:
    # A heavy edge keeps the data's main path straight while parameters join it from the side.
    # An edge into another module's frame spans two ranks: that leaves room for the frame's
    # parameters above its first op, so frames stack instead of stepping sideways.
    style = {"weight": "1" if tail[0] == "leaf" else "4"}
    if clusters and tail[2] is not head[2]:
        style["minlen"] = "2"
    return style


def as_roots(output) -> list:
    roots = [output] if isinstance(output, Tensor) else list(output)
    if not roots or not all(isinstance(root, Tensor) for root in roots):
        raise TypeError(f"draw_graph needs a Tensor or a list of Tensors, got {output!r:.60}")
    return roots


def _add_nodes(graph, nodes, tree, labeller, clusters, restyle=None) -> dict:
    """Declare the nodes, each module's inside a frame nested in its nearest framed parent's.
    Returns id(module) -> the name of its frame (`cluster_K`)."""
    framed = {}
    if clusters:
        framed = {id(owner): owner for _, _, owner in nodes.values() if owner is not None}
    contents: dict = {}
    subframes: dict = {}
    for frame_id, module in framed.items():
        parent = tree.framed_ancestor(module, framed)
        subframes.setdefault(None if parent is None else id(parent), []).append(frame_id)
    for node_id, (_, _, owner) in nodes.items():
        contents.setdefault(id(owner) if id(owner) in framed else None, []).append(node_id)
    frame_numbers, frame_names = itertools.count(), {}

    def fill(target, key):
        for node_id in contents.get(key, ()):
            kind, item, _ = nodes[node_id]
            attributes = labeller.attributes(kind, item)
            target.node(node_id, **(attributes if restyle is None else restyle(kind, item, attributes)))
        for frame_id in subframes.get(key, ()):
            frame_names[frame_id] = f"cluster_{next(frame_numbers)}"
            with target.subgraph(name=frame_names[frame_id]) as frame:
                frame.attr(label=tree.title(framed[frame_id]), labeljust="l", **CLUSTER_STYLE)
                fill(frame, frame_id)

    fill(graph, None)
    return frame_names


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
