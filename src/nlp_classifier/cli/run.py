"""``nlpc run``: the main job of `make run`; prepares the default models and classifies example texts."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("run", help="prepare the default models and show them working",
                       description="Train the default models if missing, then classify a few example texts.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import load
    from ..defaults import EXAMPLE_TEXTS
    from ..registry import list_cards
    from .common import stdout, table
    from .prepare import prepare_models

    prepare_models(args.models_dir)
    for card in list_cards(args.models_dir):
        classifier = load(card.path)
        rows = [[text, p.label or "-", p.confidence] for text, p in zip(EXAMPLE_TEXTS, classifier.predict(EXAMPLE_TEXTS))]
        stdout.print(table(f"{card.name} ({card.task})", ["text", "label", "confidence"], rows))
    return 0
