"""``nlpc evaluate``: any model on the built-in test split of its task, or on a labelled file."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from ..tasks import MULTI_LABEL, TASKS
from .common import add_data_arguments, print_json, split_list, stdout, table
from .predict import add_model_arguments, load_chosen_model


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a model on a test split or labelled file",
        description="Evaluate a model on its task's fixed test split (or --split), or on a "
        "labelled --data file; prints a table, and JSON with --json or --output. --data alone reads a "
        "file in the task's own format (e.g. the full Kaggle train.csv); with --label-column(s) or "
        "--labels it reads any labelled file whose label values are the model's labels (multi-label: "
        "one 0/1 column per label).",
    )
    add_model_arguments(p)
    p.add_argument("--task", help="task whose split to use (default: the model's task)")
    p.add_argument("--split", choices=["train", "validation", "test", "all"], default="test")
    add_data_arguments(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--output", help="also write the metrics JSON to this file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data import load_dataset, split_dataset
    from ..evaluation import evaluate
    from ..fileio import write_json

    classifier = load_chosen_model(args)
    task = args.task or classifier.card.task
    if task not in TASKS and not args.data:
        raise ConfigError(f"model '{classifier.name}' was trained on '{task}'; pass --data FILE to evaluate it")
    columns = split_list(args.label_columns)
    own_format = not (args.data and (columns or args.labels))  # --label-column(s)/--labels describe a user's file
    if task in TASKS and own_format:
        dataset = load_dataset(task, args.data, text_column=args.text_column, label_columns=columns)
    else:  # a user's labelled file: the model's labels fix the columns / class order
        multi = classifier.problem_type == MULTI_LABEL
        dataset = load_dataset(
            args.data,
            text_column=args.text_column,
            label_columns=columns or (classifier.labels if multi else None),
            labels=None if multi else (split_list(args.labels) or classifier.labels),
        )
    part = dataset if args.split == "all" else split_dataset(dataset).part(args.split)
    metrics = evaluate(classifier, part)
    payload = {
        "model": classifier.name,
        "backend": classifier.backend,
        "data": dataset.source,
        "split": args.split,
        "n": len(part),
        "metrics": metrics,
    }
    if args.output:
        write_json(args.output, payload)
    if args.json:
        print_json(payload)
        return 0
    stdout.print(metrics_table(classifier.name, args.split, metrics, classifier.problem_type))
    if metrics.get("per_source"):
        stdout.print(source_table(args.split, metrics, classifier.labels))
    return 0


def source_table(split: str, metrics: dict, labels: list[str]):
    """One row per source of a multi-source task, then the overall row: accuracy, macro-F1, ROC-AUC and the F1 of
    the positive (last) class, e.g. hateful."""
    positive = labels[-1]
    rows = [
        [name, m["n"], m["accuracy"], m["f1_macro"], m["roc_auc"], m["per_label"][positive]["f1"]]
        for name, m in [*metrics["per_source"].items(), ("overall", metrics)]
    ]
    return table(
        f"per source, {split} split", ["source", "n", "accuracy", "macro-F1", "ROC-AUC", f"{positive} F1"], rows
    )


def metrics_table(name: str, split: str, metrics: dict, problem_type: str):
    """The headline metrics, then one row per label."""
    keys = (
        ["mean_roc_auc", "f1_micro", "f1_macro", "subset_accuracy", "hamming_loss"]
        if problem_type == MULTI_LABEL
        else ["accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "roc_auc"]
    )
    summary = table(
        f"{name} on the {split} split (n={metrics['n']:,})", ["metric", "value"], [[k, metrics.get(k)] for k in keys]
    )
    stdout.print(summary)
    per_label = metrics["per_label"]
    columns = ["label", "precision", "recall", "f1", "support"] + (["roc_auc"] if problem_type == MULTI_LABEL else [])
    return table("per label", columns, [[lab] + [v.get(c) for c in columns[1:]] for lab, v in per_label.items()])
