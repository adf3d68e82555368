"""`python -m mnist compare`: the autograd MLP or CNN against the hand-derived reference network.

On one real MNIST batch, both networks start from identical weights; the table lists, per layer,
the largest absolute and relative difference of dZ, dW, db and dA. Then both take the same SGD
steps in lockstep and the largest parameter divergence is reported. The exit status is 1 when any
relative difference exceeds the tolerance or is not finite, so the command doubles as a check.

Both sides name their quantities alike (mnist.reference.network): parameter gradients by the
autograd model's parameter names, intermediates as "layers.<i>.dZ" (the output of a layer with
parameters: Conv2d, BatchNorm2d, Linear) / "layers.<i>.dA" and "dX", so the check is a diff of two
dicts, whatever the architecture. dZ and dA are the seed's scaled quantities (dZ^[L] = A - Y):
autograd differentiates the batch mean J, so its gradients of Z and A are multiplied by the batch
size m before comparing. Batch norm runs in training mode on both sides (the batch's statistics).

Kinks. Where the two forward passes, differing by rounding alone, put an entry on different sides
of a ReLU's kink (one sees 1e-9, the other -1e-9) or pick a different maximum in a max-pool window
(two entries within rounding of each other), the gradient at those entries follows a different
branch: a difference of the size of the gradient itself, not rounding. Those entries are left out
of the elementwise quantities they decide (the input gradient of that ReLU or pool, and, through
the elementwise activations before it, the layers below; through a batch norm too, whose input
gradient takes each entry's own dZ whole and the channel's sums with weight 1/M), and counted under
the table; sums over them (dW, db, a batch norm's sums, the input gradients further down) keep
them, within the tolerance. They need a ReLU input within about 1e-7 of its scale from 0, or two
window entries that close, in float32: rare without batch norm, a few per batch with it (it centres
the ReLU's inputs on 0; the default CNN's first batch at seed 0 has two ReLU inputs and one max-pool
window); none in float64 here.
"""
import argparse
import itertools
from typing import Any, cast

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnist.atomic import make_folder
from mnist.commands import arguments
from mnist.data.dataset import load_dataset, one_hot, to_features
from mnist.errors import UsageError
from mnist.models.mlp import DEFAULT_LAYER_SIZES, MLP
from mnist.models.registry import DEFAULT_CNN, KINDS, build_model
from mnist.reference import cnn, network
from mnist.reference import mlp as reference
from mnist.report.plots import save_figure
from tinygrad_np import Tensor, nn
from tinygrad_np.data import DataLoader, TensorDataset
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.nn.module import forward_hooks
from tinygrad_np.optim import SGD

DTYPES = {"float32": np.float32, "float64": np.float64}
STEPS = {"mlp": 20, "cnn": 5}  # the default --steps


def rounding_tolerance(dtype, layer_sizes, batch_size: int) -> float:
    """N eps with N = 2 sum(layer_sizes) + batch_size: the relative error two exact-arithmetic-
    equal evaluations of the network may show from rounding alone.

    Both sides evaluate the same formulas in the same dtype, so they differ only by the order
    and grouping of roundings. A dot product of n terms carries a relative error of at most
    about n u with respect to the sum of its absolute terms (u = eps/2, the unit roundoff;
    Higham, Accuracy and Stability of Numerical Algorithms, section 3.1), and errors of chained
    products add. The longest chain to any gradient runs forward through every layer (sums of
    fan_in terms, then the softmax's sum over classes), back down (sums of fan_out terms) and
    over the batch for dW and db: fewer than 2 sum(layer_sizes) + m terms. Using eps rather
    than u leaves a factor 2 for the elementwise operations (exp, sigmoid, 1/m) on the way.
    Rounding errors of real computations are random and grow like sqrt(N) u, so real
    differences sit far below this worst case; a wrong formula gives differences of order 1.
    """
    return float(2 * sum(layer_sizes) + batch_size) * float(np.finfo(dtype).eps)


# ---- the autograd side, named as the reference names it -----------------------------------


