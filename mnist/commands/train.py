"""Train a network on MNIST (or any MNIST-format dataset), then evaluate it on the test set.

The run's folder gets the checkpoint (written after every epoch, so a stopped run continues
with --resume exactly where it stopped), the per-epoch history as JSON and CSV, the test metrics
and the plots: learning curves, confusion matrix, the most confident mistakes.
"""
import argparse
import sys
from dataclasses import fields
from pathlib import Path

from mnist.commands import arguments
from mnist.errors import TrainingDiverged, UsageError
from mnist.models.mlp import ACTIVATIONS
from mnist.models.registry import KINDS
from mnist.output_folder import claim_output_folder
from mnist.report.diagnostic_plots import PICTURE_NAMES, save_diagnostic_plots
from mnist.report.diagnostics import DIAGNOSTICS_NAME
from mnist.report.history import HISTORY_NAMES
from mnist.report.plots import LEARNING_CURVES, plot_learning_curves
from mnist.report.summary import REPORT_NAMES, evaluate_and_report
from mnist.training.config import OPTIMIZERS, SCHEDULES, SettingError, TrainConfig, run_config
from mnist.training.stopping import Interrupted
from mnist.training.trainer import CHECKPOINT_NAME, Trainer, prepare_data, read_run_config

DEFAULTS = TrainConfig()


def _words(value) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def _default(setting: str, extra: str = "") -> str:
    """'(default: 128; cnn: 64)': TrainConfig's default and every model kind's own, if it has one."""
    own = [f"{name}: {_words(kind.recipe[setting])}" for name, kind in KINDS.items() if setting in kind.recipe]
    return f"(default: {'; '.join([_words(getattr(DEFAULTS, setting)), *own, *([extra] if extra else [])])})"


DEFAULT_OUT = Path("runs/default")
OUTPUT_NAMES = (CHECKPOINT_NAME, *HISTORY_NAMES, *REPORT_NAMES, DIAGNOSTICS_NAME, *PICTURE_NAMES)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a network and evaluate it on the test set", description=__doc__,
        formatter_class=arguments.HelpFormatter)
    parser.add_argument("--out", type=arguments.output_folder, default=None, metavar="FOLDER",
                        help="folder for checkpoint.npz, history.json/csv, metrics.json and the PNG plots "
                             f"(default: the folder of the --resume checkpoint, else {DEFAULT_OUT})")
    parser.add_argument("--resume", type=arguments.existing_file, metavar="CHECKPOINT",
                        help="continue a saved run with its own settings (--epochs may extend it)")
    parser.add_argument("--seed", type=arguments.setting("seed"), default=DEFAULTS.seed,
                        help="seeds the initial weights, the validation split, the batch order and dropout")
    model = parser.add_argument_group("model")
    model.add_argument("--model", choices=tuple(KINDS), default=DEFAULTS.model,
                       help="kind of network: " + "; ".join(f"{name}: {kind.description}"
                                                           for name, kind in KINDS.items()))
    model.add_argument("--layers", type=arguments.positive_int, nargs="+", action=arguments.LayerSizes,
                       dest="layer_sizes", default=DEFAULTS.layer_sizes, metavar="N",
                       help="MLP layer sizes: 784 pixels first, 10 classes last")
    model.add_argument("--activation", choices=sorted(ACTIVATIONS), default=DEFAULTS.activation,
                       help="MLP hidden-layer activation")
    model.add_argument("--dropout", type=arguments.setting("dropout"), default=None, metavar="P",
                       help="dropout probability after each hidden activation (the MLP's, the CNN's hidden "
                            "layer) " + _default("dropout"))
    model.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None,
                       help="CNN: batch norm after each convolution " + _default("batch_norm"))
    opt = parser.add_argument_group("optimization")
    opt.add_argument("--epochs", type=arguments.setting("epochs"), default=None, metavar="N",
                     help="passes over the training set " + _default("epochs", "--resume: the run's own"))
    opt.add_argument("--batch-size", type=arguments.setting("batch_size"), default=None, metavar="N",
                     help="training images per step " + _default("batch_size"))
    opt.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                     help="sgd (with --momentum), adam, or adamw (decoupled weight decay) " + _default("optimizer"))
    opt.add_argument("--lr", type=arguments.setting("lr"), default=None,
                     help="peak learning rate " + _default("lr"))
    opt.add_argument("--momentum", type=arguments.setting("momentum"), default=DEFAULTS.momentum,
                     help="fraction of the previous update carried into the next (SGD only)")
    opt.add_argument("--nesterov", action="store_true", default=None,
                     help="Nesterov momentum (SGD only) " + _default("nesterov"))
    opt.add_argument("--weight-decay", type=arguments.setting("weight_decay"), default=None,
                     metavar="L2", help="L2 penalty on the weights (adamw: decoupled) " + _default("weight_decay"))
    opt.add_argument("--schedule", choices=SCHEDULES, default=None,
                     help="learning-rate schedule over the steps of the run " + _default("schedule"))
    opt.add_argument("--warmup-epochs", type=arguments.setting("warmup_epochs"), default=None, metavar="E",
                     help="linear warm-up from 0 to --lr over this many epochs (fractions allowed) "
                          + _default("warmup_epochs"))
    opt.add_argument("--step-size", type=arguments.setting("step_size"), default=DEFAULTS.step_size, metavar="E",
                     help="epochs between decays (step schedule)")
    opt.add_argument("--gamma", type=arguments.setting("gamma"), default=DEFAULTS.gamma,
                     help="factor the rate is multiplied by at each decay (step schedule)")
    data = parser.add_argument_group("data")
    data.add_argument("--data-dir", type=arguments.existing_folder, default=None, metavar="FOLDER",
                      help="folder with the four MNIST-format IDX files, e.g. /usr/share/datasets/fashion-mnist "
                           "(default: the MNIST shipped with the program, checked against its SHA-256)")
    data.add_argument("--validation-size", type=arguments.setting("validation_size"),
                      default=DEFAULTS.validation_size, metavar="N",
                      help="training images held out to measure validation loss and accuracy each epoch")
    data.add_argument("--standardize", action="store_true", default=None,
                      help="subtract the training images' mean pixel value and divide by their standard deviation "
                           + _default("standardize"))
    data.add_argument("--shift", type=arguments.setting("shift"), default=None, metavar="PIXELS",
                      help="move each training image by up to this many pixels along each axis, drawn anew every "
                           "epoch (data augmentation) " + _default("shift"))
    data.add_argument("--train-limit", type=arguments.setting("train_limit"), default=None, metavar="N",
                      help="train on the first N training images only, for quick runs (default: all)")
    data.add_argument("--test-limit", type=arguments.setting("test_limit"), default=None, metavar="N",
                      help="evaluate on the first N test images only (default: all)")
    parser.add_argument("--diagnostics", action=argparse.BooleanOptionalAction, default=True,
                        help="record per-layer gradient norms, update ratios, dead units and activations every "
                             "epoch into diagnostics.json and draw them; under 1%% of the training time, so on "
                             "unless --no-diagnostics says otherwise (which --resume must repeat)")
    parser.set_defaults(func=run)


