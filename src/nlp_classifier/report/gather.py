"""What an evaluation report shows, gathered from one scoring pass of each model: the metrics
(``evaluation.dataset_metrics``), calibration (``calibration``), ROC and precision-recall curves, the threshold
table (``operating_points.at_thresholds``), the most confident errors with their explanations, and where the
model supports them the behavioural suite (``behaviour``) and the identity-bias audit (``audit``). No charts and
no HTML here: ``charts`` draws and ``html`` renders what this module returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..calibration import ReliabilityBins, calibration_metrics, reliability_bins, top_label
from ..classifier import Classifier
from ..data import Dataset
from ..decision import decide, thresholded_labels
from ..errors import ConfigError
from ..evaluation import check_compatible, dataset_metrics, predict_proba_batched
from ..explain import Explanation
from ..operating_points import at_thresholds, curve
from ..tasks import MULTI_LABEL

if TYPE_CHECKING:
    from ..audit import AuditResult

GRID_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05, 0.10, ..., 0.95
N_ERRORS = 20


@dataclass
class LabelView:
    """One label seen as a yes/no question: the positive class of a binary model, each label of a multi-label
    model, each harmful class one-vs-rest of a multi-class model. ``y`` the 0/1 truth, ``scores`` the label's
    probability, ``decided`` whether the model's decision (``decision.decide``) chose the label, ``threshold``
    the model's threshold for it (None where the arg-max decides)."""

    label: str
    y: np.ndarray
    scores: np.ndarray
    decided: np.ndarray
    threshold: float | None

    @property
    def prevalence(self) -> float:
        return float(self.y.mean()) if len(self.y) else float("nan")


@dataclass
class Curves:
    """ROC (false- and true-positive rates) and precision-recall points of one label, and its ROC-AUC."""

    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    roc_auc: float | None


@dataclass
class ThresholdRow:
    """What one threshold gives on the data for one label; ``tuned`` marks the model's own threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    flag_rate: float | None
    tuned: bool


@dataclass
class ErrorCase:
    """A misclassified text: its row in the data, the label's score, and the explanation of that score (None
    when the model cannot explain)."""

    row: int
    text: str
    score: float
    explanation: Explanation | None = None


@dataclass
class LabelErrors:
    """The most confident false positives (highest scores among texts wrongly given the label) and false
    negatives (lowest scores among texts of the label the model missed) of one label, with the totals."""

    label: str
    false_positives: list[ErrorCase]
    false_negatives: list[ErrorCase]
    n_false_positives: int
    n_false_negatives: int


@dataclass
class ModelReport:
    """Everything the report shows about one model on one dataset."""

    name: str
    backend: str
    labels: list[str]
    problem_type: str
    thresholds: dict[str, float]
    n: int
    metrics: dict[str, Any]
    calibration: dict[str, Any]
    views: list[LabelView]
    curves: dict[str, Curves]
    reliability: dict[str, ReliabilityBins]
    threshold_tables: dict[str, list[ThresholdRow]]
    confusion: dict[str, list[list[int]]]
    errors: dict[str, LabelErrors]
    explain_method: str | None = None
    suite: dict[str, Any] | None = None
    suite_skipped: str | None = None
    audit: AuditResult | None = None
    audit_skipped: str | None = None


def label_views(dataset: Dataset, proba: np.ndarray, classifier: Classifier) -> list[LabelView]:
    """The yes/no views of ``LabelView`` for a model's decisions on ``dataset``."""
    labels, problem = classifier.labels, classifier.problem_type
    chosen = decide(proba, labels, problem, classifier.thresholds, classifier.harmless_labels).chosen
    thresholded = thresholded_labels(labels, problem)
    if problem == MULTI_LABEL:
        columns = list(range(len(labels)))
    elif len(labels) == 2:
        columns = [1]
    else:
        columns = [i for i, lab in enumerate(labels) if lab not in classifier.harmless_labels]
    views = []
    for i in columns:
        lab = labels[i]
        y = dataset.y[:, i] if problem == MULTI_LABEL else (dataset.y == i)
        decided = chosen[:, i] if problem == MULTI_LABEL else (chosen == i)
        threshold = classifier.thresholds[lab] if lab in thresholded else None
        views.append(LabelView(lab, np.asarray(y, dtype=int), proba[:, i], np.asarray(decided, dtype=bool), threshold))
    return views


