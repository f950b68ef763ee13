"""Score a Classifier on a labelled Dataset: metrics, and the mean time to classify one text."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from .classifier import Classifier
from .data import Dataset
from .errors import DataError
from .metrics import compute_metrics
from .progress import track
from .tasks import MULTI_LABEL

BATCH_SIZE = 256


def summary_metric_names(problem_type: str) -> list[str]:
    """The headline metrics of an evaluation, in the order tables show them."""
    if problem_type == MULTI_LABEL:
        return ["mean_roc_auc", "f1_micro", "f1_macro", "subset_accuracy", "hamming_loss"]
    return ["accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "roc_auc"]


def predict_proba_batched(
    classifier: Classifier,
    texts: Sequence[str],
    batch_size: int = BATCH_SIZE,
    description: str = "Scoring",
    *,
    calibrated: bool = True,
) -> np.ndarray:
    """``predict_proba`` over ``texts`` in batches, with a progress bar (``calibrated`` as for
    ``predict_proba``)."""
    starts = range(0, len(texts), batch_size)
    parts = [
        classifier.predict_proba(list(texts[i : i + batch_size]), calibrated=calibrated)
        for i in track(starts, description, total=len(starts))
    ]
    return np.vstack(parts) if parts else np.zeros((0, len(classifier.labels)))


def per_source_rows(metrics: dict, labels: list[str]) -> tuple[list[str], list[list]]:
    """Columns and rows of the per-source table of a multi-source evaluation: one row per source, then the
    overall row; accuracy, macro-F1, ROC-AUC and the F1 of the positive (last) class, e.g. hateful."""
    positive = labels[-1]
    rows = [
        [name, m["n"], m["accuracy"], m["f1_macro"], m["roc_auc"], m["per_label"][positive]["f1"]]
        for name, m in [*metrics.get("per_source", {}).items(), ("overall", metrics)]
    ]
    return ["source", "n", "accuracy", "macro-F1", "ROC-AUC", f"{positive} F1"], rows


def check_compatible(classifier: Classifier, dataset: Dataset) -> None:
    """Refuse to score a model on data whose labels or problem type differ from the model's."""
    if dataset.problem_type != classifier.problem_type or list(dataset.labels) != classifier.labels:
        raise DataError(
            f"the data's labels {dataset.labels} ({dataset.problem_type}) do not match model "
            f"'{classifier.name}' labels {classifier.labels} ({classifier.problem_type})",
            path=dataset.source,
        )


def evaluate(classifier: Classifier, dataset: Dataset, thresholds: dict[str, float] | None = None) -> dict:
    """Metrics of ``classifier`` on ``dataset`` at the model's thresholds (or the given ones); for a multi-source
    dataset also the same metrics per source (``per_source``)."""
    check_compatible(classifier, dataset)
    proba = predict_proba_batched(classifier, dataset.texts, description=f"Evaluating {classifier.name}")
    return dataset_metrics(dataset, proba, thresholds if thresholds is not None else classifier.thresholds)


def dataset_metrics(dataset: Dataset, proba: np.ndarray, thresholds: dict[str, float] | None = None) -> dict:
    """Metrics of the probabilities ``proba`` against ``dataset``'s targets, overall and per source."""
    out = compute_metrics(dataset.y, proba, dataset.labels, dataset.problem_type, thresholds)
    if dataset.sources is not None:
        names = np.asarray(dataset.sources)
        out["per_source"] = {
            s: compute_metrics(
                dataset.y[names == s], proba[names == s], dataset.labels, dataset.problem_type, thresholds
            )
            for s in dataset.source_names()
        }
    return out


def mean_single_text_ms(classifier: Classifier, texts: Sequence[str], n: int = 200) -> float:
    """Mean wall time, in ms, of classifying one text at a time (after a short warm-up)."""
    sample = [texts[i % len(texts)] for i in range(n)]
    for text in sample[:10]:
        classifier.predict_proba([text])
    start = time.perf_counter()
    for text in sample:
        classifier.predict_proba([text])
    return (time.perf_counter() - start) * 1000 / n
