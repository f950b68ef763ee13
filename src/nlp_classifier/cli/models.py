"""``nlpc models``: list the registry, show one card, verify files against their cards."""

from __future__ import annotations

import argparse
import importlib

from ..sizes import format_bytes
from .common import print_json, stdout, table

# Further ``nlpc models <verb>`` commands register from their own modules.
MODELS_VERB_MODULES: list[str] = ["models_remote", "models_reading"]


def register(sub) -> None:
    p = sub.add_parser(
        "models",
        help="list, show and verify saved models",
        description="The model registry: every model card under the models folder.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="every model with its version and test metrics")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    show = verbs.add_parser("show", help="one model's card")
    show.add_argument("name")
    show.set_defaults(func=run_show)
    verify = verbs.add_parser("verify", help="re-hash every file against its card")
    verify.add_argument("name", nargs="?", help="one model (default: all)")
    verify.set_defaults(func=run_verify)
    for module in MODELS_VERB_MODULES:
        importlib.import_module(f"{__package__}.{module}").register(verbs)


def card_summary(card) -> dict:
    """Name, family, task, version, headline test metrics, size on disk and path of one card."""
    test = card.metrics.get("test", {})
    size = sum((card.root / rel).stat().st_size for rel in card.files if (card.root / rel).is_file())
    return {
        "name": card.name,
        "family": card.family,
        "task": card.task,
        "version": card.version,
        "base_model": card.base_model,
        "accuracy": test.get("accuracy"),
        "f1_macro": test.get("f1_macro"),
        "roc_auc": test.get("roc_auc"),
        "size_bytes": size,
        "path": str(card.artifact_path),
    }


def run_list(args: argparse.Namespace) -> int:
    from ..registry import list_cards

    rows = [card_summary(c) for c in list_cards(args.models_dir)]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        stdout.print("no models yet: `nlpc train baseline` or `nlpc prepare` makes some")
        return 0
    stdout.print(
        table(
            "models",
            ["name", "family", "task", "version", "accuracy", "f1_macro", "roc_auc", "size"],
            [
                [
                    r["name"],
                    r["family"],
                    r["task"],
                    r["version"],
                    r["accuracy"],
                    r["f1_macro"],
                    r["roc_auc"],
                    format_bytes(r["size_bytes"]),
                ]
                for r in rows
            ],
        )
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from ..registry import resolve

    card = resolve(args.name, args.models_dir)
    print_json({**card.to_dict(), "card_path": str(card.path)})
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from ..registry import list_cards, resolve

    cards = [resolve(args.name, args.models_dir)] if args.name else list_cards(args.models_dir)
    failed = 0
    for card in cards:
        problems = card.verify()
        if problems:
            failed += 1
            stdout.print(f"[red]FAIL[/red] {card.name}")
            for problem in problems:
                stdout.print(f"  {problem}", highlight=False)
        else:
            stdout.print(f"[green]ok[/green]   {card.name} ({len(card.files)} files)")
    return 1 if failed else 0
