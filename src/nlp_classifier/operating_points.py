"""Operating points: the decision threshold of each thresholded label (the positive class of a binary model,
every label of a multi-label one) that reaches a target precision or recall on validation data, and what a set
of thresholds gives on labelled data (precision, recall, F1 and flag rate per label).

For a target precision the smallest threshold whose precision reaches it is chosen (the most recall at that
precision); for a target recall, the largest threshold whose recall reaches it (the most precision at that
recall); for the best F1, the threshold training would pick (``metrics.tune_thresholds``). Candidate thresholds are
the distinct scores themselves: a text is flagged when its score is at or over
the threshold, as ``decision.decide`` decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .decision import decide, thresholded_labels
from .errors import ConfigError
from .metrics import compute_metrics
from .tasks import MULTI_LABEL

TARGET_METRICS = ("precision", "recall")
BEST_F1 = "f1"  # the operating point whose thresholds maximise F1 (metrics.tune_thresholds, as training picks them)


def check_target(precision: float | None = None, recall: float | None = None) -> tuple[str, float] | None:
    """(metric, value) of the one target given, or None; an error for both, or a value outside (0, 1)."""
    if precision is not None and recall is not None:
        raise ConfigError("give a target precision or a target recall, not both")
    if precision is None and recall is None:
        return None
    metric, value = ("precision", precision) if precision is not None else ("recall", recall)
    assert value is not None
    if not 0.0 < float(value) < 1.0:
        raise ConfigError(f"the target {metric} must be between 0 and 1 (exclusive), got {value}")
    return metric, float(value)


def check_supported(labels: Sequence[str], problem_type: str) -> None:
    """Operating points need thresholds that decide: a binary or multi-label model."""
    if not thresholded_labels(labels, problem_type):
        raise ConfigError(
            f"a multi-class model ({len(labels)} labels) decides by arg-max, so it has no threshold to set; "
            "operating points need a binary or multi-label model"
        )


def label_targets(y_true: np.ndarray, labels: Sequence[str], problem_type: str) -> dict[str, np.ndarray]:
    """The 0/1 targets of each thresholded label."""
    y_true = np.asarray(y_true)
    out = {}
    for lab in thresholded_labels(labels, problem_type):
        i = list(labels).index(lab)
        out[lab] = y_true[:, i] if problem_type == MULTI_LABEL else (y_true == i).astype(int)
    return out


def curve(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds (the distinct scores, highest first) and the precision and recall of flagging the texts at or
    over each."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], np.asarray(y, dtype=float)[order]
    last = np.r_[np.flatnonzero(np.diff(ranked) != 0), len(ranked) - 1]  # the last text of each distinct score
    tp = np.cumsum(hits)[last]
    positives = hits.sum()
    return ranked[last], tp / (last + 1), tp / positives if positives else np.zeros(len(last))


def threshold_for_target(y: np.ndarray, scores: np.ndarray, metric: str, value: float, label: str = "") -> float:
    """The threshold reaching ``value`` of ``metric`` (see the module docstring); an error naming the best the
    data allows when none does."""
    y, scores = np.asarray(y), np.asarray(scores, dtype=float)
    if y.sum() == 0:
        raise ConfigError(f"label '{label}' has no positive texts in the validation split; no {metric} to target")
    thresholds, precision, recall = curve(y, scores)
    if metric == "precision":
        reached = np.flatnonzero(precision >= value)
        if not len(reached):
            best = int(np.argmax(precision))
            raise ConfigError(
                f"no threshold reaches precision {value:g} for label '{label}' on the validation split: the best "
                f"is {precision[best]:.4f} (threshold {thresholds[best]:.4f}, recall {recall[best]:.4f})"
            )
        return float(thresholds[reached[-1]])
    if metric == "recall":
        reached = np.flatnonzero(recall >= value)  # the lowest threshold reaches recall 1, so never empty
        return float(thresholds[reached[0]])
    raise ConfigError(f"unknown target metric '{metric}'; use one of {', '.join(TARGET_METRICS)}")


def pick_thresholds(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], problem_type: str, metric: str, value: float
) -> dict[str, float]:
    """The threshold of each thresholded label reaching the target on (validation) data; the other labels keep
    no threshold of their own (``decision.DEFAULT_THRESHOLD``)."""
    check_supported(labels, problem_type)
    return {
        lab: threshold_for_target(y, np.asarray(proba)[:, list(labels).index(lab)], metric, value, lab)
        for lab, y in label_targets(y_true, labels, problem_type).items()
    }


def at_thresholds(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], problem_type: str, thresholds: Mapping[str, float]
) -> dict[str, dict[str, Any]]:
    """Per thresholded label: its threshold and the precision, recall, F1 and flag rate (share of texts
    flagged) of the decisions ``decision.decide`` makes at ``thresholds``."""
    per_label = compute_metrics(y_true, proba, labels, problem_type, thresholds)["per_label"]
    chosen = decide(proba, labels, problem_type, thresholds).chosen
    out = {}
    for lab in thresholded_labels(labels, problem_type):
        i = list(labels).index(lab)
        flagged = chosen[:, i] if problem_type == MULTI_LABEL else chosen == i
        out[lab] = {
            "threshold": float(thresholds[lab]),
            **{k: per_label[lab][k] for k in ("precision", "recall", "f1")},
            "flag_rate": float(np.mean(flagged)) if len(flagged) else None,
        }
    return out