def view_auc(view: LabelView, metrics: dict, problem_type: str) -> float | None:
    """The ROC-AUC of a label as the metrics report it (a multi-label model's per label, a binary model's own);
    for a class of a multi-class model (the metrics hold only the macro average) None, so that ``label_curves``
    takes the area under its one-vs-rest curve."""
    if problem_type == MULTI_LABEL:
        return metrics["per_label"][view.label].get("roc_auc")
    return metrics.get("roc_auc") if len(metrics["per_label"]) == 2 else None


def label_curves(view: LabelView, roc_auc: float | None = None) -> Curves:
    """ROC and precision-recall points of a label (``operating_points.curve`` gives the precision and recall
    of flagging at or over each distinct score; the ROC uses the same cut points). Without ``roc_auc`` the
    area under the ROC points (ties count one half, as in scikit-learn) where both outcomes occur."""
    thresholds, precision, recall = curve(view.y, view.scores)
    order = np.argsort(-view.scores, kind="stable")
    ranked = view.scores[order]
    positives, negatives = view.y.sum(), len(view.y) - view.y.sum()
    flagged = np.searchsorted(-ranked, -thresholds, side="right")  # texts at or over each threshold
    tp = recall * positives
    fp = flagged - tp
    fpr = np.r_[0.0, fp / negatives if negatives else np.zeros(len(fp))]
    tpr = np.r_[0.0, recall]
    if roc_auc is None and positives and negatives:
        roc_auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return Curves(fpr, tpr, np.r_[1.0, precision], np.r_[0.0, recall], roc_auc)


def threshold_table(
    dataset: Dataset, proba: np.ndarray, classifier: Classifier, grid: Sequence[float] = GRID_THRESHOLDS
) -> dict[str, list[ThresholdRow]]:
    """Per thresholded label: precision, recall, F1 and flag rate at each grid threshold and at the model's
    own (``tuned``), in threshold order; empty for a multi-class model (the arg-max decides)."""
    labels, problem = classifier.labels, classifier.problem_type
    thresholded = thresholded_labels(labels, problem)
    if not thresholded:
        return {}
    own = classifier.thresholds
    points: dict[str, dict[float, bool]] = {lab: {float(t): False for t in grid} for lab in thresholded}
    for lab in thresholded:
        points[lab][round(own[lab], 6)] = True
    every = sorted({t for marks in points.values() for t in marks})
    tables: dict[str, list[ThresholdRow]] = {lab: [] for lab in thresholded}
    for t in every:
        wanted = [lab for lab in thresholded if t in points[lab]]
        if not wanted:
            continue
        measured = at_thresholds(dataset.y, proba, labels, problem, {lab: t for lab in labels})
        for lab in wanted:
            m = measured[lab]
            tables[lab].append(ThresholdRow(t, m["precision"], m["recall"], m["f1"], m["flag_rate"], points[lab][t]))
    return tables


def confusion_matrices(dataset: Dataset, proba: np.ndarray, classifier: Classifier, metrics: dict) -> dict:
    """The confusion matrix (rows true, columns predicted): the model's own for a single-label model (from
    ``metrics``), a 2x2 one per label (not / label) for a multi-label model."""
    if classifier.problem_type != MULTI_LABEL:
        return {"": metrics["confusion_matrix"]}
    chosen = decide(proba, classifier.labels, MULTI_LABEL, classifier.thresholds).chosen
    out = {}
    for i, lab in enumerate(classifier.labels):
        y, p = dataset.y[:, i].astype(bool), chosen[:, i].astype(bool)
        out[lab] = [[int((~y & ~p).sum()), int((~y & p).sum())], [int((y & ~p).sum()), int((y & p).sum())]]
    return out


