"""The text inside each node: HTML-like labels with shape, dtype, values and gradients."""
import html

import numpy as np

STYLES = {
    "leaf": {"shape": "box", "style": "filled", "fillcolor": "lightblue"},
    "constant": {"shape": "box", "style": "dashed", "color": "gray45", "fontcolor": "gray35"},
    "intermediate": {"shape": "box"},
    "output": {"shape": "box", "style": "filled,bold", "fillcolor": "darkolivegreen1"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "gray88"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "lightyellow", "margin": "0.15,0.1"},
}
NONFINITE_STYLE = {"color": "red", "penwidth": "2"}
GRAD_COLOR = "#1f4e9c"


class Labeller:
    """HTML-like labels and styles: bold name, shape and dtype, then values and gradients."""

    def __init__(self, tree, names, grads, values, max_values):
        """names: a graph.Names, what each tensor is called."""
        self.tree, self.names, self.grads, self.values, self.max_values = tree, names, grads, values, max_values

    def attributes(self, kind, item) -> dict:
        if kind == "op":
            lines, alarm = [html.escape(item.describe())], False
        elif kind == "module":
            lines, alarm = self._module_lines(item)
        else:
            name = self.names(item)
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
        entries = [(item, (self.names(item) or "leaf").rpartition(".")[2] + " ")
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
