"""``nlpc``: the command-line entry point. Each sub-command lives in its own module with a ``register``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from rich.markup import escape

from ..errors import NlpcError
from ..progress import console
from .common import check_models_folder

# Each module registers its sub-commands with ``register(subparsers)``.
COMMAND_MODULES = [
    "train",
    "predict",
    "explain",
    "evaluate",
    "calibrate",
    "models",
    "prepare",
    "run",
    "ui",
    "serve",
    "export",
    "bench",
    "check",
    "audit",
    "db",
    "feedback",
]


def build_parser() -> argparse.ArgumentParser:
    """The full ``nlpc`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="nlpc", description="Train, evaluate, serve and compare hate-speech and toxicity classifiers."
    )
    parser.add_argument("--models-dir", help="models folder (default: $NLPC_MODELS_DIR or ./models)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``nlpc``; errors we raise on purpose print one clear line and exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # gcsfs logs a failed request's whole traceback before raising it; the error line below already names the URL
    # and the cause. (A handler set up on the root logger would still receive its records.)
    logging.getLogger("gcsfs").addHandler(logging.NullHandler())
    if args.models_dir:  # relative paths are taken from the current folder, once, for every command
        args.models_dir = str(Path(args.models_dir).resolve())
    try:
        check_models_folder(args.models_dir)
        result = args.func(args)
    except NlpcError as exc:
        # the message is text, not markup: "pip install 'nlp-classifier[distributed]'" must keep its brackets
        console.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
