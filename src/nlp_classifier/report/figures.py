"""Which charts a report has, what each is called, and the data each one is drawn from: per model its confusion
matrix, ROC, precision-recall and reliability curves, score histogram and audit chart; for a comparison the ROC,
precision-recall and reliability curves of every model overlaid. The file name of each (``Figure.name``) is what
``--figures`` writes and what the HTML refers to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..tasks import MULTI_LABEL
from . import charts
from .gather import ModelReport

COMPARISON = "comparison"


@dataclass(frozen=True)
class Figure:
    """A chart: ``name`` is its file stem (``<model>-roc``), ``title`` its caption, ``png`` the image."""

    name: str
    title: str
    png: bytes


def slug(text: str) -> str:
    """A name safe in file names and HTML ids: runs of other characters than letters, digits, ``_`` and ``-``
    become one ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def figure_name(model: str, kind: str) -> str:
    return f"{slug(model)}-{kind}"


def _mark(model: ModelReport, label: str) -> tuple[float, float] | None:
    """The model's operating point of a label on the precision-recall plane (recall, precision)."""
    for row in model.threshold_tables.get(label, []):
        if row.tuned:
            return row.recall, row.precision
    return None


def _curve_panels(models: Sequence[ModelReport], marks: bool) -> list[charts.CurvePanel]:
    first = models[0]
    return [
        charts.CurvePanel(
            view.label,
            [charts.CurveLine(m.name, m.curves[view.label], _mark(m, view.label) if marks else None) for m in models],
            view.prevalence,
        )
        for view in first.views
    ]


def _calibration_of(model: ModelReport, label: str) -> tuple[float | None, float | None]:
    """(ECE, Brier score) of one reliability panel, as ``calibration.calibration_metrics`` reported them."""
    cal = model.calibration
    if model.problem_type == MULTI_LABEL:
        return cal["per_label"][label]["ece"], cal["per_label"][label]["brier"]
    return cal["ece"], cal["brier"]


def _reliability_panels(models: Sequence[ModelReport]) -> list[charts.ReliabilityPanel]:
    return [
        charts.ReliabilityPanel(
            label, [charts.ReliabilityLine(m.name, m.reliability[label], *_calibration_of(m, label)) for m in models]
        )
        for label in models[0].reliability
    ]


def _class_names(model: ModelReport) -> dict[str, list[str]]:
    if model.problem_type == MULTI_LABEL:
        return {lab: [f"not {lab}", lab] for lab in model.confusion}
    return {"": list(model.labels)}


def model_figures(model: ModelReport) -> list[Figure]:
    """The charts of one model's report, in the order the report shows them."""
    name = model.name
    figures = [
        Figure(
            figure_name(name, "confusion-matrix"),
            f"Confusion matrix of {name}",
            charts.confusion_png(model.confusion, _class_names(model), f"{name}: confusion matrix"),
        ),
        Figure(
            figure_name(name, "roc"),
            f"ROC curve of {name}",
            charts.roc_png(_curve_panels([model], marks=False), f"{name}: ROC"),
        ),
        Figure(
            figure_name(name, "precision-recall"),
            f"Precision-recall curve of {name} (dot: the model's threshold)",
            charts.pr_png(_curve_panels([model], marks=True), f"{name}: precision-recall"),
        ),
        Figure(
            figure_name(name, "reliability"),
            f"Reliability diagram of {name} ({model.calibration['ece_kind']})",
            charts.reliability_png(_reliability_panels([model]), f"{name}: reliability"),
        ),
        Figure(
            figure_name(name, "score-histogram"),
            f"Scores of {name} per true class",
            charts.histogram_png(model.views, f"{name}: score per true class"),
        ),
    ]
    if model.audit is not None:
        from ..audit import chart_png

        figures.append(
            Figure(figure_name(name, "identity-audit"), f"Identity-bias audit of {name}", chart_png(model.audit))
        )
    return figures


def comparison_figures(models: Sequence[ModelReport]) -> list[Figure]:
    """The overlaid ROC, precision-recall and reliability curves of several models on the same data."""
    names = ", ".join(m.name for m in models)
    return [
        Figure(f"{COMPARISON}-roc", f"ROC curves of {names}", charts.roc_png(_curve_panels(models, False), "ROC")),
        Figure(
            f"{COMPARISON}-precision-recall",
            f"Precision-recall curves of {names} (dots: each model's threshold)",
            charts.pr_png(_curve_panels(models, True), "precision-recall"),
        ),
        Figure(
            f"{COMPARISON}-reliability",
            f"Reliability diagrams of {names}",
            charts.reliability_png(_reliability_panels(models), "reliability"),
        ),
    ]
