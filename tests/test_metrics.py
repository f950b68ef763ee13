"""Metric edge cases: ROC-AUC where it is undefined (one class only among the texts); the Wilson interval."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nlp_classifier.metrics import compute_metrics, headline, wilson_interval
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


def test_wilson_interval_matches_hand_computed_values():
    # 3 of 12 (a suite group with three false positives): centre (0.25 + 1.96^2/24) / (1 + 1.96^2/12) = 0.3106,
    # half-width 1.96 * sqrt(0.25 * 0.75 / 12 + 1.96^2 / 576) / 1.3201 = 0.2217
    assert wilson_interval(3, 12) == pytest.approx([0.0889, 0.5323], abs=1e-4)
    assert wilson_interval(0, 12) == pytest.approx([0.0, 0.2425], abs=1e-4)  # no failures still leaves 24%
    assert wilson_interval(12, 12) == pytest.approx([0.7575, 1.0], abs=1e-4)
    assert wilson_interval(50, 1000) == pytest.approx([0.0381, 0.0653], abs=1e-4)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson_interval(13, 12)