def label_errors(view: LabelView, texts: Sequence[str], n: int = N_ERRORS) -> LabelErrors:
    """The ``n`` most confident false positives and false negatives of one label."""
    fp = np.flatnonzero(view.decided & (view.y == 0))
    fn = np.flatnonzero(~view.decided & (view.y == 1))
    fp_top = fp[np.argsort(-view.scores[fp], kind="stable")][:n]
    fn_top = fn[np.argsort(view.scores[fn], kind="stable")][:n]

    def cases(rows: np.ndarray) -> list[ErrorCase]:
        return [ErrorCase(int(i), texts[i], float(view.scores[i])) for i in rows]

    return LabelErrors(view.label, cases(fp_top), cases(fn_top), len(fp), len(fn))


def attach_explanations(classifier: Classifier, errors: LabelErrors) -> str | None:
    """Explain the score of the label in every error case of one label (``Classifier.explain``, the model's
    default method: exact linear contributions for TF-IDF models, occlusion otherwise); returns the method."""
    cases = errors.false_positives + errors.false_negatives
    if not cases:
        return None
    explanations = classifier.explain([c.text for c in cases], label=errors.label)
    for case, explanation in zip(cases, explanations):
        case.explanation = explanation
    return explanations[0].method


def behaviour_suite(classifier: Classifier) -> tuple[dict | None, str | None]:
    """The behavioural suite's report on the shipped cases (``behaviour.run_check``), or None and why not."""
    from ..behaviour import hateful_decision, load_cases, run_check

    try:
        hateful_decision(classifier)
    except ConfigError as exc:
        return None, str(exc)
    return run_check(classifier, load_cases()), None


def bias_audit(classifier: Classifier) -> tuple[AuditResult | None, str | None]:
    """The identity-bias audit on the shipped terms and templates (``audit.run_audit``), or None and why not."""
    from ..audit import load_templates, load_terms, run_audit, scored_label
    from ..audit.terms import default_templates_path, default_terms_path

    try:
        scored_label(classifier)
    except ConfigError as exc:
        return None, str(exc)
    terms_file, templates_file = default_terms_path(), default_templates_path()
    return (
        run_audit(
            classifier,
            load_terms(terms_file),
            load_templates(templates_file),
            terms_file=str(terms_file),
            templates_file=str(templates_file),
        ),
        None,
    )


def gather_model(
    classifier: Classifier,
    dataset: Dataset,
    *,
    suite: bool = True,
    audit: bool = True,
    n_errors: int = N_ERRORS,
) -> ModelReport:
    """Score ``classifier`` on ``dataset`` once and gather every part of its report."""
    check_compatible(classifier, dataset)
    proba = predict_proba_batched(classifier, dataset.texts, description=f"Scoring {classifier.name}")
    metrics = dataset_metrics(dataset, proba, classifier.thresholds)
    calibration = calibration_metrics(dataset.y, proba, classifier.labels, classifier.problem_type)
    views = label_views(dataset, proba, classifier)
    curves = {v.label: label_curves(v, view_auc(v, metrics, classifier.problem_type)) for v in views}
    if classifier.problem_type == MULTI_LABEL or len(classifier.labels) == 2:
        reliability = {v.label: reliability_bins(v.y, v.scores) for v in views}
    else:  # multi-class: the top-label diagram, the ECE calibration_metrics reports
        reliability = {"top label": reliability_bins(*top_label(dataset.y, proba))}
    errors = {v.label: label_errors(v, dataset.texts, n_errors) for v in views}
    method = None
    for label_errs in errors.values():
        method = attach_explanations(classifier, label_errs) or method
    report = ModelReport(
        name=classifier.name,
        backend=classifier.backend,
        labels=classifier.labels,
        problem_type=classifier.problem_type,
        thresholds=classifier.thresholds,
        n=len(dataset),
        metrics=metrics,
        calibration=calibration,
        views=views,
        curves=curves,
        reliability=reliability,
        threshold_tables=threshold_table(dataset, proba, classifier),
        confusion=confusion_matrices(dataset, proba, classifier, metrics),
        errors=errors,
        explain_method=method,
    )
    if suite:
        report.suite, report.suite_skipped = behaviour_suite(classifier)
    else:
        report.suite_skipped = "skipped with --no-suite"
    if audit:
        report.audit, report.audit_skipped = bias_audit(classifier)
    else:
        report.audit_skipped = "skipped with --no-audit"
    return report
