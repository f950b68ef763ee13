"""``nlpc train baseline``: fit a TF-IDF baseline on a built-in task or a labelled file."""

from __future__ import annotations

import argparse
import importlib

from .common import (
    add_bump_argument,
    add_data_arguments,
    add_extra_data_argument,
    check_version_file,
    data_options,
    stdout,
    task_choices,
    test_summary,
)

# Other model kinds register ``nlpc train <kind>`` from their own modules.
TRAIN_KIND_MODULES: list[str] = ["train_transformer", "train_average"]


def register(sub) -> None:
    train = sub.add_parser("train", help="train a model", description="Train a model.")
    kinds = train.add_subparsers(dest="kind", metavar="KIND", required=True)
    base = kinds.add_parser(
        "baseline",
        help="TF-IDF + logistic regression / linear SVM",
        description="Fit a TF-IDF baseline on the train split, evaluate on validation and "
        "test, save it under models/baselines/ with its card.",
    )
    base.add_argument(
        "--task", default="davidson", help=f"a built-in task ({task_choices()}; default davidson) or a labelled file"
    )
    base.add_argument("--algorithm", choices=["logistic_regression", "linear_svm", "both"], default="both")
    base.add_argument("--preset", default="seed", help="seed (the seed's settings) or char (word+char n-grams)")
    base.add_argument(
        "--grid",
        help="YAML file with a grid over C and penalty per algorithm (e.g. "
        "configs/baseline_grid.yaml); the best point on the validation split is kept",
    )
    base.add_argument(
        "--ray", action="store_true", help="run the grid points as tasks on a local Ray (needs the 'distributed' extra)"
    )
    base.add_argument("--name", help="registry name (default: from algorithm, task and preset)")
    add_bump_argument(base)
    add_data_arguments(base)
    add_extra_data_argument(base)
    base.set_defaults(func=run_baseline)
    for module in TRAIN_KIND_MODULES:
        importlib.import_module(f"{__package__}.{module}").register(kinds)


def run_baseline(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..training.baselines import train_baseline

    check_version_file(args)
    algorithms = ["logistic_regression", "linear_svm"] if args.algorithm == "both" else [args.algorithm]
    if args.name and len(algorithms) > 1:
        raise ConfigError("--name needs a single --algorithm")
    if args.ray and not args.grid:
        raise ConfigError("--ray runs the points of a --grid; give --grid FILE")
    for algorithm in algorithms:
        card = train_baseline(
            args.task,
            algorithm,
            args.preset,
            **data_options(args),
            extra_data=args.extra_data,
            name=args.name,
            models_dir=args.models_dir,
            grid=args.grid,
            use_ray=args.ray,
            version_part=args.bump,
        )
        stdout.print(test_summary(card))
    return 0
