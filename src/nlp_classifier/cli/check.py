"""``nlpc check``: a behavioural test suite (CheckList-style cases) run against any model."""

from __future__ import annotations

import argparse

from .common import print_json, stdout, table
from .predict import add_model_arguments, load_chosen_model


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="run the behavioural test suite against a model",
        description="Classify every case of a behavioural test suite (default: the shipped "
        "data/behaviour/cases.csv; see docs/behaviour.md) and report the pass rate per functionality "
        "and overall, and the false-positive rate per identity group on neutral and positive identity "
        "statements. Works on any model: not_hateful/hateful, Davidson binary ('Hate Speech'), "
        "davidson3 ('hate' only) and multi-label toxicity models ('identity_hate').",
    )
    add_model_arguments(p)
    p.add_argument(
        "--cases",
        help="a cases file (CSV/TSV/JSONL/Parquet) with columns functionality, text, expected "
        "(hateful | not_hateful), and optionally case_id, target_group",
    )
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--output", help="also write the JSON report (with every failed case) to this file")
    p.add_argument(
        "--show-failures", type=int, default=0, metavar="N", help="also list up to N failed cases in the table output"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..behaviour import load_cases, run_check
    from ..fileio import check_writable_file, write_json

    cases = load_cases(args.cases)  # bad files fail before the model loads
    if args.output:
        check_writable_file(args.output, "--output", {"--cases": args.cases})
    classifier = load_chosen_model(args)
    report = run_check(classifier, cases, batch_size=args.batch_size)
    if args.output:
        write_json(args.output, report)
    if args.json:
        print_json(report)
        return 0
    print_report(report, args.show_failures)
    return 0


def print_report(report: dict, show_failures: int = 0) -> None:
    """The per-functionality table (with the overall row) and the per-group false-positive table."""
    from ..behaviour.suite import FUNCTIONALITY_COLUMNS, GROUP_COLUMNS, functionality_rows, group_rows

    stdout.print(table(f"{report['model']} on {report['cases']}", FUNCTIONALITY_COLUMNS, functionality_rows(report)))
    on = ", ".join(report["group_false_positive_rates"]["functionalities"])
    stdout.print(table(f"false-positive rate per group on {on}", GROUP_COLUMNS, group_rows(report)))
    if show_failures and report["failures"]:
        shown = report["failures"][:show_failures]
        stdout.print(
            table(
                f"failed cases ({len(shown)} of {len(report['failures'])})",
                ["case_id", "expected", "predicted", "text"],
                [[f["case_id"], f["expected"], f["predicted"], f["text"]] for f in shown],
            )
        )
