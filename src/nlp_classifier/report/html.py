"""The report as one self-contained HTML page: inline CSS, charts as base64 PNG data URIs, no script and no
external URL, so it opens offline. Every text that comes from data, models or files is escaped (texts are user
data)."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..audit.run import IDENTITY_COLUMNS, identity_rows
from ..behaviour.suite import FUNCTIONALITY_COLUMNS, GROUP_COLUMNS, functionality_rows, group_rows
from ..evaluation import per_source_rows, summary_metric_names
from ..explain.html import AGAINST, TOWARDS, explanation_html
from ..tasks import MULTI_LABEL
from .figures import COMPARISON, Figure, figure_name, slug
from .gather import ErrorCase, LabelErrors, ModelReport

if TYPE_CHECKING:
    from .build import Report

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 1rem 2rem 4rem; color: #222; line-height: 1.4; }
h1 { border-bottom: 2px solid #444; padding-bottom: .3rem; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2.5rem; }
h3 { margin-top: 1.8rem; }
nav ul { columns: 2; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .88rem; }
th, td { border: 1px solid #ccc; padding: .25rem .55rem; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.tuned td { background: #fff3c4; font-weight: 600; }
td.text { max-width: 760px; }
div.text { max-height: 12rem; overflow: auto; white-space: pre-wrap; word-break: break-word; }
figure { margin: 1rem 0; }
div.row { display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
div.row > figure { flex: 1 1 480px; max-width: 560px; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .85rem; color: #555; }
p.note { color: #555; font-size: .9rem; }
.legend span { padding: 0 .4rem; margin-right: .5rem; border-radius: 2px; }
"""


def esc(value: Any) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def cell(value: Any) -> str:
    """A value formatted for a table: floats to 4 decimals, ints with thousands separators, None or NaN as '-'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1%}"


class Raw(str):
    """Markup already escaped, put into a table as it is."""


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], row_classes: Sequence[str] | None = None) -> str:
    """An HTML table; cells are escaped unless ``Raw``, numbers right-aligned."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for value in row:
            if isinstance(value, Raw):
                cells.append(f"<td>{value}</td>")
            else:
                numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
                cells.append(f'<td class="num">{esc(cell(value))}</td>' if numeric else f"<td>{esc(cell(value))}</td>")
        css = f' class="{esc(row_classes[i])}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def image(figure: Figure) -> str:
    """A chart embedded as a PNG data URI, with its caption."""
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="figure-{esc(figure.name)}"><img alt="{esc(figure.title)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{esc(figure.title)} (<code>{esc(figure.name)}.png</code>)</figcaption></figure>"
    )


def row(parts: Iterable[str]) -> str:
    """Charts side by side where the page is wide enough."""
    return f'<div class="row">{"".join(parts)}</div>'


def section(anchor: str, title: str, body: str, level: int = 2) -> str:
    return f'<section id="{esc(anchor)}"><h{level}>{esc(title)}</h{level}>{body}</section>'


def explained_text(case: ErrorCase) -> str:
    """The text of an error case; with an explanation, each word coloured by its contribution as the UI colours
    it (``explain.html``: red raises the label's score, green lowers it; the strongest word is the most opaque)."""
    if case.explanation is None:
        return f'<div class="text">{esc(case.text)}</div>'
    return f'<div class="text">{explanation_html(case.explanation.to_dict())}</div>'


def metrics_section(model: ModelReport, anchor: str) -> str:
    m, cal = model.metrics, model.calibration
    rows: list[list[Any]] = [[k, m.get(k)] for k in summary_metric_names(model.problem_type)]
    rows += [[f"ECE ({cal['ece_kind']})", cal["ece"]], ["Brier score", cal["brier"]]]
    if "ece_top_label" in cal:
        rows.append(["top-label ECE", cal["ece_top_label"]])
    parts = [table(["metric", "value"], rows)]
    multi = model.problem_type == MULTI_LABEL
    columns = ["label", "precision", "recall", "f1", "support"] + (["roc_auc", "threshold"] if multi else [])
    per_label = [
        [lab] + [v.get(c) for c in columns[1:5]] + ([v.get("roc_auc"), model.thresholds[lab]] if multi else [])
        for lab, v in m["per_label"].items()
    ]
    parts.append(section(f"{anchor}-per-label", "Per label", table(columns, per_label), level=3))
    if m.get("per_source"):
        source_columns, source_rows = per_source_rows(m, model.labels)
        parts.append(section(f"{anchor}-per-source", "Per source", table(source_columns, source_rows), level=3))
    if not multi and len(model.labels) == 2:
        parts.append(
            f'<p class="note">Decision: {esc(model.labels[1])} at or over '
            f"{esc(cell(model.thresholds[model.labels[1]]))}.</p>"
        )
    return section(anchor, "Metrics", "".join(parts))


