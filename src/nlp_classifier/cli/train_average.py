"""``nlpc train average``: one transformer from the mean of several fine-tuned runs' weights (a model soup)."""

from __future__ import annotations

import argparse

from .common import add_bump_argument, check_version_file, split_list, stdout, test_summary


def register(kinds) -> None:
    p = kinds.add_parser(
        "average",
        help="average the weights of fine-tuned transformer runs (a model soup)",
        description="Average the weights of two or more transformer models fine-tuned from the same base model "
        "on the same data and settings (e.g. one preset run with different --seed values), tune the thresholds "
        "on the validation split, evaluate on the test split, and save the result as a new model whose card "
        "names its ingredients. Same size and speed as one run.",
    )
    p.add_argument("--models", required=True, help="comma-separated registry names or folders (two or more)")
    p.add_argument("--name", required=True, help="registry name of the averaged model")
    p.add_argument("--output", help="output folder (default: <models>/transformer/<name>)")
    p.add_argument(
        "--weights", help="comma-separated positive weights, one per model (default: equal), scaled to sum to 1"
    )
    p.add_argument("--num-threads", type=int, help="CPU threads for scoring validation and test (default: all)")
    add_bump_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..fileio import check_writable_folder
    from ..training.weight_average import average_models

    check_version_file(args)
    if args.output:
        check_writable_folder(args.output, "--output")

    models = split_list(args.models) or []
    weights = None
    if args.weights:
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            raise ConfigError(f"--weights must be comma-separated numbers, got '{args.weights}'") from None
    card = average_models(
        models,
        name=args.name,
        output=args.output,
        weights=weights,
        models_dir=args.models_dir,
        num_threads=args.num_threads,
        version_part=args.bump,
    )
    stdout.print(test_summary(card))
    return 0
