"""Optimizer: the base of every optimizer; holds the parameter groups, their buffers and the state dict."""
import numpy as np

from tinygrad_np.tensor import Tensor


class Optimizer:
    """Updates parameters in place from their `.grad`, on the raw arrays, so a step records no graph.

    As in PyTorch, `param_groups` is a list of dicts, each with its `params` and every setting
    (missing ones from `defaults`); a step reads the settings from the groups, so writing
    `optimizer.param_groups[0]["lr"] = 0.01` (what a scheduler does) takes effect at the next step.
    `state[p]` holds parameter p's buffers; subclasses create them in `_new_state`, called when
    p's group is added, so `state_dict()` has the same keys before and after the first step.

        SGD([{"params": model.layers[0].parameters(), "lr": 0.01}, {"params": head}], lr=0.1)
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list = []
        self.state: dict = {}  # parameter -> {buffer name: ndarray or number}
        self._work_arrays: dict = {}  # parameter -> an array like it, kept between steps (not state)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got no parameters")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own settings (the others come from `defaults`)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict with 'params', got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"parameter group without 'params': {sorted(param_group)}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError("optimizer got no parameters")
        if not all(isinstance(p, Tensor) for p in params):
            raise TypeError("optimizer params must be Tensors, e.g. model.parameters()")
        if len({id(p) for p in params}) != len(params) or any(p in self.state for p in params):
            raise ValueError("optimizer got the same parameter twice; it would be updated twice per step")
        group = {**self.defaults, **param_group, "params": params}
        if group["lr"] < 0:
            raise ValueError(f"learning rate must be >= 0, got {group['lr']}")
        self._check_group(group)
        self.param_groups.append(group)
        for p in params:
            self.state[p] = self._new_state(p, group)

    def _check_group(self, group: dict) -> None:
        """Refuse settings the update formula cannot use (subclasses)."""

    def _new_state(self, p: Tensor, group: dict) -> dict:
        """The buffers a parameter in `group` starts with (subclasses)."""
        return {}

    def zero_grad(self) -> None:
        """Drop every gradient (set to None, like PyTorch's set_to_none=True)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    @property
    def lr(self) -> float:
        """The learning rate of every group, a shorthand for one-group training loops (PyTorch has
        only `param_groups[i]["lr"]`); setting it sets every group's."""
        rates = [group["lr"] for group in self.param_groups]
        if any(rate != rates[0] for rate in rates):
            raise ValueError(f"the parameter groups have different learning rates {rates}: "
                             "read optimizer.param_groups[i]['lr']")
        return rates[0]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    def state_dict(self) -> dict:
        """Flat and plain (numbers, tuples and ndarrays, so `np.savez(path, **opt.state_dict())` works):
        copies of the buffers as 'state.{position}.{buffer}', positions counted over all groups in
        order (as PyTorch's), and the settings: by name ('lr', 'momentum', ...) when there is one
        group, else as 'param_groups.{group}.{setting}' with 'params' the group's positions."""
        state, position = {}, 0
        grouped = len(self.param_groups) > 1
        for index, group in enumerate(self.param_groups):
            prefix = f"param_groups.{index}." if grouped else ""
            for name, value in group.items():
                if name != "params":
                    state[prefix + name] = value
                elif grouped:
                    state[prefix + name] = list(range(position, position + len(value)))
            for p in group["params"]:
                for name, value in self._complete_state(p, group).items():
                    state[f"state.{position}.{name}"] = value.copy() if isinstance(value, np.ndarray) else value
                position += 1
        return state

    def _complete_state(self, p: Tensor, group: dict) -> dict:
        """p's buffers, with any that its group's settings now call for added: a setting may change
        after the group was added (OneCycleLR turns SGD's momentum on)."""
        buffers = self.state[p]
        for name, value in self._new_state(p, group).items():
            buffers.setdefault(name, value)
        return buffers

    @staticmethod
    def _gradients(group: dict, weight_decay: float = 0.0):
        """(p, g) for each parameter of `group` that has a gradient, with the L2 penalty
        weight_decay * p added to g (into a new array: p.grad's may be shared with another tensor)."""
        for p in group["params"]:
            if p.grad is not None:
                yield p, (p.grad.data + weight_decay * p.data if weight_decay else p.grad.data)

    def _work_array(self, p: Tensor) -> np.ndarray:
        """An array like p, kept from step to step: a step computes into it instead of allocating."""
        work = self._work_arrays.get(p)
        if work is None or work.shape != p.data.shape or work.dtype != p.data.dtype:
            work = self._work_arrays[p] = np.empty_like(p.data)
        return work

    def _buffer(self, p: Tensor, group: dict, name: str) -> np.ndarray:
        """p's buffer `name`, created on first use when a setting changed to call for it."""
        buffers = self.state[p]
        return buffers[name] if name in buffers else self._complete_state(p, group)[name]

    def load_state_dict(self, state: dict) -> None:
        """Restore every group's settings and every buffer (PyTorch's semantics: the saved settings
        replace the groups', the parameters stay). Refuses, before changing anything, another
        grouping of the parameters, missing or unexpected keys, and buffers of another shape or
        dtype. Accepts 0-d arrays for numbers (np.load)."""
        if "param_groups.0.params" not in state:
            state = self._as_grouped(state)
        saved_groups = [self._saved_group(state, index) for index in range(len(self.param_groups))]
        expected: set = set()  # every key the state must hold
        templates: dict = {}  # 'state.' key -> (its parameter, the value _new_state starts it with)
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            expected.update(f"param_groups.{index}.{name}" for name in (*saved, *self.defaults, "params"))
            for position, p in zip(saved.get("params", ()), group["params"], strict=False):
                for name, value in self._new_state(p, {**group, **saved}).items():
                    templates[f"state.{position}.{name}"] = p, value
        expected.update(templates)
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise KeyError(f"optimizer load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):  # present: checked with the keys
                raise ValueError(f"optimizer load_state_dict: parameter group {index} has "
                                 f"{len(group['params'])} parameters, the state has {len(saved['params'])}")
        for key, (p, template) in templates.items():
            value = np.asarray(state[key])
            fits = ((value.shape, value.dtype) == (p.data.shape, p.data.dtype) if np.ndim(template)
                    else value.ndim == 0 and value.dtype.kind in "iuf")
            if not fits:
                needed = f"{p.data.dtype}{list(p.data.shape)}" if np.ndim(template) else "a number"
                raise ValueError(f"optimizer load_state_dict: {key} is {value.dtype}{list(value.shape)}, "
                                 f"this optimizer needs {needed}")
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            params = group["params"]
            group.clear()
            group.update({name: value for name, value in saved.items() if name != "params"}, params=params)
            for p in params:
                self.state[p] = {}
        for key, (p, template) in templates.items():
            name = key.split(".", 2)[2]
            self.state[p][name] = np.array(state[key]) if np.ndim(template) else np.asarray(state[key]).item()

    @staticmethod
    def _saved_group(state: dict, index: int) -> dict:
        """Group `index`'s saved settings as Python values (np.load gives 0-d arrays for numbers and
        arrays for tuples), with 'params' its parameters' positions."""
        prefix = f"param_groups.{index}."
        return {key[len(prefix):]: _plain(value) for key, value in state.items() if key.startswith(prefix)}

    def _as_grouped(self, state: dict) -> dict:
        """A one-group state (settings by name) in the form of several groups' (one group of every parameter)."""
        converted = {(key if key.startswith("state.") or key not in self.defaults else f"param_groups.0.{key}"): value
                     for key, value in state.items()}
        converted["param_groups.0.params"] = list(range(sum(len(group["params"]) for group in self.param_groups)))
        return converted

    def __repr__(self):
        groups = "; ".join(", ".join(f"{name}={value}" for name, value in group.items() if name != "params")
                           + f" ({len(group['params'])} params)" for group in self.param_groups)
        return f"{type(self).__name__}({groups})"


def _plain(value):
    value = np.asarray(value).tolist() if isinstance(value, (np.ndarray, np.generic)) else value
    return tuple(value) if isinstance(value, list) else value  # betas saved as an array or a JSON list