def confusion_section(model: ModelReport, anchor: str, figures: dict[str, Figure]) -> str:
    parts = [image(figures[figure_name(model.name, "confusion-matrix")])]
    for label, matrix in model.confusion.items():
        names = model.labels if not label else [f"not {label}", label]
        rows = [[f"true {names[i]}", *row] for i, row in enumerate(matrix)]
        heading = f"<h3>{esc(label)}</h3>" if label else ""
        parts.append(heading + table(["", *[f"predicted {n}" for n in names]], rows))
    return section(anchor, "Confusion matrix", "".join(parts))


def calibration_section(model: ModelReport, anchor: str, figures: dict[str, Figure]) -> str:
    cal = model.calibration
    note = (
        f'<p class="note">ECE: {esc(cal["ece_kind"])} = {esc(cell(cal["ece"]))}; Brier score '
        f"{esc(cell(cal['brier']))}.</p>"
    )
    extra = ""
    if model.problem_type == MULTI_LABEL:
        extra = table(["label", "ECE", "Brier score"], [[k, v["ece"], v["brier"]] for k, v in cal["per_label"].items()])
    return section(anchor, "Calibration", note + extra + image(figures[figure_name(model.name, "reliability")]))


def thresholds_section(model: ModelReport, anchor: str) -> str:
    if not model.threshold_tables:
        body = (
            '<p class="note">A multi-class model decides by arg-max: there is no threshold to move. The curves '
            "above show each harmful class one-vs-rest.</p>"
        )
        return section(anchor, "Thresholds", body)
    parts = [
        '<p class="note">Precision, recall, F1 and flag rate (share of texts flagged) at each threshold; the '
        "highlighted row is the model's own threshold.</p>"
    ]
    for label, rows in model.threshold_tables.items():
        body = table(
            ["threshold", "precision", "recall", "F1", "flag rate", ""],
            [
                [r.threshold, r.precision, r.recall, r.f1, percent(r.flag_rate), "model's threshold" if r.tuned else ""]
                for r in rows
            ],
            ["tuned" if r.tuned else "" for r in rows],
        )
        parts.append(section(f"{anchor}-{slug(label)}", f"{label}", body, level=3))
    return section(anchor, "Thresholds", "".join(parts))


def error_table(cases: list[ErrorCase], label: str) -> str:
    if not cases:
        return '<p class="note">None.</p>'
    return table(
        ["#", "row", f"P({label})", "text"],
        [[i, c.row, c.score, Raw(explained_text(c))] for i, c in enumerate(cases, start=1)],
    )


def errors_section(model: ModelReport, anchor: str) -> str:
    if model.explain_method:
        legend = (
            f'<p class="note legend">Words coloured by their contribution to the score ({esc(model.explain_method)}):'
            f' <span style="background: rgba{(*TOWARDS, 0.5)}">raises it</span>'
            f'<span style="background: rgba{(*AGAINST, 0.5)}">lowers it</span>(hover for the value).</p>'
        )
    else:  # no error to explain
        legend = ""
    parts = [legend, '<p class="note">"row": the text\'s position in the evaluated data, counting from 0.</p>']
    for label, errs in model.errors.items():
        parts.append(section(f"{anchor}-{slug(label)}", label, label_errors_body(errs, f"{anchor}-{slug(label)}"), 3))
    return section(anchor, "Most confident errors", "".join(parts))


def label_errors_body(errs: LabelErrors, anchor: str) -> str:
    fp = (
        f'<h4 id="{esc(anchor)}-fp">False positives: {len(errs.false_positives)} most confident of '
        f"{errs.n_false_positives:,} (highest P({esc(errs.label)}) among texts without it)</h4>"
        f"{error_table(errs.false_positives, errs.label)}"
    )
    fn = (
        f'<h4 id="{esc(anchor)}-fn">False negatives: {len(errs.false_negatives)} most confident of '
        f"{errs.n_false_negatives:,} (lowest P({esc(errs.label)}) among texts with it)</h4>"
        f"{error_table(errs.false_negatives, errs.label)}"
    )
    return fp + fn


def suite_section(model: ModelReport, anchor: str) -> str:
    if model.suite is None:
        return section(anchor, "Behavioural suite", f'<p class="note">Not run: {esc(model.suite_skipped)}</p>')
    s = model.suite
    overall = s["overall"]
    groups = s["group_false_positive_rates"]
    body = (
        f'<p class="note">{overall["passed"]:,} of {overall["n"]:,} cases passed ({esc(percent(overall["pass_rate"]))})'
        f" on <code>{esc(s['cases'])}</code> (<code>nlpc check</code>).</p>"
        + table(FUNCTIONALITY_COLUMNS, functionality_rows(s, by_expected=False))
        + f"<h3>False-positive rate per group on {esc(', '.join(groups['functionalities']))}</h3>"
        + table(GROUP_COLUMNS, group_rows(s))
    )
    return section(anchor, "Behavioural suite", body)


