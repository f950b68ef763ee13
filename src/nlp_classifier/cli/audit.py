"""``nlpc audit``: the identity-bias audit (per-identity subgroup, BPSN and BNSP AUC, false-positive rates and
Jigsaw's final bias score) of any model."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from .common import fmt, print_json, stdout, table
from .predict import add_model_arguments, load_chosen_model


def register(sub) -> None:
    p = sub.add_parser(
        "audit",
        help="identity-bias audit of a model (subgroup/BPSN/BNSP AUC, false positives per identity)",
        description="Fill the audit's neutral, positive and hateful templates (default: the shipped "
        "data/audit/templates.yaml) with every identity term (data/audit/identity_terms.yaml), score them with a "
        "model and report per identity: subgroup, BPSN and BNSP AUC (Borkan et al. 2019), the false-positive rate "
        "on its neutral and positive sentences at the model's own thresholds, and the final bias score "
        "(Jigsaw: 0.25 * overall AUC + 0.25 * each power mean, p = -5, of the three AUCs over identities). "
        "Worst identities first. See docs/evaluation.md.",
    )
    add_model_arguments(p)
    p.add_argument("--terms", help="identity-terms YAML file (default: data/audit/identity_terms.yaml)")
    p.add_argument("--templates", help="templates YAML file (default: data/audit/templates.yaml)")
    p.add_argument(
        "--label",
        help="the harmful label to score (default: the model's only harmful label, else its one '*hate*' label: "
        "hateful, Hate Speech, davidson3 'hate', Jigsaw 'identity_hate')",
    )
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--json", action="store_true", help="print the audit as JSON")
    p.add_argument("--output", help="also write the JSON audit to this file")
    p.add_argument("--chart", help="also draw the per-identity chart into this PNG file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..audit import draw_chart, load_templates, load_terms, run_audit
    from ..audit.terms import default_templates_path, default_terms_path
    from ..fileio import check_writable_file, write_json

    if args.chart and not str(args.chart).lower().endswith(".png"):
        raise ConfigError(f"--chart writes a PNG: give a file name ending in .png, got '{args.chart}'")
    for option, path in (("--output", args.output), ("--chart", args.chart)):
        if path:
            check_writable_file(path, option, {"--terms": args.terms, "--templates": args.templates})
    terms_file = str(args.terms or default_terms_path())
    templates_file = str(args.templates or default_templates_path())
    terms = load_terms(terms_file)  # bad files fail before the model loads
    templates = load_templates(templates_file)
    if len(terms) < 2:
        raise ConfigError(
            f"{terms_file}: the audit needs at least two identity terms (each is compared with the others)"
        )
    classifier = load_chosen_model(args)
    result = run_audit(
        classifier,
        terms,
        templates,
        label=args.label,
        batch_size=args.batch_size,
        terms_file=terms_file,
        templates_file=templates_file,
    )
    if args.output:
        write_json(args.output, result.to_dict())
    if args.chart:
        draw_chart(result, args.chart)
    if args.json:
        print_json(result.to_dict())
        return 0
    print_result(result)
    if args.chart:
        stdout.print(f"chart -> {args.chart}")
    return 0


def print_result(result) -> None:
    """The per-identity table (worst first) and the summary lines."""
    from ..audit.run import IDENTITY_COLUMNS, identity_rows

    stdout.print(
        table(
            f"identity-bias audit of {result.model} (score: {result.label}; {result.n_cases:,} sentences, "
            f"{len(result.identities)} identities), worst first",
            IDENTITY_COLUMNS,
            identity_rows(result),
        )
    )
    stdout.print(
        table(
            "per category (worst first)",
            ["category", "identities", "worst identity", "worst AUC", "max FPR neutral", "mean FPR neutral"],
            [
                [
                    c["category"],
                    c["identities"],
                    c["worst_identity"],
                    c["worst_auc"],
                    c["max_fpr_neutral"],
                    c["mean_fpr_neutral"],
                ]
                for c in result.categories
            ],
        )
    )
    stdout.print(
        f"overall AUC {fmt(result.overall_auc)}; power means (p = {result.power:g}): subgroup AUC "
        f"{fmt(result.power_mean_subgroup_auc)}, BPSN AUC {fmt(result.power_mean_bpsn_auc)}, BNSP AUC "
        f"{fmt(result.power_mean_bnsp_auc)}\nfinal bias score {fmt(result.final_bias_score)}; false-positive "
        f"rate on all neutral sentences {fmt(result.fpr_neutral)}, on all positive ones {fmt(result.fpr_positive)}",
        highlight=False,
    )
