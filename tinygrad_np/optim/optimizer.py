"""Optimizer: the base of SGD and Adam; holds the parameters, their buffers and the state dict."""
import numpy as np

from tinygrad_np.tensor import Tensor


class Optimizer:
    """Updates `params` in place from their `.grad`, on the raw arrays, so a step records no graph.

    Subclasses name their scalar settings in `hyperparameters` and create every per-parameter
    buffer in `__init__` (in `self.state[i]`), so `state_dict()` has the same keys before and after
    the first step and `load_state_dict()` can check them.
    """

    hyperparameters = ("lr",)

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got no parameters")
        if not all(isinstance(p, Tensor) for p in self.params):
            raise TypeError("optimizer params must be Tensors, e.g. model.parameters()")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("optimizer got the same parameter twice; it would be updated twice per step")
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.lr = lr
        self.state = [{} for _ in self.params]  # per parameter: buffer name -> ndarray or number
        self._scratch = [None] * len(self.params)  # per parameter: a work array, not part of the state

    def zero_grad(self) -> None:
        """Drop every gradient (set to None, like PyTorch's set_to_none=True)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def _work_array(self, index: int) -> np.ndarray:
        """An array like params[index], kept from step to step: a step allocates nothing."""
        data, work = self.params[index].data, self._scratch[index]
        if work is None or work.shape != data.shape or work.dtype != data.dtype:
            work = self._scratch[index] = np.empty_like(data)
        return work

    def state_dict(self) -> dict:
        """Hyperparameters by name and copies of the buffers as 'state.{param index}.{buffer}',
        all plain numbers and ndarrays (so `np.savez(path, **opt.state_dict())` works)."""
        state = {name: getattr(self, name) for name in self.hyperparameters}
        for index, buffers in enumerate(self.state):
            for name, value in buffers.items():
                state[f"state.{index}.{name}"] = value.copy() if isinstance(value, np.ndarray) else value
        return state

    def load_state_dict(self, state) -> None:
        """Restore hyperparameters and buffers; refuses missing or unexpected keys and buffers of
        another shape or dtype before changing anything. Accepts 0-d arrays for numbers (np.load)."""
        expected = self.state_dict()
        missing = [key for key in expected if key not in state]
        unexpected = [key for key in state if key not in expected]
        if missing or unexpected:
            raise KeyError(f"optimizer load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for key, current in expected.items():
            if isinstance(current, np.ndarray):
                value = np.asarray(state[key])
                if value.shape != current.shape or value.dtype != current.dtype:
                    raise ValueError(f"optimizer load_state_dict: {key} is {value.dtype}{list(value.shape)}, "
                                     f"this optimizer needs {current.dtype}{list(current.shape)}")
        for name in self.hyperparameters:
            value = np.asarray(state[name]).tolist()
            setattr(self, name, tuple(value) if isinstance(value, list) else value)
        for index, buffers in enumerate(self.state):
            for name, current in buffers.items():
                value = state[f"state.{index}.{name}"]
                if isinstance(current, np.ndarray):
                    current[...] = value
                else:
                    buffers[name] = np.asarray(value).item()

    def __repr__(self):
        settings = ", ".join(f"{name}={getattr(self, name)}" for name in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} params, {settings})"
