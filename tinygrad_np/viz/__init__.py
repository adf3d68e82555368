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
- yellow 3-D box: a whole module (graphs of more than MAX_EXPANDED_OPS ops, or `collapse=True`);
  a dashed rounded frame: one module's nodes;
- dashed arrow: a named input went into that module's call by ops that were not recorded;
- red border and red text: the gradient holds NaN or Inf.
Names: parameters, buffers and Tensor attributes by dotted path (`layers.0.weight`), a module
call's result by the module's (`layers.1`), anything else through `names=`.
Each node's kind is also its `class` attribute, so SVG output can be styled or searched by kind.

The package: `recording` (which module call made, returned or received which tensor), `graph`
(names, nodes and edges as data), `labels` (the text in each node), `render` (Graphviz: draw,
render, save).
"""
from tinygrad_np.autograd.graph import topological_order
from tinygrad_np.viz.labels import NONFINITE_STYLE, STYLES
from tinygrad_np.viz.recording import record_modules
from tinygrad_np.viz.render import (
    DIRECTIONS,
    MAX_EXPANDED_OPS,
    DotNotFoundError,
    as_roots,
    draw_graph,
    format_of,
    render_bytes,
    save,
)
from tinygrad_np.viz.walk import backward_steps, save_walk

__all__ = ["draw_graph", "save", "render_bytes", "format_of", "record_modules", "retain_grads",
           "DotNotFoundError", "STYLES", "NONFINITE_STYLE", "DIRECTIONS", "MAX_EXPANDED_OPS", "backward_steps",
           "save_walk"]


def retain_grads(output) -> None:
    """Keep the gradient of every intermediate tensor behind `output` at the next backward()."""
    for tensor in topological_order(as_roots(output)):
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()
