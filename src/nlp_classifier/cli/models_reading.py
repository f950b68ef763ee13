"""``nlpc models reading``: switch a model's reading of disguised words ("h4te", "d e s p i s e") on or off."""

from __future__ import annotations

import argparse

from .common import add_bump_argument, print_json, stdout, table


def register(verbs) -> None:
    p = verbs.add_parser(
        "reading",
        help="switch a model's reading of obfuscated words on or off",
        description="Make a model read disguised words back before scoring (digits and symbols for letters, "
        "spaced-out letters, stretched letters, run-together words; docs/data.md), against the lexicon "
        "installed with nlp-classifier, or score texts as written. The texts of its validation and test splits "
        "that the reading changes are scored both ways; the card gets the new metrics and the model its next "
        "version.",
    )
    p.add_argument("name", help="registry name or path")
    p.add_argument("--obfuscation", choices=["on", "off"], required=True)
    p.add_argument("--backend", help="backend to measure with (default: the model's fastest)")
    add_bump_argument(p, default="patch")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..model_reading import HEADLINE_KEYS, set_obfuscation_reading

    result = set_obfuscation_reading(
        args.name, args.obfuscation == "on", models_dir=args.models_dir, backend=args.backend, bump=args.bump
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    card = result.card
    stdout.print(
        f"{card.name}: obfuscation reading {args.obfuscation}, {card.previous_version} -> {card.version}",
        highlight=False,
    )
    rows = [
        [part, result.changed[part], *(result.before[part][k] for k in HEADLINE_KEYS)]
        + [result.after[part][k] for k in HEADLINE_KEYS]
        for part in result.changed
    ]
    if rows:
        stdout.print(
            table(
                "texts changed by the reading, and metrics before -> after",
                ["split", "changed", "accuracy", "macro-F1", "ROC-AUC", "accuracy", "macro-F1", "ROC-AUC"],
                rows,
            )
        )
    else:
        stdout.print("the model's data is not available here: nothing was measured")
    return 0
