"""``nlpc prepare``: train the default models that are missing (quick: TF-IDF baselines only)."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "prepare",
        help="train the default models if they are missing",
        description="Train the default baseline models that are not in the models folder yet.",
    )
    p.add_argument("--force", action="store_true", help="retrain even if they exist")
    p.set_defaults(func=run)


def missing_defaults(models_dir=None, force: bool = False) -> list[tuple[str, str, str]]:
    """The default (task, algorithm, preset) triples with no model in the registry."""
    from ..defaults import DEFAULT_BASELINES
    from ..registry import model_names
    from ..training.baselines import default_name

    present = set(model_names(models_dir))
    return [spec for spec in DEFAULT_BASELINES if force or default_name(spec[1], spec[0], spec[2]) not in present]


def prepare_models(models_dir=None, force: bool = False) -> list[str]:
    """Train whatever default model is missing; returns the names trained."""
    from ..training.baselines import train_baseline

    return [
        train_baseline(task, algorithm, preset, models_dir=models_dir).name
        for task, algorithm, preset in missing_defaults(models_dir, force)
    ]


def run(args: argparse.Namespace) -> int:
    from .common import stdout

    trained = prepare_models(args.models_dir, args.force)
    stdout.print(f"trained: {', '.join(trained)}" if trained else "default models are present")
    return 0