def config_from_args(args) -> TrainConfig:
    """The options given, the model's recipe for those of its settings not given (None), then the
    defaults."""
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    values = {name: value for name, value in values.items() if value is not None}
    values["epochs"] = args.epochs or run_config(model=args.model).epochs
    # resolved, so `evaluate` and `--resume` find the same folder from anywhere
    values["data_dir"] = str(args.data_dir.resolve()) if args.data_dir else None
    return run_config(**values)


def _checked(config: TrainConfig) -> TrainConfig:
    """The settings argparse cannot check one by one (those that must agree with another)."""
    try:
        config.check()
    except SettingError as error:
        raise UsageError(f"argument {_flag(error.setting)}: {error.problem}") from None
    return config


def _check_model_options(config: TrainConfig) -> None:
    """Options that shape another kind of model than the one asked for are a mistake, not a no-op."""
    own = set(KINDS[config.model].options)
    for name in sorted({option for kind in KINDS.values() for option in kind.options} - own):
        if getattr(config, name) != getattr(DEFAULTS, name):
            raise UsageError(f"argument {_flag(name)}: shapes another model than --model {config.model}")


def _flag(setting: str) -> str:
    return "--layers" if setting == "layer_sizes" else "--" + setting.replace("_", "-")


def _settings_given(args) -> list:
    """Run settings on the command line that differ from the defaults (epochs aside)."""
    given, defaults = config_from_args(args).to_dict(), run_config(model=args.model).to_dict()
    return [name for name in given if name != "epochs" and given[name] != defaults[name]]


def run(args) -> int:
    if args.resume:
        config = read_run_config(args.resume)
        config.epochs = args.epochs or config.epochs
        ignored = _settings_given(args)
        if ignored:
            print(f"note: --resume continues with the checkpoint's settings; ignoring "
                  f"{', '.join(_flag(name) for name in ignored)}", file=sys.stderr)
    else:
        config = config_from_args(args)
        _check_model_options(config)
    _checked(config)
    out = args.out or (args.resume.parent if args.resume else DEFAULT_OUT)
    with claim_output_folder(out, OUTPUT_NAMES):
        data = prepare_data(config)
        trainer = Trainer(config, data, out, diagnostics=args.diagnostics)
        if args.resume:
            trainer.restore(args.resume)
        try:
            history = trainer.run()
            print(f"trained {config.epochs} epoch{'s' if config.epochs != 1 else ''} in "
                  f"{trainer.progress.train_seconds:.1f} s; "
                  f"checkpoint {trainer.checkpoint_path}")
            evaluate_and_report(trainer.model, data.test_x, data.test_y, data.test_images, data.class_names,
                                out, history)
            _plot_diagnostics(trainer)
        except Interrupted as stop:  # the trainer saved before raising; so did every epoch before the report
            return _stopped(trainer, stop)
        except TrainingDiverged:
            if trainer.progress.history:
                plot_learning_curves(trainer.progress.history, out / LEARNING_CURVES)
            _plot_diagnostics(trainer)
            raise
    return 0


def _plot_diagnostics(trainer: Trainer) -> None:
    """The diagnostics pictures of the epochs done so far, when --diagnostics recorded any."""
    if trainer.diagnostics is not None and trainer.diagnostics.epochs:
        paths = save_diagnostic_plots(trainer.out_dir, trainer.diagnostics.to_dict(), trainer.model)
        print(f"wrote {trainer.out_dir / DIAGNOSTICS_NAME} and {', '.join(path.name for path in paths)}")


def _stopped(trainer: Trainer, stop: Interrupted) -> int:
    """The end of a stopped run: the learning curves (and diagnostics) of the epochs done, or why
    there are none, and how to go on. A second signal is ignored (mnist.training.stopping), so this runs to its end."""
    lines = []
    if trainer.progress.history:
        plot_learning_curves(trainer.progress.history, trainer.out_dir / LEARNING_CURVES)
        _plot_diagnostics(trainer)
    else:
        lines.append("no learning curves: no epoch has finished yet")
    checkpoint = trainer.last_good  # saved on the way to the stop; the resumed one when none was
    lines.append(f"{stop}; saved {checkpoint}, continue with --resume {checkpoint}")
    print("\n" + "\n".join(lines), file=sys.stderr)
    return stop.exit_code
