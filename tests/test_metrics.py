"""Metric edge cases: ROC-AUC where it is undefined (one class only among the texts)."""

from __future__ import annotations

import warnings

import numpy as np

from nlp_classifier.metrics import compute_metrics, headline
from nlp_classifier.tasks import MULTI_LABEL, SINGLE_LABEL


def test_multi_label_auc_skips_labels_with_one_class_only():
    y = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])  # the second label never occurs
    proba = np.array([[0.9, 0.2], [0.2, 0.1], [0.6, 0.3], [0.4, 0.05]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no UndefinedMetricWarning leaks out
        metrics = compute_metrics(y, proba, ["a", "b"], MULTI_LABEL)
    assert metrics["per_label"]["b"]["roc_auc"] is None
    assert metrics["per_label"]["a"]["roc_auc"] == 1.0
    assert metrics["mean_roc_auc"] == 1.0 and headline(metrics, MULTI_LABEL) == 1.0


def test_multi_label_auc_is_none_when_no_label_has_two_classes():
    y = np.zeros((3, 2), dtype=int)
    metrics = compute_metrics(y, np.full((3, 2), 0.3), ["a", "b"], MULTI_LABEL)
    assert metrics["mean_roc_auc"] is None and np.isnan(headline(metrics, MULTI_LABEL))


def test_binary_auc_with_one_class_is_none_and_otherwise_computed():
    one_class = compute_metrics(
        np.array([1, 1, 1]), np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]), ["no", "yes"], SINGLE_LABEL
    )
    assert one_class["roc_auc"] is None
    both = compute_metrics(
        np.array([0, 1, 1]), np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]), ["no", "yes"], SINGLE_LABEL
    )
    assert both["roc_auc"] == 0.5
