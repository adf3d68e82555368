"""`python -m mnist compare`: the autograd MLP against the hand-derived reference network.

On one real MNIST batch, both networks start from identical weights; the table lists, per layer,
the largest absolute and relative difference of dZ, dW, db and dA. Then both take the same SGD
steps in lockstep and the largest parameter divergence is reported. The exit status is 1 when any
relative difference exceeds the tolerance or is not finite, so the command doubles as a check.

dZ and dA are the seed's per-example quantities (dZ^[L] = A - Y): autograd differentiates the
batch mean J, so its gradients of Z and A are multiplied by the batch size m before comparing.
"""
import argparse
import itertools

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnist.atomic import make_folder
from mnist.commands import arguments
from mnist.data.dataset import iterate_minibatches, load_dataset, one_hot, to_features
from mnist.errors import UsageError
from mnist.models.mlp import DEFAULT_LAYER_SIZES, MLP
from mnist.reference import mlp as reference
from mnist.report.plots import save_figure
from tinygrad_np import Tensor, nn
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.optim import SGD

DTYPES = {"float32": np.float32, "float64": np.float64}
QUANTITIES = ("dZ", "dW", "db", "dA_prev")


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


# ---- the autograd side, layer by layer ---------------------------------------------------


def autograd_pass(model: MLP, X, Y, input_gradient: bool = False):
    """(loss, reference.Forward, reference.Gradients) of the autograd MLP on (X, one-hot Y).

    Runs the model's modules one at a time so every Z and A is a tensor of its own whose
    gradient is retained; the result has the reference network's structure and conventions.
    """
    if model.dropout:
        raise ValueError("compare needs a model without dropout: the reference network has none")
    m = len(X)
    model.zero_grad()
    x = Tensor(X, requires_grad=input_gradient)
    Zs, As = [], [x]
    h = x
    for module in model.layers:
        h = module(h).retain_grad()
        (Zs if isinstance(module, nn.Linear) else As).append(h)
    loss = cross_entropy(Zs[-1], Y)
    loss.backward()
    probabilities = Zs[-1].detach().softmax(axis=-1).data
    forward = reference.Forward(Z=[z.data for z in Zs], A=[a.data for a in As] + [probabilities])
    input_grad = [x.grad.data * m] if input_gradient else [None]
    gradients = reference.Gradients(
        dZ=[z.grad.data * m for z in Zs],
        dW=[linear.weight.grad.data for linear in model.linear_layers()],
        db=[linear.bias.grad.data for linear in model.linear_layers()],
        dA_prev=input_grad + [a.grad.data * m for a in As[1:]])
    return loss.item(), forward, gradients


def sgd_step(model: MLP, optimizer: SGD, X, Y) -> float:
    """One autograd training step, the counterpart of reference.train_step."""
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


def gradient_rows(autograd: reference.Gradients, hand: reference.Gradients) -> list:
    """(layer, quantity, shape, max abs, max rel) for every layer and every quantity present."""
    rows = []
    for index in range(len(hand.dW)):
        for quantity in QUANTITIES:
            ours, theirs = getattr(autograd, quantity)[index], getattr(hand, quantity)[index]
            if theirs is not None:
                rows.append((index + 1, quantity, theirs.shape, *differences(ours, theirs)))
    return rows


def parameter_divergence(model: MLP, params) -> float:
    """The largest difference between an autograd parameter and the reference's, relative to the
    largest reference parameter. Not parameter by parameter: a bias whose gradient cancels to
    exactly 0 in one network can come out as 1e-19 in the other (the same terms summed in
    another order), which is rounding, not an infinite relative divergence."""
    ours, theirs = ([array.ravel() for pair in network for array in pair]
                    for network in (reference.params_from_model(model), params))
    return differences(np.concatenate(ours), np.concatenate(theirs))[1]


def lockstep(model: MLP, params, batches, activations, lr: float) -> list:
    """Train both networks on the same batches with plain SGD; the divergence after each step."""
    optimizer = SGD(model.parameters(), lr=lr)
    divergence = []
    for X, Y in batches:
        sgd_step(model, optimizer, X, Y)
        reference.train_step(params, X, Y, activations, lr)
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
                  for text, width, right in zip(row, widths, numeric)]
        lines.append("| " + " | ".join(padded) + " |")
        if number == 0:
            lines.append("|" + "|".join(("-" * (width + 1) + ":") if right else "-" * (width + 2)
                                        for width, right in zip(widths, numeric)) + "|")
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
    parser.add_argument("--layers", type=arguments.positive_int, nargs="+", dest="layer_sizes",
                        action=arguments.LayerSizes, default=DEFAULT_LAYER_SIZES, metavar="N",
                        help="layer sizes, 784 first and 10 last (default: "
                             + " ".join(map(str, DEFAULT_LAYER_SIZES)) + ")")
    parser.add_argument("--activation", nargs="+", choices=sorted(reference.ACTIVATIONS), default=["relu"],
                        metavar="NAME", help="relu or sigmoid: one name for every hidden layer, "
                                             "or one per hidden layer (default: relu)")
    parser.add_argument("--batch-size", type=arguments.positive_int, default=64,
                        help="examples per batch (default: %(default)s)")
    parser.add_argument("--steps", type=arguments.non_negative_int, default=20,
                        help="SGD steps in lockstep (default: %(default)s)")
    parser.add_argument("--lr", type=arguments.positive_float, default=0.1,
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64",
                        help="precision of both networks (default: %(default)s)")
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0,
                        help="seeds the weights and the batches (default: 0)")
    parser.add_argument("--tolerance", type=arguments.positive_float, default=None,
                        help="largest relative difference accepted; default N * eps of the dtype with "
                             "N = 2 * sum(layer sizes) + batch size, a worst-case bound on rounding "
                             "differences between two evaluations of the same formulas")
    parser.add_argument("--plot", type=arguments.output_file, metavar="PATH", default=None,
                        help="save the divergence per step as an image (.png, .svg or .pdf)")
    parser.set_defaults(func=run)


