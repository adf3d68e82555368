"""Module: finds its parameters, buffers and sub-modules from its attributes, as torch.nn.Module does.

A module's state is what `state_dict()` holds: its Parameters (trained) and its persistent
buffers (arrays that are not trained but belong to the model, such as batch norm's running
statistics), each keyed by dotted path (`layers.0.weight`). Sub-modules kept in a list or dict
go in a `ModuleList` or `ModuleDict`: a plain list would hide them.
"""
from collections import OrderedDict
from typing import Callable, Iterator, NamedTuple, Optional

import numpy as np

from tinygrad_np.grad_mode import no_grad
from tinygrad_np.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True by default)."""
    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)


# hook(module, args, kwargs, output) runs after every Module call, as PyTorch's global forward
# hooks do; tinygrad_np.viz.record_modules uses one to box each module's ops in graph pictures.
# Empty unless someone registers one, so an ordinary call only looks at an empty list.
forward_hooks: list = []


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) could not match, as PyTorch returns it."""
    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class: assign Parameters and Modules as attributes; they are found automatically."""

    training = True

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        for hook in forward_hooks:
            hook(self, args, kwargs, output)
        return output

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, (list, tuple, dict)):
            items = value.values() if isinstance(value, dict) else value
            if any(isinstance(item, (Module, Parameter)) for item in items):
                container = "nn.ModuleDict" if isinstance(value, dict) else "nn.ModuleList"
                raise TypeError(f"{type(self).__name__}.{name}: a plain {type(value).__name__} of modules or "
                                f"parameters hides them from parameters() and state_dict(); use {container}")
        object.__setattr__(self, name, value)

    # ---- the tree ---------------------------------------------------------------------------
    def named_children(self) -> Iterator:
        return ((name, value) for name, value in vars(self).items() if isinstance(value, Module))

    def children(self) -> Iterator:
        return (child for _, child in self.named_children())

    def named_modules(self, prefix: str = "") -> Iterator:
        """(dotted name, module) for this module and every module below it, each module once."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module.named_children()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator:
        return (module for _, module in self.named_modules())

    def named_parameters(self, prefix: str = "") -> Iterator:
        """(dotted name, parameter) pairs, e.g. ('layers.0.weight', ...): a module's own in the
        order assigned, then each child's. A parameter shared by two modules comes once, under its
        first name, so an optimizer steps it once (as PyTorch's remove_duplicate does)."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield _dotted(module_name, name), value

    def parameters(self) -> list:
        return [parameter for _, parameter in self.named_parameters()]

    def apply(self, fn: Callable) -> "Module":
        """Call fn(module) on every sub-module, then on this one (for custom initialization)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- buffers ----------------------------------------------------------------------------
    def register_buffer(self, name: str, array, persistent: bool = True) -> None:
        """Keep `array` as `self.<name>`: state that is not trained (running statistics, a fixed
        mask). It is in `buffers()`, not in `parameters()`; persistent buffers are also in
        `state_dict()` and loaded by `load_state_dict()`. Reassigning `self.<name>` keeps it a
        buffer. `array` may be None (a slot not filled yet)."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: the name must be a non-empty string without '.', got {name!r}")
        if name not in self._buffer_names() and hasattr(self, name):
            raise KeyError(f"register_buffer: {type(self).__name__} already has an attribute {name!r}")
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer: {name} must be an ndarray or None, got {type(array).__name__}")
        self.__dict__.setdefault("_buffers", {})[name] = persistent
        object.__setattr__(self, name, array)

    def _buffer_names(self) -> dict:
        return self.__dict__.get("_buffers", {})

    def named_buffers(self, prefix: str = "", persistent_only: bool = False) -> Iterator:
        """(dotted name, array) for every buffer that is set, this module's first."""
        for module_name, module in self.named_modules(prefix):
            for name, persistent in module._buffer_names().items():
                array = vars(module)[name]
                if array is not None and (persistent or not persistent_only):
                    yield _dotted(module_name, name), array

    def buffers(self) -> list:
        return [array for _, array in self.named_buffers()]

    # ---- modes ------------------------------------------------------------------------------
    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze every parameter."""
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def train(self, mode: bool = True) -> "Module":
        """Switch training behaviour (dropout) on or off for this module and all below it."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter's values and every persistent buffer, keyed by dotted name."""
        return OrderedDict((name, array.copy()) for name, array in self._state_arrays().items())

    def _state_arrays(self) -> dict:
        """The arrays state_dict holds, by name (the live arrays, not copies)."""
        state = {name: parameter.data for name, parameter in self.named_parameters()}
        state.update(self.named_buffers(persistent_only=True))
        return state

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Copy values in, in place. Returns (missing_keys, unexpected_keys); with strict=True
        (the default) either is refused. A shape or dtype mismatch is always refused, and nothing
        is copied unless everything fits."""
        targets = self._state_arrays()
        missing = [name for name in targets if name not in state]
        unexpected = [name for name in state if name not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, target in targets.items():
            if name in state:
                value = np.asarray(state[name])
                if value.shape != target.shape:
                    raise ValueError(f"load_state_dict: {name} has shape {value.shape}, the model needs {target.shape}")
                if value.dtype != target.dtype:
                    raise ValueError(f"load_state_dict: {name} has dtype {value.dtype}, the model needs {target.dtype}")
        for name, target in targets.items():
            if name in state:
                target[...] = state[name]
        return IncompatibleKeys(missing, unexpected)

    # ---- description ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        children = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(children) + "\n)" if children else ")")

    def summary(self, input_shape: tuple, dtype=None) -> str:
        """A table of each layer's output shape and parameter count for an input of `input_shape`
        (one forward pass on zeros, in eval mode, recording nothing), and the totals."""
        rows = []

        def record(module, args, kwargs, output):
            if module is not self and next(module.children(), None) is None:  # layers, not containers
                rows.append((module, output.shape if isinstance(output, Tensor) else "-"))

        parameters = self.parameters()
        dtype = dtype or (parameters[0].dtype if parameters else np.float32)
        modes = [(module, module.training) for module in self.modules()]
        forward_hooks.append(record)
        try:
            with no_grad():
                self.eval()(Tensor(np.zeros(input_shape), dtype=dtype))
        finally:
            forward_hooks.remove(record)
            for module, mode in modes:
                module.training = mode
        names = {id(module): name for name, module in self.named_modules()}
        table = [("layer", "type", "output shape", "parameters")]
        table += [(names.get(id(module), "?"), type(module).__name__, str(shape),
                   f"{sum(p.size for p in module.parameters()):,}") for module, shape in rows]
        total = sum(p.size for p in parameters)
        trainable = sum(p.size for p in parameters if p.requires_grad)
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        lines = ["  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                           for i, (cell, width) in enumerate(zip(row, widths, strict=True))) for row in table]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines + [f"total parameters: {total:,} (trainable {trainable:,})"])


class ModuleList(Module):
    """A list of modules whose parameters count: children named '0', '1', ... (`blocks.0.weight`).

    Indexing, slicing, iteration, len, append, extend and insert behave as a list's."""

    def __init__(self, modules=None):
        self._set_modules(list(modules or ()))

    def _set_modules(self, modules: list) -> None:
        for name in [name for name, _ in self.named_children()]:
            delattr(self, name)
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"{type(self).__name__} holds Modules, got {type(module).__name__} at {index}")
            setattr(self, str(index), module)

    def __iter__(self) -> Iterator:
        return iter([value for value in vars(self).values() if isinstance(value, Module)])

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __getitem__(self, index):
        modules = list(self)
        if not isinstance(index, slice):
            return modules[index]
        part = object.__new__(type(self))  # a Sequential's slice is a Sequential, as in PyTorch
        part._set_modules(modules[index])
        return part

    def __setitem__(self, index: int, module: Module) -> None:
        modules = list(self)
        modules[index] = module
        self._set_modules(modules)

    def __delitem__(self, index) -> None:
        modules = list(self)
        del modules[index]
        self._set_modules(modules)

    def append(self, module: Module) -> "ModuleList":
        self._set_modules(list(self) + [module])
        return self

    def extend(self, modules) -> "ModuleList":
        self._set_modules(list(self) + list(modules))
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self)
        modules.insert(index, module)
        self._set_modules(modules)


class ModuleDict(Module):
    """Modules by name, in insertion order, whose parameters count (`heads.digits.weight`)."""

    def __init__(self, modules: Optional[dict] = None):
        self.update(modules or {})

    def __getitem__(self, key: str) -> Module:
        if key not in self:
            raise KeyError(key)
        return vars(self)[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict keys are non-empty strings without '.', got {key!r}")
        if key not in self and hasattr(self, key):
            raise KeyError(f"ModuleDict key {key!r} would hide the attribute of that name")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict holds Modules, got {type(module).__name__} for {key!r}")
        setattr(self, key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        delattr(self, key)

    def __contains__(self, key) -> bool:
        return isinstance(vars(self).get(key), Module)

    def __iter__(self) -> Iterator:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> list:
        return [name for name, _ in self.named_children()]

    def values(self) -> list:
        return list(self.children())

    def items(self) -> list:
        return list(self.named_children())

    def update(self, modules) -> None:
        for key, module in dict(modules).items():
            self[key] = module


def _dotted(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
