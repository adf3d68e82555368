"""`python -m mnist graph`: draw one training step of a network, from the input batch to the loss.

The batch is the first --batch-size MNIST test images (for an MLP, when its layers run from 784
pixels to 10 classes; other sizes get seeded random inputs in [0, 1) and random labels below the
last size). A graph of more than 16 ops (the CNN's) is drawn with each module as one node unless
--no-collapse says otherwise: tinygrad_np.viz.draw_graph's default. Formats: .svg, .png and .pdf
need Graphviz's `dot`; .dot (DOT text) needs nothing.

With --walk, draw instead the walk backward() takes through that graph, one picture per step:
--out walk.html (a page with buttons, arrow keys and play), walk.gif, or a folder name without a
suffix (one PNG per step).
"""
import argparse
from pathlib import Path

import numpy as np

from mnist.atomic import atomic_write, make_folder
from mnist.commands import arguments
from mnist.data.dataset import IMAGE_SHAPE, NUM_CLASSES, load_dataset, to_features
from mnist.errors import MnistError, UsageError
from mnist.models.mlp import ACTIVATIONS, DEFAULT_LAYER_SIZES, MAX_PARAMETERS, MLP
from mnist.models.registry import DEFAULT_CNN, KINDS, build_model
from tinygrad_np import Tensor, nn, viz
from tinygrad_np.nn.functional import cross_entropy
from tinygrad_np.viz.walk import walk_format

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
MAX_CNN_BATCH = 64


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("graph", help="draw the computation graph of one training step",
                                   description=__doc__, formatter_class=arguments.HelpFormatter)
    parser.add_argument("--out", type=_out_path, required=True,
                        help="picture to write: .svg, .png, .pdf or .dot; with --walk .html, .gif or a folder")
    parser.add_argument("--walk", action="store_true",
                        help="draw backward()'s walk step by step (the gradient and rule at each node)")
    parser.add_argument("--model", choices=tuple(KINDS), default="mlp",
                        help="kind of network (cnn: the default CNN of train --model cnn)")
    parser.add_argument("--layers", type=arguments.positive_int, nargs="+", action=_AnySizes,
                        dest="layer_sizes", default=DEFAULT_LAYER_SIZES, metavar="N",
                        help="MLP layer sizes, input first, classes last (any sizes: see above for the batch)")
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu",
                        help="hidden-layer activation")
    parser.add_argument("--dropout", type=arguments.setting("dropout"), default=0.0,
                        help="dropout after each activation, drawn as a mask")
    parser.add_argument("--batch-size", type=arguments.positive_int, default=4,
                        help="images in the drawn batch")
    parser.add_argument("--grads", action="store_true",
                        help="run backward() and show every tensor's gradient shape and norm")
    parser.add_argument("--collapse", action=argparse.BooleanOptionalAction, default=None,
                        help=f"draw each layer as a single node (default: when the graph has more than "
                             f"{viz.MAX_EXPANDED_OPS} ops)")
    parser.add_argument("--direction", choices=viz.DIRECTIONS, default="TB",
                        help="TB: top to bottom, LR: left to right")
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0,
                        help="seeds the weights and any random batch")
    parser.set_defaults(func=run)


def _out_path(text: str) -> Path:
    """A picture or walk to write (whether it suits --walk is checked with the other arguments);
    an existing folder is fine for --walk's PNGs."""
    try:
        viz.format_of(text)
    except ValueError as error:
        try:
            walk_format(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{error} (with --walk: .html, .gif, or a folder name "
                                             "without a suffix)") from None
    return Path(text) if Path(text).is_dir() else arguments.output_file(text)


def _check_out(args) -> None:
    """The --out name must ask for a format the chosen picture comes in."""
    try:
        walk_format(args.out) if args.walk else viz.format_of(args.out)
    except ValueError as error:
        raise UsageError(f"argument --out: {error}") from None


class _AnySizes(arguments.LayerSizes):
    """Unlike `train`, any input size and class count will do (within the model's bounds)."""
    mnist_ends = False


def run(args) -> int:
    _check_out(args)
    model: nn.Module
    if args.model == "mlp":
        values = args.batch_size * sum(args.layer_sizes)
        if values > MAX_PARAMETERS:  # the batch's activations, bounded as the parameters are
            raise UsageError(f"argument --batch-size: {args.batch_size} examples through layers of "
                             f"{sum(args.layer_sizes):,} units make {values:,} values, more than the "
                             f"{MAX_PARAMETERS:,} allowed")
        model = MLP(args.layer_sizes, activation=args.activation, dropout=args.dropout, seed=args.seed)
        x, labels = _batch(args.layer_sizes, args.batch_size, args.seed)
    else:
        if args.batch_size > MAX_CNN_BATCH:  # the first convolution's output alone is 18,432 values per image
            raise UsageError(f"argument --batch-size: at most {MAX_CNN_BATCH} images for the CNN's picture")
        model = build_model({"kind": args.model, "settings": DEFAULT_CNN}, seed=args.seed)
        dataset = load_dataset()
        x = Tensor(to_features(dataset.test_images[:args.batch_size]))
        labels = dataset.test_labels[:args.batch_size].astype(np.intp)
    with viz.record_modules():
        loss = cross_entropy(model(x), labels)
    if args.walk:
        return _write_walk(loss, model, x, args.out)
    if args.grads:
        viz.retain_grads(loss)
        loss.backward()
    picture = viz.draw_graph(loss, model, names={"x (input batch)": x, "loss": loss}, grads=args.grads,
                             collapse=args.collapse, direction=args.direction)
    try:
        content = viz.render_bytes(picture, viz.format_of(args.out))
    except viz.DotNotFoundError as error:
        raise MnistError(str(error)) from None
    make_folder(args.out.parent)
    with atomic_write(args.out) as file:
        file.write(content)
    print(f"wrote {args.out}")
    return 0


def _write_walk(loss, model, x, out: Path) -> int:
    steps = viz.backward_steps(loss, model, names={"x (input batch)": x, "loss": loss})
    try:
        viz.save_walk(steps, out)
    except viz.DotNotFoundError as error:
        raise MnistError(str(error)) from None
    except OSError as error:
        raise MnistError(f"{out}: cannot write the walk: {error.strerror}") from None
    print(f"wrote {out} ({len(steps)} steps)")
    return 0


def _batch(layer_sizes, batch_size, seed):
    """(inputs, labels): real test images when the sizes fit MNIST, else seeded random ones. Rows
    of pixels either way, so the picture starts at the input the first Linear layer takes."""
    if layer_sizes[0] == PIXELS and layer_sizes[-1] == NUM_CLASSES:
        dataset = load_dataset()
        images = to_features(dataset.test_images[:batch_size])
        return Tensor(images.reshape(len(images), PIXELS)), dataset.test_labels[:batch_size].astype(np.intp)
    rng = np.random.default_rng(seed)
    return (Tensor(rng.random((batch_size, layer_sizes[0]), dtype=np.float32)),
            rng.integers(0, layer_sizes[-1], size=batch_size))