# Non-finite values are what the check reports, by layer and quantity; NumPy's warnings on the way
# there would only bury that verdict.
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def run(args) -> int:
    sizes = list(args.layer_sizes)
    activation = args.activation[0] if len(args.activation) == 1 else args.activation
    try:
        activations = reference.hidden_activations(activation, len(sizes) - 2)
    except ValueError as error:
        raise UsageError(f"argument --activation: {error}") from None
    dtype = DTYPES[args.dtype]
    tolerance = args.tolerance or rounding_tolerance(dtype, sizes, args.batch_size)

    batches = mnist_batches(load_dataset(), args.batch_size, args.seed, dtype)
    first = next(batches)
    model = MLP(sizes, activations, seed=args.seed, dtype=dtype)
    params = reference.init_params(sizes, activations, seed=args.seed, dtype=dtype)
    reference.load_into_model(params, model)

    X, Y = first
    autograd_loss, _, autograd_grads = autograd_pass(model, X, Y, input_gradient=True)
    cache = reference.forward(params, X, activations)
    hand_grads = reference.backward(params, cache, Y, activations, input_gradient=True)
    hand_loss = float(reference.cross_entropy(cache.A[-1], Y))
    rows = [("-", "J", (), *differences(autograd_loss, hand_loss))] + gradient_rows(autograd_grads, hand_grads)
    print(f"{args.dtype}, layers {sizes}, activations {activations}, batch {args.batch_size}, "
          f"tolerance {tolerance:.2e}\n")
    print(markdown_table(("layer", "quantity", "shape", "max abs diff", "max rel diff"), rows))

    steps = itertools.islice(itertools.chain([first], batches), args.steps)
    divergence = lockstep(model, params, steps, activations, args.lr)
    if divergence:
        worst_step = int(np.argmax(divergence))  # the first NaN, if there is one
        print(f"\nlockstep SGD, {args.steps} steps at lr {args.lr}: largest parameter divergence "
              f"{divergence[worst_step]:.3e} (step {worst_step + 1}), after the last step {divergence[-1]:.3e}")
        if args.plot:
            make_folder(args.plot.parent)
            plot_divergence(divergence, tolerance, args.plot)
            print(f"divergence plot: {args.plot}")
    problems = failures(rows, divergence, tolerance, nonfinite_parameters(model, params))
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
            where = "the loss J" if quantity == "J" else f"layer {layer} {quantity}"
            problems.append(f"{where}: relative difference {relative:.3e}" + _beyond(relative, tolerance))
    failed_steps = [step for step, value in enumerate(divergence, start=1) if not value <= tolerance]
    if failed_steps:
        first = failed_steps[0]
        where = f"; not finite: {', '.join(nonfinite)}" if nonfinite else ""
        problems.append(f"lockstep step {first}: parameter divergence {divergence[first - 1]:.3e}"
                        + _beyond(divergence[first - 1], tolerance) + where)
    return problems


def _beyond(value: float, tolerance: float) -> str:
    return " is not finite" if not np.isfinite(value) else f" > tolerance {tolerance:.3e}"


def nonfinite_parameters(model: MLP, params) -> list:
    """'layer 1 W (autograd)' for every weight or bias holding NaN or Inf, in either network."""
    return [f"layer {index} {name} ({network})"
            for network, pairs in (("autograd", reference.params_from_model(model)), ("reference", params))
            for index, pair in enumerate(pairs, start=1)
            for name, array in zip("Wb", pair, strict=True) if not np.isfinite(array).all()]


def mnist_batches(dataset, batch_size: int, seed: int, dtype):
    """Endless (features, one-hot labels) batches of the training images, reshuffled each epoch."""
    rng = np.random.default_rng(seed)
    while True:
        for batch in iterate_minibatches(len(dataset.train_labels), batch_size, rng):
            yield (to_features(dataset.train_images[batch], dtype=dtype),
                   one_hot(dataset.train_labels[batch], dtype=dtype))
