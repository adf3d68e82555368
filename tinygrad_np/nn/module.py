"""Module: finds its parameters and sub-modules from its attributes, as torch.nn.Module does."""
from collections import OrderedDict

import numpy as np

from tinygrad_np.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True by default)."""
    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)


# hook(module, args, kwargs, output) runs after every Module call, as PyTorch's global forward
# hooks do; tinygrad_np.viz.record_modules uses one to box each module's ops in graph pictures.
# Empty unless someone registers one, so an ordinary call only looks at an empty list.
forward_hooks = []


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

    def named_children(self):
        return ((name, value) for name, value in vars(self).items() if isinstance(value, Module))

    def named_modules(self, prefix: str = ""):
        """(dotted name, module) for this module and every module below it."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = ""):
        """(dotted name, parameter) pairs, e.g. ('layers.0.weight', ...): a module's own in the
        order assigned, then each child's. A parameter shared by two modules comes once, under its
        first name, so an optimizer steps it once (as PyTorch's remove_duplicate does)."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_name}.{name}" if module_name else name), value

    def parameters(self):
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = None

    def train(self, mode: bool = True) -> "Module":
        """Switch training behaviour (dropout) on or off for this module and all below it."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter's values, keyed by dotted name."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state) -> None:
        """Copy values in; missing or unexpected keys and shape or dtype mismatches are refused."""
        parameters = dict(self.named_parameters())
        missing = [name for name in parameters if name not in state]
        unexpected = [name for name in state if name not in parameters]
        if missing or unexpected:
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for name, parameter in parameters.items():
            value = np.asarray(state[name])
            if value.shape != parameter.shape:
                raise ValueError(f"load_state_dict: {name} has shape {value.shape}, the model needs {parameter.shape}")
            if value.dtype != parameter.dtype:
                raise ValueError(f"load_state_dict: {name} has dtype {value.dtype}, the model needs {parameter.dtype}")
        for name, parameter in parameters.items():
            parameter.data[...] = state[name]

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        children = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(children) + "\n)" if children else ")")
