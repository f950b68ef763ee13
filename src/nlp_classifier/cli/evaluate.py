"""``nlpc evaluate``: any model on the built-in test split of its task, or on a labelled file."""

from __future__ import annotations

import argparse
import importlib.util

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
        "--labels, or for a model of the hate task (which has no file format of its own), it reads any labelled "
        "file whose label values are the model's labels (columns text and label by default; multi-label: "
        "one 0/1 column per label). A file's split is its deterministic tenth: --split all uses every row.",
    )
    add_model_arguments(p)
    p.add_argument("--task", help="task whose split to use (default: the model's task)")
    p.add_argument("--split", choices=["train", "validation", "test", "all"], default="test")
    add_data_arguments(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--output", help="also write the metrics JSON to this file")
    p.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write a self-contained HTML report: metrics (per source where the task has sources), confusion "
        "matrix, ROC, precision-recall and reliability curves, threshold table, score histograms, the most "
        "confident errors explained, the behavioural suite and the identity-bias audit (see docs/evaluation.md)",
    )
    p.add_argument(
        "--compare",
        metavar="M1,M2,...",
        help="compare several models (registry names or paths, same labels) on one dataset in the report: one "
        "metrics row per model, overlaid curves, then each model's own sections; needs --report or --figures",
    )
    p.add_argument("--figures", metavar="DIR", help="also write every chart of the report as a PNG file into DIR")
    p.add_argument("--no-suite", action="store_true", help="leave the behavioural suite out of the report")
    p.add_argument("--no-audit", action="store_true", help="leave the identity-bias audit out of the report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.report or args.figures or args.compare:
        return run_report(args)
    from ..evaluation import evaluate
    from ..fileio import check_writable_file, write_json

    if args.output:
        check_writable_file(args.output, "--output", {"--data": args.data})
    classifier = load_chosen_model(args)
    dataset, part = evaluation_data(args, classifier)
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
    print_metrics(classifier.name, args.split, metrics, classifier.problem_type, classifier.labels)
    return 0


def print_metrics(name: str, split: str, metrics: dict, problem_type: str, labels: list[str]) -> None:
    stdout.print(metrics_table(name, split, metrics, problem_type))
    if metrics.get("per_source"):
        stdout.print(source_table(split, metrics, labels))


def run_report(args: argparse.Namespace) -> int:
    """--report / --figures / --compare: the models' reports on one dataset, written atomically; every output
    path and model is checked before any scoring."""
    from .. import load
    from ..evaluation import check_compatible
    from ..fileio import check_writable_file, check_writable_folder, write_json
    from ..report import build_report, write_figures, write_html

    if not (args.report or args.figures):
        raise ConfigError("--compare builds a report: add --report FILE.html and/or --figures DIR")
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError("the report's charts need matplotlib: pip install 'nlp-classifier[report]'")
    if args.report:
        check_writable_file(args.report, "--report", {"--data": args.data})
        if not str(args.report).lower().endswith((".html", ".htm")):
            raise ConfigError(f"--report writes HTML: give a file name ending in .html, got '{args.report}'")
    if args.figures:
        check_writable_folder(args.figures, "--figures")
    if args.output:
        check_writable_file(args.output, "--output", {"--data": args.data})
    if args.compare:
        if args.model:
            raise ConfigError("give every model to compare in --compare (e.g. --compare M1,M2), not --model")
        names = split_list(args.compare) or []
        if len(names) < 2:
            raise ConfigError(f"--compare needs at least two models, comma-separated; got '{args.compare}'")
        if len(set(names)) != len(names):
            raise ConfigError(f"--compare names a model twice: '{args.compare}'")
        classifiers = [
            load(name, backend=args.backend, models_dir=args.models_dir, device=args.device) for name in names
        ]
    else:
        classifiers = [load_chosen_model(args)]
    dataset, part = evaluation_data(args, classifiers[0])
    for classifier in classifiers[1:]:
        check_compatible(classifier, part)
    report = build_report(
        classifiers, part, data=dataset.source, split=args.split, suite=not args.no_suite, audit=not args.no_audit
    )
    models = [
        {"model": m.name, "backend": m.backend, "data": dataset.source, "split": args.split, "n": m.n}
        | {"metrics": m.metrics}
        for m in report.models
    ]
    payload = {"models": models} if report.comparison else models[0]
    if args.output:
        write_json(args.output, payload)
    if args.report:
        write_html(report, args.report)
    if args.figures:
        write_figures(report, args.figures)
    if args.json:
        print_json(payload)
        return 0
    for m in report.models:
        print_metrics(m.name, args.split, m.metrics, m.problem_type, m.labels)
    if args.report:
        stdout.print(f"report -> {args.report}", highlight=False)
    if args.figures:
        stdout.print(f"{len(report.figures)} figures -> {args.figures}", highlight=False)
    return 0


def evaluation_data(args: argparse.Namespace, classifier):
    """The dataset the arguments name (the model's task by default) and the chosen part of it."""
    from ..data import load_dataset, split_dataset
    from ..data.datasets import has_own_file_format
    from ..data.model_data import load_for_labels

    task = args.task or classifier.card.task
    if task not in TASKS and not args.data:
        raise ConfigError(f"model '{classifier.name}' was trained on '{task}'; pass --data FILE to evaluate it")
    columns = split_list(args.label_columns)
    # --label-column(s)/--labels describe a user's file; a file for a task without a format of its own (hate) is one
    users_file = args.data and (columns or args.labels or not has_own_file_format(task))
    if task in TASKS and not users_file:
        dataset = load_dataset(task, args.data, text_column=args.text_column, label_columns=columns)
    else:  # a user's labelled file: the model's labels fix the columns / class order
        dataset = load_for_labels(
            args.data,
            classifier.labels,
            classifier.problem_type,
            text_column=args.text_column,
            label_columns=columns,
            label_names=split_list(args.labels),
        )
    part = dataset if args.split == "all" else split_dataset(dataset).part(args.split)
    if len(part) == 0:
        raise ConfigError(
            f"the {args.split} split of {dataset.source} has no rows ({len(dataset)} in all; validation and test each "
            "take a tenth of every label's rows): pass --split all to evaluate on every row"
        )
    return dataset, part


def source_table(split: str, metrics: dict, labels: list[str]):
    """One row per source of a multi-source task, then the overall row: accuracy, macro-F1, ROC-AUC and the F1 of
    the positive (last) class, e.g. hateful."""
    from ..evaluation import per_source_rows

    columns, rows = per_source_rows(metrics, labels)
    return table(f"per source, {split} split", columns, rows)


def metrics_table(name: str, split: str, metrics: dict, problem_type: str):
    """The headline metrics, then one row per label."""
    from ..evaluation import summary_metric_names

    keys = summary_metric_names(problem_type)
    summary = table(
        f"{name} on the {split} split (n={metrics['n']:,})", ["metric", "value"], [[k, metrics.get(k)] for k in keys]
    )
    stdout.print(summary)
    per_label = metrics["per_label"]
    columns = ["label", "precision", "recall", "f1", "support"] + (["roc_auc"] if problem_type == MULTI_LABEL else [])
    return table("per label", columns, [[lab] + [v.get(c) for c in columns[1:]] for lab, v in per_label.items()])
