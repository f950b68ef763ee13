"""``nlpc predict``: classify texts given as arguments, or every row of a file."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from .common import print_json, stdout, table

DEFAULT_MODEL_HELP = (
    "$NLPC_DEFAULT_MODEL, else the model `nlpc serve` answers with: minilm_hate, else "
    "logistic_regression_hate_char, else the best binary Davidson model"
)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and --backend, shared by every command that loads a model."""
    parser.add_argument("--model", help=f"registry name or path (default: {DEFAULT_MODEL_HELP})")
    parser.add_argument("--backend", help="implementation where a family has several (e.g. torch, onnx, onnx-int8)")


def load_chosen_model(args: argparse.Namespace):
    """The Classifier named by --model/--backend, or the default model (``defaults.default_model_name``)."""
    from .. import load
    from ..defaults import default_model_name

    model = args.model or default_model_name(args.models_dir)
    if model is None:
        raise ConfigError("no model in the registry: train the default ones with `nlpc prepare`, or pass --model")
    return load(model, backend=args.backend, models_dir=args.models_dir)


def register(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="classify texts or a file",
        description="Classify texts given as arguments, or every row of --input into --output "
        "(one score column per label, the flagged labels and the predicted label).",
    )
    p.add_argument("texts", nargs="*", help="texts to classify")
    add_model_arguments(p)
    p.add_argument("--input", help="CSV/TSV/JSONL/Parquet file to score")
    p.add_argument("--output", help="where to write the scored file (format from its suffix)")
    p.add_argument("--text-column", default="text", help="text column of --input (default: text)")
    p.add_argument("--threshold", type=float, help="decision threshold for every label (default: the card's)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.input) != bool(args.output):
        raise ConfigError("--input and --output go together")
    if not args.texts and not args.input:
        raise ConfigError("give texts to classify, or --input FILE --output FILE")
    if args.texts and args.input:
        raise ConfigError("give either texts or --input, not both")
    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    classifier = load_chosen_model(args)
    if args.input:
        from ..batch import score_file

        scored = score_file(classifier, args.input, args.output, args.text_column, args.threshold, args.batch_size)
        stdout.print(f"scored {scored:,} rows with {classifier.name} -> {args.output}")
        return 0
    predictions = classifier.predict(args.texts, threshold=args.threshold)
    if args.json:
        print_json([{"text": t, **p.to_dict()} for t, p in zip(args.texts, predictions)])
        return 0
    rows = [
        [t if len(t) <= 60 else t[:57] + "...", p.label or "-", p.confidence, ", ".join(p.flagged) or "-"]
        for t, p in zip(args.texts, predictions)
    ]
    stdout.print(table(f"{classifier.name} ({classifier.card.task})", ["text", "label", "confidence", "flagged"], rows))
    return 0