def audit_section(model: ModelReport, anchor: str, figures: dict[str, Figure]) -> str:
    if model.audit is None:
        return section(anchor, "Identity-bias audit", f'<p class="note">Not run: {esc(model.audit_skipped)}</p>')
    a = model.audit
    summary = (
        f'<p class="note">Score: P({esc(a.label)}); {a.n_cases:,} sentences, {len(a.identities)} identities '
        f"(<code>nlpc audit</code>). Final bias score <b>{esc(cell(a.final_bias_score))}</b>; overall AUC "
        f"{esc(cell(a.overall_auc))}; power means (p = {a.power:g}): subgroup AUC "
        f"{esc(cell(a.power_mean_subgroup_auc))}, BPSN AUC {esc(cell(a.power_mean_bpsn_auc))}, BNSP AUC "
        f"{esc(cell(a.power_mean_bnsp_auc))}; false-positive "
        f"rate on neutral sentences {esc(percent(a.fpr_neutral))}, on positive ones {esc(percent(a.fpr_positive))}.</p>"
    )
    body = summary + image(figures[figure_name(model.name, "identity-audit")]) + "<h3>Worst first</h3>"
    return section(anchor, "Identity-bias audit", body + table(IDENTITY_COLUMNS, identity_rows(a)))


def model_anchor(model: ModelReport) -> str:
    return f"model-{slug(model.name)}"


def model_section(model: ModelReport, figures: dict[str, Figure]) -> str:
    a = model_anchor(model)
    parts = [
        f'<p class="note">Backend {esc(model.backend)}; {esc(model.problem_type.replace("_", "-"))}; labels '
        f"{esc(', '.join(model.labels))}.</p>",
        metrics_section(model, f"{a}-metrics"),
        confusion_section(model, f"{a}-confusion", figures),
        section(
            f"{a}-curves",
            "ROC and precision-recall curves",
            row(image(figures[figure_name(model.name, kind)]) for kind in ("roc", "precision-recall")),
        ),
        calibration_section(model, f"{a}-calibration", figures),
        thresholds_section(model, f"{a}-thresholds"),
        section(f"{a}-histograms", "Scores per class", image(figures[figure_name(model.name, "score-histogram")])),
        errors_section(model, f"{a}-errors"),
        suite_section(model, f"{a}-suite"),
        audit_section(model, f"{a}-audit", figures),
    ]
    return f'<article id="{esc(a)}"><h1>{esc(model.name)}</h1>{"".join(parts)}</article>'


def comparison_section(report: Report) -> str:
    first = report.models[0]
    keys = summary_metric_names(first.problem_type)
    columns = ["model", "backend", *keys, "ECE", "Brier score", "suite pass rate", "final bias score"]
    rows = [
        [
            m.name,
            m.backend,
            *[m.metrics.get(k) for k in keys],
            m.calibration["ece"],
            m.calibration["brier"],
            m.suite["overall"]["pass_rate"] if m.suite else None,
            m.audit.final_bias_score if m.audit is not None else None,
        ]
        for m in report.models
    ]
    figures = row(image(f) for name, f in report.figures.items() if name.startswith(f"{COMPARISON}-"))
    return section(COMPARISON, "Comparison", table(columns, rows) + figures)


def contents(report: Report) -> str:
    items = [f'<li><a href="#{COMPARISON}">Comparison</a></li>'] if report.comparison else []
    for m in report.models:
        a = model_anchor(m)
        links = ", ".join(
            f'<a href="#{esc(a)}-{key}">{name}</a>'
            for key, name in (
                ("metrics", "metrics"),
                ("confusion", "confusion"),
                ("curves", "curves"),
                ("calibration", "calibration"),
                ("thresholds", "thresholds"),
                ("histograms", "histograms"),
                ("errors", "errors"),
                ("suite", "suite"),
                ("audit", "audit"),
            )
        )
        items.append(f'<li><a href="#{esc(a)}">{esc(m.name)}</a>: {links}</li>')
    return f"<nav><ul>{''.join(items)}</ul></nav>"


def render(report: Report) -> str:
    """The whole page."""
    names = ", ".join(m.name for m in report.models)
    title = f"Evaluation report: {names}"
    header = (
        f"<header><h1>{esc(title)}</h1><p>Data: <code>{esc(report.data)}</code>, {esc(report.split)} split, "
        f"{report.n:,} texts. Created {esc(report.created)} by <code>nlpc evaluate --report</code>.</p></header>"
    )
    body = [header, contents(report)]
    if report.comparison:
        body.append(comparison_section(report))
    body += [model_section(m, report.figures) for m in report.models]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )
