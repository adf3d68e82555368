"""What a picture shows, as plain data: names, nodes (tensors, ops, whole modules) and edges.

A tensor computed by an op is two nodes, the op `opN` and its result `tN`, so the picture
alternates tensors and ops the way the math does. Nothing here knows about Graphviz.
"""
from typing import Optional

from tinygrad_np.tensor import Tensor
from tinygrad_np.viz.recording import callers, given_to, made_within, maker, returned_by


class ModuleTree:
    """What the model tells about names: the dotted path of each parameter, buffer, other Tensor
    attribute and sub-module, the module holding each tensor attribute, and each sub-module's parent.

    `roots` are the models (usually one); without any, every map is empty.
    """

    def __init__(self, roots=()):
        self.tensor_names, self.buffer_names, self.holders, self.module_names, self.parents = {}, {}, {}, {}, {}
        for root in roots:
            by_name = dict(root.named_modules())
            for name, sub in by_name.items():
                self.module_names.setdefault(id(sub), name)
                if name:
                    self.parents.setdefault(id(sub), by_name[name.rpartition(".")[0]])
                for attribute, value in vars(sub).items():
                    if isinstance(value, Tensor):  # a Parameter, or a Tensor kept as is (a constant)
                        self.tensor_names.setdefault(id(value), f"{name}.{attribute}" if name else attribute)
                        self.holders.setdefault(id(value), sub)
            for name, array in root.named_buffers():  # ndarrays: a forward wraps them in new Tensors
                self.buffer_names.setdefault(id(array), name)

    @classmethod
    def of(cls, module, tensors) -> "ModuleTree":
        """The tree of `module`; without one, of the outermost modules whose recorded calls
        (record_modules()) made some of `tensors`, so a gradient graph drawn on its own
        (`draw_graph(w.grad)`) still names the model's weights."""
        if module is not None:
            return cls([module])
        outermost = {id(calls[-1]): calls[-1] for calls in map(callers.get, tensors) if calls}
        return cls(list(outermost.values()))

    def name_of(self, tensor) -> Optional[str]:
        """The tensor's dotted path: a tensor attribute's (`layers.0.weight`), a buffer's, whose
        values the tensor wraps (`layers.1.running_mean`), or the module's whose recorded call
        returned it (`layers.3`, as torch.fx names a module call's result). None if it has none."""
        base = tensor.data.base  # a buffer reshaped inside forward is a view of it
        name = (self.tensor_names.get(id(tensor)) or self.buffer_names.get(id(tensor.data))
                or (self.buffer_names.get(id(base)) if base is not None else None)
                or self.module_names.get(id(returned_by.get(tensor))))
        return name or None  # a model's own result has the path ""

    def owner(self, tensor):
        """The module a tensor belongs to: its holder's, else the innermost call that made it."""
        holder = self.holders.get(id(tensor))
        return holder if holder is not None else maker(tensor)

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


class Names:
    """What a picture calls a tensor: its label in `names` ({label: tensor}), else its path in the tree."""

    def __init__(self, tree: ModuleTree, names: Optional[dict]):
        self.tree, self.given = tree, {}
        for label, tensor in (names or {}).items():
            if not isinstance(tensor, Tensor):
                raise TypeError(f"names[{label!r}] must be a Tensor, got {type(tensor).__name__}")
            self.given[id(tensor)] = label

    def __call__(self, tensor) -> Optional[str]:
        return self.given.get(id(tensor)) or self.tree.name_of(tensor)


def tensor_kind(tensor, root_ids) -> str:
    return ("output" if id(tensor) in root_ids else "intermediate" if tensor._ctx is not None
            else "leaf" if tensor.requires_grad else "constant")


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
        nodes[f"t{index}"] = (tensor_kind(tensor, root_ids), tensor, owner)
    return nodes, edges


def tensor_ids(nodes) -> set:
    """The ids of the tensors drawn as nodes of their own."""
    return {id(item) for kind, item, _ in nodes.values() if kind not in ("op", "module")}


def handed_inputs(nodes, edges, tensors, root_ids) -> list:
    """Add the `tensors` that are not in the graph but were handed to a recorded module call that
    made some of it: node `inK` and an edge into that call's first op reading a constant the call
    made (else its first op). Such a tensor reached the graph through ops that were not recorded,
    as nothing needed its gradient: flat rows that a model reshapes into images for its first
    conv. Returns the ids of the nodes added."""
    drawn = tensor_ids(nodes)
    added: list = []
    for tensor in tensors:
        module = given_to.get(tensor)
        if id(tensor) in drawn or module is None:
            continue
        ops = [(node_id, item) for node_id, (kind, item, _) in nodes.items()
               if kind == "op" and made_within(nodes[f"t{node_id[2:]}"][1], module)]
        if not ops:
            continue
        reading = [node_id for node_id, fn in ops
                   if any(made_within(source, module) and source.is_leaf for source in fn.inputs)]
        node_id = f"in{len(added)}"
        nodes[node_id] = (tensor_kind(tensor, root_ids), tensor, None)
        edges.append((node_id, (reading or [ops[0][0]])[0]))
        drawn.add(id(tensor))
        added.append(node_id)
    return added


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