def autograd_pass(model: Any, X, Y) -> tuple[float, dict, dict]:
    """(loss, cache, grads) of the autograd model on (X, one-hot Y), with the reference network's
    names (mnist.reference.network): the output of every module in `model.layers`, its gradient
    times m, "dX" likewise, and the parameters' gradients by their names.

    A forward hook keeps each layer's output, so the model runs its own forward, whatever it is.
    `model` is one of the app's models: its layers sit in a Sequential named `layers`."""
    modules = [module for _, module in model.named_modules()]
    if any(isinstance(module, nn.Dropout) and module.training for module in modules):
        raise ValueError("compare needs dropout in eval mode (the identity): the reference network draws no masks")
    if any(isinstance(module, nn.BatchNorm2d) and not module.training for module in modules):
        raise ValueError("compare needs batch norm in training mode: the reference normalizes by the batch's "
                         "statistics")
    index_of = {id(module): index for index, (_, module) in enumerate(model.layers.named_children())}
    outputs = {}

    def keep(module, args, kwargs, output):
        if id(module) in index_of:
            kind = "Z" if module.parameters() else "A"  # a Linear's, Conv2d's or BatchNorm2d's output
            outputs[f"layers.{index_of[id(module)]}.{kind}"] = output.retain_grad()

    model.zero_grad()
    x = Tensor(X, requires_grad=True)
    forward_hooks.append(keep)
    try:
        logits = model(x)
    finally:
        forward_hooks.remove(keep)
    loss = cross_entropy(logits, Y)
    loss.backward()
    m = len(X)
    cache = {"X": X, **{key: value.data for key, value in outputs.items()},
             "probabilities": logits.detach().softmax(axis=-1).data}
    grads = {network.gradient_key(key): _gradient(value, key) * m for key, value in outputs.items()}
    grads["dX"] = _gradient(x, "X") * m
    grads.update({name: _gradient(parameter, name) for name, parameter in model.named_parameters()})
    return loss.item(), cache, grads


def _gradient(tensor: Tensor, name: str) -> np.ndarray:
    if tensor.grad is None:
        raise RuntimeError(f"backward() left no gradient for {name}")
    return tensor.grad.data


def load_parameters(model: nn.Module, params: dict) -> None:
    """Copy the reference's parameters into the autograd model, every one of them (a KeyError names
    any missing or unknown). Its buffers keep their values: batch norm's running statistics, which
    training mode, the reference's, does not read."""
    state = model.state_dict()
    buffers = {name: state[name] for name, _ in model.named_buffers() if name in state}
    model.load_state_dict({**buffers, **params})


def sgd_step(model: nn.Module, optimizer: SGD, X, Y) -> float:
    """One autograd training step, the counterpart of network.train_step."""
    optimizer.zero_grad()
    loss = cross_entropy(model(Tensor(X)), Y)
    loss.backward()
    optimizer.step()
    return loss.item()


# ---- measuring differences ---------------------------------------------------------------


