"""What a picture shows, as plain data: nodes (tensors, ops, whole modules) and edges.

A tensor computed by an op is two nodes, the op `opN` and its result `tN`, so the picture
alternates tensors and ops the way the math does. Nothing here knows about Graphviz.
"""
from tinygrad_np.viz.recording import producers


class ModuleTree:
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
        return holder if holder is not None else producers.get(tensor)

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


def nodes_and_edges(order, root_ids, tree):
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


def collapse(nodes, edges):
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
