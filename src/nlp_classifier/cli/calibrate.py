"""``nlpc calibrate``: calibrate a model's probabilities and/or pick its thresholds for a target precision or
recall (or the best F1), on its validation split or half of a user's labelled file; prints ECE and Brier score
before and after on the test split (or the file's other half)."""

from __future__ import annotations

import argparse

from ..calibration import ece_name
from ..calibrators import METHODS
from ..errors import ConfigError
from ..tasks import MULTI_LABEL
from .common import add_bump_argument, add_data_arguments, check_version_file, print_json, split_list, stdout, table


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="calibrate a model's scores and pick its thresholds for a target precision or recall",
        description="Fit a calibrator (temperature scaling or isotonic regression) on the validation split of "
        "the model's own data and store it in the model (pinned in its card; every backend applies it), and/or "
        "set the thresholds that reach --target-precision or --target-recall on validation. The model is saved as "
        "its next version. Prints the expected calibration error (ECE, 15 equal-width bins: of the positive "
        "class for binary models, top-label for multi-class ones, mean per label for multi-label ones) and the "
        "Brier score before and after on the test split, and what the thresholds give there. With --data "
        "(labelled posts from where the model will serve, in the model's labels) a seeded, stratified half of the "
        "file takes the validation split's place and the other half the test split's; the card's figures on the "
        "model's own splits are re-measured at the new scores and thresholds.",
    )
    p.add_argument("--model", required=True, help="registry name or path")
    p.add_argument("--method", choices=METHODS, help="calibration method (default: temperature)")
    p.add_argument(
        "--thresholds-only",
        action="store_true",
        help="fit no calibrator: pick the thresholds for the target on the model's scores as they are",
    )
    p.add_argument("--target-precision", type=float, metavar="P", help="smallest threshold reaching precision P")
    p.add_argument("--target-recall", type=float, metavar="R", help="largest threshold reaching recall R")
    p.add_argument(
        "--best-f1", action="store_true", help="the thresholds maximising F1 (as training picks them on validation)"
    )
    add_data_arguments(p)
    add_bump_argument(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..model_calibration import calibrate_model

    check_version_file(args)
    if args.thresholds_only and args.method:
        raise ConfigError(f"--thresholds-only fits no calibrator: leave out --method {args.method}")
    no_target = args.target_precision is None and args.target_recall is None and not args.best_f1
    if args.thresholds_only and no_target:
        raise ConfigError(
            "--thresholds-only picks thresholds: add --target-precision P, --target-recall R or --best-f1"
        )
    result = calibrate_model(
        args.model,
        models_dir=args.models_dir,
        method=None if args.thresholds_only else args.method or "temperature",
        target_precision=args.target_precision,
        target_recall=args.target_recall,
        best_f1=args.best_f1,
        data=calibration_data(args) if args.data else None,
        bump=args.bump,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    card = result.card
    if result.calibrator is not None and card.calibration:
        stdout.print(f"{card.name}: {result.calibrator.summary()}, fitted on {result.calibrator.fitted_on['data']}")
    before, after = result.test["before"], result.test["after"]
    rows = [
        [ece_name(card.problem_type, len(card.labels)), before["ece"], after["ece"]],
        *([["top-label ECE", before["ece_top_label"], after["ece_top_label"]]] if "ece_top_label" in before else []),
        ["Brier score", before["brier"], after["brier"]],
        ["ROC-AUC" if card.problem_type != MULTI_LABEL else "mean ROC-AUC", before["roc_auc"], after["roc_auc"]],
        ["macro-F1", before["f1_macro"], after["f1_macro"]],
    ]
    stdout.print(table(f"{result.measured_on} (n={before['n']:,})", ["metric", "before", "after"], rows))
    moved = [[lab, result.thresholds_before[lab], t] for lab, t in (card.thresholds or {}).items()]
    if result.operating_point is None:
        stdout.print(table("thresholds (decisions kept)", ["label", "before", "after"], moved))
    else:
        point = result.operating_point
        goal = "best F1" if point["target"] == "max" else f"target {point['metric']} {point['target']:g}"
        fitted = "validation" if result.measured_on == "test split" else "fit half"
        stdout.print(
            table(
                f"operating point: {goal} on {fitted}, result on {result.measured_on}",
                ["label", "threshold", f"{fitted} {point['metric']}", "precision", "recall", "F1", "flag rate"],
                [
                    [lab, v["threshold"], point["validation"][lab][point["metric"]]]
                    + [v[k] for k in ("precision", "recall", "f1", "flag_rate")]
                    for lab, v in point["test"].items()
                ],
            )
        )
    stdout.print(f"saved {card.name} version {card.version} (was {card.previous_version}): {card.path}")
    return 0


def calibration_data(args: argparse.Namespace):
    """The user's --data file, read with the model's labels (single-label: label names in a column; multi-label:
    one 0/1 column per label)."""
    from ..data.model_data import load_for_labels
    from ..registry import resolve

    card = resolve(args.model, args.models_dir)
    return load_for_labels(
        args.data,
        card.labels,
        card.problem_type,
        text_column=args.text_column,
        label_columns=split_list(args.label_columns),
        label_names=split_list(args.labels),
    )