def differences(actual, expected) -> tuple:
    """(max |actual - expected|, that divided by max |expected|); 0/0 counts as 0."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    absolute = float(np.max(np.abs(actual - expected), initial=0.0))
    scale = float(np.max(np.abs(expected), initial=0.0))
    return absolute, (absolute / scale if scale else (0.0 if absolute == 0 else float("inf")))


PARAMETER_LABELS = {"weight": "dW", "bias": "db"}
BATCH_NORM_LABELS = {"weight": "dgamma", "bias": "dbeta"}


def table_labels(specs) -> dict:
    """{gradient name: (layer, quantity)}: the Conv2d and Linear layers numbered from 1, as the seed
    numbers them, each with dZ, dW, db (if it has a bias) and dA_prev (the gradient of its input); a
    batch norm under its own name with dZ, dgamma and dbeta ("layers.1", "dgamma"), and dA_prev
    unless the layer before labels it; the gradient of any other layer's output under that layer's
    name ("layers.2", "dA")."""
    labels: dict[str, tuple[int | str, str]] = {}
    layer = 0
    for index, spec in enumerate(specs):
        output = network.gradient_key(network.output_key(index, specs))
        label: int | str
        if isinstance(spec, network.BatchNorm2d):
            label, names = f"layers.{index}", BATCH_NORM_LABELS
        elif spec.parameter_shapes():
            layer += 1
            label, names = layer, PARAMETER_LABELS
        else:
            if not (index + 1 < len(specs) and specs[index + 1].parameter_shapes()):
                labels[output] = (f"layers.{index}", "dA")
            continue
        labels[output] = (label, "dZ")
        labels.update({f"layers.{index}.{name}": (label, names[name]) for name in spec.parameter_shapes()})
        labels.setdefault(network.gradient_key(network.output_key(index - 1, specs)), (label, "dA_prev"))
    return labels


def gradient_rows(autograd: dict, hand: dict, specs, left_out: dict) -> list:
    """(layer, quantity, shape, max abs, max rel) for every quantity the reference computed, in the
    order of the layers, without the entries `left_out` masks; one autograd lacks is compared with
    NaN, so it fails."""
    labels = table_labels(specs)
    order = {key: number for number, key in enumerate(labels)}
    rows = []
    for key in sorted(hand, key=lambda key: (order.get(key, len(order)), key)):
        layer, quantity = labels.get(key, ("-", key))
        theirs = hand[key]
        ours = np.reshape(autograd.get(key, np.full(theirs.shape, np.nan)), theirs.shape)
        kept = ~left_out[key] if key in left_out else slice(None)
        rows.append((layer, quantity, theirs.shape, *differences(ours[kept], theirs[kept])))
    return rows


def window_winners(A_prev: np.ndarray, spec) -> list:
    """Per kernel offset, True where that entry of a max-pool window is the window's maximum (all of
    them at a tie, which share the gradient), each (N, C, H_out, W_out)."""
    windows = cnn.pool_windows(A_prev, spec.kernel_size, spec.stride)
    maxima = np.max(windows, axis=0)
    return [window == maxima for window in windows]


def kink_flips(specs, autograd_cache: dict, hand_cache: dict) -> dict:
    """{gradient name: True where that gradient's entries are decided by a kink the two forward
    passes took differently} (see the module docstring), for every gradient with such an entry."""
    flips: dict[str, np.ndarray] = {}
    for index in range(len(specs) - 1, -1, -1):
        spec, below = specs[index], network.output_key(index - 1, specs)
        if not isinstance(spec, (network.ReLU, network.Sigmoid, network.BatchNorm2d, network.MaxPool2d)):
            continue
        mine, theirs = autograd_cache[below], hand_cache[below]
        inherited = flips.get(network.gradient_key(network.output_key(index, specs)))
        if isinstance(spec, network.ReLU):
            flipped = (mine > 0) != (theirs > 0)
            flipped = flipped if inherited is None else flipped | inherited
        elif isinstance(spec, (network.Sigmoid, network.BatchNorm2d)):  # the entry's own gradient, passed on
            flipped = inherited
        elif isinstance(spec, network.MaxPool2d):
            kernel, stride = cast(cnn.Pair, spec.kernel_size), cast(cnn.Pair, spec.stride)  # pairs once built
            flipped = np.zeros(mine.shape, dtype=bool)
            winners = list(zip(window_winners(mine, spec), window_winners(theirs, spec), strict=True))
            disagree = np.any([a != b for a, b in winners], axis=0)
            out_hw = cnn.pool_output_hw(mine, kernel, stride)
            for offset, (a, b) in zip(cnn.kernel_offsets(kernel), winners, strict=True):
                rows, cols = cnn.offset_slices(offset, stride, (1, 1), out_hw)
                flipped[:, :, rows, cols] |= disagree & (a | b)
        if flipped is not None and flipped.any():
            flips[network.gradient_key(below)] = flipped
    return flips


def kinks_left_out(flips: dict) -> str:
    """The line under the table that says which entries were left out, or '' when none were."""
    if not flips:
        return ""
    parts = ", ".join(f"{int(mask.sum())} of {name}" for name, mask in flips.items())
    return f"\nleft out at kinks the two forward passes took differently: {parts}"


def parameter_divergence(model: nn.Module, params: dict) -> float:
    """The largest difference between an autograd parameter and the reference's, relative to the
    largest reference parameter. Not parameter by parameter: a bias whose gradient cancels to
    exactly 0 in one network can come out as 1e-19 in the other (the same terms summed in
    another order), which is rounding, not an infinite relative divergence."""
    named = list(model.named_parameters())
    ours = np.concatenate([parameter.data.ravel() for _, parameter in named])
    theirs = np.concatenate([params[name].ravel() for name, _ in named])
    return differences(ours, theirs)[1]


def lockstep(model: nn.Module, params: dict, specs, batches, lr: float) -> list:
    """Train both networks on the same batches with plain SGD; the divergence after each step."""
    optimizer = SGD(model.parameters(), lr=lr)
    divergence = []
    for X, Y in batches:
        sgd_step(model, optimizer, X, Y)
        network.train_step(params, specs, X, Y, lr)
        divergence.append(parameter_divergence(model, params))
    return divergence


# ---- output --------------------------------------------------------------------------------


def markdown_table(header, rows) -> str:
    """Rows as an aligned Markdown table (numbers right-aligned)."""
    cells = [list(header)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    numeric = [all(isinstance(row[column], (int, float)) for row in rows) for column in range(len(header))]
    lines = []
    for number, row in enumerate(cells):
        padded = [text.rjust(width) if right else text.ljust(width)
                  for text, width, right in zip(row, widths, numeric, strict=True)]
        lines.append("| " + " | ".join(padded) + " |")
        if number == 0:
            lines.append("|" + "|".join(("-" * (width + 1) + ":") if right else "-" * (width + 2)
                                        for width, right in zip(widths, numeric, strict=True)) + "|")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3e}"
    if isinstance(value, tuple):
        return "x".join(map(str, value)) or "scalar"
    return str(value)


def plot_divergence(divergence, tolerance: float, path) -> None:
    fig = Figure(figsize=(6, 4), layout="constrained")
    axes = fig.subplots()
    steps = np.arange(1, len(divergence) + 1)
    # Identical parameters (0) cannot sit on a log axis: show them at the axis floor.
    floor = min([value for value in divergence if value > 0] + [tolerance]) / 10
    axes.semilogy(steps, np.maximum(divergence, floor), marker="o" if len(steps) <= 50 else None,
                  markersize=3, label="autograd vs reference")
    axes.axhline(tolerance, color="tab:red", linestyle="--", label=f"tolerance {tolerance:.1e}")
    axes.set(title="Parameter divergence in lockstep training", xlabel="SGD step",
             ylabel="max relative parameter difference")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend()
    save_figure(fig, path)


# ---- the command -------------------------------------------------------------------------


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="check autograd gradients against the hand-derived reference network",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=tuple(KINDS), default="mlp",
                        help="mlp: the MLP of --layers and --activation; cnn: the default CNN of "
                             "train --model cnn (default: mlp)")
    parser.add_argument("--layers", type=arguments.positive_int, nargs="+", dest="layer_sizes",
                        action=arguments.LayerSizes, default=DEFAULT_LAYER_SIZES, metavar="N",
                        help="MLP layer sizes, 784 first and 10 last (default: "
                             + " ".join(map(str, DEFAULT_LAYER_SIZES)) + ")")
    parser.add_argument("--activation", nargs="+", choices=sorted(reference.ACTIVATIONS), default=["relu"],
                        metavar="NAME", help="MLP activations, relu or sigmoid: one name for every hidden layer, "
                                             "or one per hidden layer (default: relu)")
    parser.add_argument("--batch-size", type=arguments.positive_int, default=64,
                        help="examples per batch (default: %(default)s)")
    parser.add_argument("--steps", type=arguments.non_negative_int, default=None,
                        help=f"SGD steps in lockstep (default: {STEPS['mlp']}; cnn: {STEPS['cnn']}, as the "
                             f"reference's convolutions are slow loops)")
    parser.add_argument("--lr", type=arguments.positive_float, default=0.1,
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64",
                        help="precision of both networks (default: %(default)s)")
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0,
                        help="seeds the weights and the batches (default: 0)")
    parser.add_argument("--tolerance", type=arguments.positive_float, default=None,
                        help="largest relative difference accepted; default N * eps of the dtype, a "
                             "worst-case bound on rounding differences between two evaluations of the same "
                             "formulas, with N the number of terms summed on the longest chain to a gradient "
                             "(the MLP: 2 * sum(layer sizes) + batch size)")
    parser.add_argument("--plot", type=arguments.output_file, metavar="PATH", default=None,
                        help="save the divergence per step as an image (.png, .svg or .pdf)")
    parser.set_defaults(func=run)


# Non-finite values are what the check reports, by layer and quantity; NumPy's warnings on the way
# there would only bury that verdict.
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def run(args) -> int:
    dtype = DTYPES[args.dtype]
    model: nn.Module
    if args.model == "mlp":
        sizes = list(args.layer_sizes)
        activation = args.activation[0] if len(args.activation) == 1 else args.activation
        try:
            activations = reference.hidden_activations(activation, len(sizes) - 2)
        except ValueError as error:
            raise UsageError(f"argument --activation: {error}") from None
        specs = network.dense_layers(sizes, activations)
        model = MLP(sizes, activations, seed=args.seed, dtype=dtype)
        tolerance = args.tolerance or rounding_tolerance(dtype, sizes, args.batch_size)
        heading = f"layers {sizes}, activations {activations}"
    else:
        for option, value, default in (("--layers", tuple(args.layer_sizes), DEFAULT_LAYER_SIZES),
                                       ("--activation", args.activation, ["relu"])):
            if value != default:
                raise UsageError(f"argument {option}: shapes the MLP, not --model {args.model}")
        specs = KINDS[args.model].reference_layers(DEFAULT_CNN)
        model = build_model({"kind": args.model, "settings": DEFAULT_CNN}, seed=args.seed, dtype=dtype)
        for module in model.modules():  # dropout as the identity, as the reference has it; batch norm still trains
            if isinstance(module, nn.Dropout):
                module.eval()
        tolerance = args.tolerance or network.rounding_tolerance(dtype, specs, (args.batch_size, 1, 28, 28))
        heading = f"the default CNN ({KINDS[args.model].description})"

    batches = mnist_batches(load_dataset(), args.batch_size, args.seed, dtype, rows=args.model == "mlp")
    first = next(batches)
    params = network.init_params(specs, seed=args.seed, dtype=dtype)
    load_parameters(model, params)

    X, Y = first
    autograd_loss, autograd_cache, autograd_grads = autograd_pass(model, X, Y)
    hand_loss, cache = network.forward(params, specs, X, Y)
    hand_grads = network.backward(params, specs, cache, Y, input_gradient=True)
    flips = kink_flips(specs, autograd_cache, cache)
    rows = [("-", "J", (), *differences(autograd_loss, hand_loss))] + \
        gradient_rows(autograd_grads, hand_grads, specs, flips)
    print(f"{args.dtype}, {heading}, batch {args.batch_size}, tolerance {tolerance:.2e}\n")
    print(markdown_table(("layer", "quantity", "shape", "max abs diff", "max rel diff"), rows))
    if flips:
        print(kinks_left_out(flips))

    steps = args.steps if args.steps is not None else STEPS[args.model]
    batches = itertools.islice(itertools.chain([first], batches), steps)
    divergence = lockstep(model, params, specs, batches, args.lr)
    if divergence:
        worst_step = int(np.argmax(divergence))  # the first NaN, if there is one
        print(f"\nlockstep SGD, {steps} steps at lr {args.lr}: largest parameter divergence "
              f"{divergence[worst_step]:.3e} (step {worst_step + 1}), after the last step {divergence[-1]:.3e}")
        if args.plot:
            make_folder(args.plot.parent)
            plot_divergence(divergence, tolerance, args.plot)
            print(f"divergence plot: {args.plot}")
    problems = failures(rows, divergence, tolerance, nonfinite_parameters(model, params, specs))
    for problem in problems:
        print(f"\nFAIL: {problem}")
    if not problems:
        print(f"\nOK: largest relative difference {max([row[-1] for row in rows] + divergence):.3e}, "
              f"tolerance {tolerance:.3e}")
    return 1 if problems else 0


def failures(rows, divergence, tolerance: float, nonfinite: list) -> list:
    """One line per check that failed: a difference beyond the tolerance, or one that is not
    finite (NaN compares false with anything, so `not difference <= tolerance` catches it)."""
    problems = []
    for layer, quantity, _, _, relative in rows:
        if not relative <= tolerance:
            where = "the loss J" if quantity == "J" else describe(layer, quantity)
            problems.append(f"{where}: relative difference {relative:.3e}" + _beyond(relative, tolerance))
    failed_steps = [step for step, value in enumerate(divergence, start=1) if not value <= tolerance]
    if failed_steps:
        first = failed_steps[0]
        where = f"; not finite: {', '.join(nonfinite)}" if nonfinite else ""
        problems.append(f"lockstep step {first}: parameter divergence {divergence[first - 1]:.3e}"
                        + _beyond(divergence[first - 1], tolerance) + where)
    return problems


def describe(layer, quantity: str) -> str:
    """'layer 1 dW' for a numbered layer, 'layers.1 dgamma' for one named by its module."""
    return f"layer {layer} {quantity}".replace("layer layers.", "layers.")


def _beyond(value: float, tolerance: float) -> str:
    return " is not finite" if not np.isfinite(value) else f" > tolerance {tolerance:.3e}"


def nonfinite_parameters(model: nn.Module, params: dict, specs) -> list:
    """'layer 1 W (autograd)', 'layers.1 gamma (reference)' for every parameter holding NaN or Inf,
    in either network."""
    labels = table_labels(specs)
    autograd = {name: parameter.data for name, parameter in model.named_parameters()}
    return [f"{describe(labels[name][0], labels[name][1][1:])} ({side})"
            for side, arrays in (("autograd", autograd), ("reference", params))
            for name, array in arrays.items() if not np.isfinite(array).all()]


def mnist_batches(dataset, batch_size: int, seed: int, dtype, rows: bool = False):
    """Endless (images, one-hot labels) batches of the training images, reshuffled each epoch;
    the images as rows of pixels with `rows`, for a network whose first layer is a Linear."""
    loader = DataLoader(TensorDataset(dataset.train_labels), batch_size, shuffle=True, generator=seed)
    while True:
        for batch in loader.batch_indices():  # a fresh order each pass, drawn from the one seeded generator
            images = to_features(dataset.train_images[batch], dtype=dtype)
            yield (images.reshape(len(images), -1) if rows else images,
                   one_hot(dataset.train_labels[batch], dtype=dtype))
