"""Quality metrics for single-label and multi-label predictions, and the seed's ``training_info.json``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from .decision import DEFAULT_THRESHOLD, decide
from .tasks import MULTI_LABEL


def wilson_interval(successes: int, n: int, z: float = 1.96) -> list[float] | None:
    """The Wilson score interval (95% for the default ``z``) of a rate ``successes / n``, as ``[low, high]``;
    None when ``n`` is 0. Unlike the normal approximation it stays inside [0, 1] and is sensible for small ``n``
    and rates near 0 or 1, as in a suite group of 12 cases."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n ({n}), got {successes}")
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def interval_text(interval: Sequence[float] | None) -> str:
    """A rate's interval for a table: "0.09-0.53", or "" when there is none."""
    return "" if interval is None else f"{interval[0]:.2f}-{interval[1]:.2f}"


def compute_metrics(
    y_true: np.ndarray,
    proba: np.ndarray,
    labels: Sequence[str],
    problem_type: str,
    thresholds: Mapping[str, float] | None = None,
) -> dict:
    """Accuracy, F1, precision, recall, ROC-AUC and per-label figures, as plain floats, of the decisions
    ``decision.decide`` makes at ``thresholds``."""
    y_pred = decide(proba, labels, problem_type, thresholds).chosen
    if problem_type == MULTI_LABEL:
        return _multi_label(np.asarray(y_true), proba, y_pred, labels)
    return _single_label(np.asarray(y_true), proba, y_pred, labels)


def _safe_auc(y_true: np.ndarray, scores: np.ndarray, **kwargs) -> float | None:
    """ROC-AUC, or None where it is undefined: every true label the same (scikit-learn raised a ValueError for
    this up to 1.5 and returns NaN with a warning since), or a multi-class label never present."""
    if len(np.unique(y_true)) < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            auc = float(skm.roc_auc_score(y_true, scores, **kwargs))
    except ValueError:  # e.g. a class of a multi-class task absent from y_true
        return None
    return None if np.isnan(auc) else auc


def _single_label(y_true, proba, y_pred, labels) -> dict:
    ids = list(range(len(labels)))
    out: dict[str, Any] = {"n": int(len(y_true)), "accuracy": float(skm.accuracy_score(y_true, y_pred))}
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=ids, average=avg, zero_division=0)
        out.update({f"f1_{avg}": float(f), f"precision_{avg}": float(p), f"recall_{avg}": float(r)})
    if len(labels) == 2:
        out["roc_auc"] = _safe_auc(y_true, proba[:, 1])
    else:
        out["roc_auc"] = _safe_auc(y_true, proba, multi_class="ovr", average="macro", labels=ids)
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    out["per_label"] = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, lab in enumerate(labels)
    }
    out["confusion_matrix"] = skm.confusion_matrix(y_true, y_pred, labels=ids).tolist()
    return out


def _multi_label(y_true, proba, y_pred, labels) -> dict:
    out: dict[str, Any] = {
        "n": int(len(y_true)),
        "subset_accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "hamming_loss": float(skm.hamming_loss(y_true, y_pred)),
    }
    for avg in ("micro", "macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=avg, zero_division=0)
        out.update({f"f1_{avg}": float(f), f"precision_{avg}": float(p), f"recall_{avg}": float(r)})
    per_label, aucs = {}, []
    for i, lab in enumerate(labels):
        auc = _safe_auc(y_true[:, i], proba[:, i])
        if auc is not None:
            aucs.append(auc)
        p, r, f, _ = skm.precision_recall_fscore_support(y_true[:, i], y_pred[:, i], average="binary", zero_division=0)
        per_label[lab] = {
            "roc_auc": auc,
            "f1": float(f),
            "precision": float(p),
            "recall": float(r),
            "support": int(y_true[:, i].sum()),
        }
    out["mean_roc_auc"] = float(np.mean(aucs)) if aucs else None
    out["roc_auc"] = out["mean_roc_auc"]
    out["accuracy"] = out["subset_accuracy"]
    out["per_label"] = per_label
    return out


def headline_metric(problem_type: str) -> str:
    """The name of the metric models are selected by: macro-F1 (single-label) or mean ROC-AUC (multi-label)."""
    return "mean_roc_auc" if problem_type == MULTI_LABEL else "f1_macro"


def headline(metrics: Mapping, problem_type: str) -> float:
    """The value of the headline metric (``headline_metric``) in ``metrics``; NaN where it is undefined."""
    value = metrics[headline_metric(problem_type)]
    return float("nan") if value is None else float(value)


def tune_thresholds(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], problem_type: str) -> dict:
    """Per-label thresholds maximising F1 on validation data (multi-label, or the positive class of a binary
    task); ``DEFAULT_THRESHOLD`` is kept for a label where no threshold beats it or there are no positives."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    columns = range(len(labels)) if problem_type == MULTI_LABEL else ([1] if len(labels) == 2 else [])
    out = {lab: DEFAULT_THRESHOLD for lab in labels}
    for i in columns:
        truth = y_true[:, i] if problem_type == MULTI_LABEL else (y_true == i).astype(int)
        if truth.sum() == 0:
            continue
        scores = [skm.f1_score(truth, (proba[:, i] >= t).astype(int), zero_division=0) for t in grid]
        best = int(np.argmax(scores))
        if scores[best] > skm.f1_score(truth, (proba[:, i] >= DEFAULT_THRESHOLD).astype(int), zero_division=0):
            out[labels[i]] = float(grid[best])
    return out


# x0.22 .. x4.5, log-spaced, nearest to 1 first (so ties keep the smaller shift)
CLASS_WEIGHT_GRID = sorted(np.round(np.exp(np.arange(-1.5, 1.51, 0.1)), 4), key=lambda w: abs(np.log(w)))
PRIOR_METRICS = ("f1_weighted", "f1_macro", "accuracy")


def tune_class_weights(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], metric: str = "f1_weighted", passes: int = 3
) -> dict[str, float]:
    """Per-class multipliers of a multi-class model's probabilities (a shift of the class priors) that maximise
    ``metric`` of the arg-max decision on validation data, by coordinate ascent over a log-spaced grid. The most
    frequent class keeps 1.0; a weight moves only where it strictly improves the metric, to the best value
    nearest 1."""
    if metric not in PRIOR_METRICS:
        raise ValueError(f"unknown metric '{metric}' for class priors; use one of {', '.join(PRIOR_METRICS)}")
    y_true = np.asarray(y_true)

    def score(w: np.ndarray) -> float:
        y_pred = (proba * w).argmax(axis=1)
        if metric == "accuracy":
            return float(np.mean(y_pred == y_true))
        return float(skm.f1_score(y_true, y_pred, labels=list(range(len(labels))), average=metric[3:], zero_division=0))

    weights = np.ones(len(labels))
    reference = int(np.bincount(y_true, minlength=len(labels)).argmax())
    best = score(weights)
    for _ in range(passes):
        moved = False
        for k in (i for i in range(len(labels)) if i != reference):
            for value in CLASS_WEIGHT_GRID:
                trial = weights.copy()
                trial[k] = value
                trial_score = score(trial)
                if trial_score > best + 1e-12:
                    best, weights, moved = trial_score, trial, True
        if not moved:
            break
    return {lab: float(w) for lab, w in zip(labels, weights)}


def training_info(
    test_metrics: Mapping, labels: Sequence[str], training_seconds: float, avg_inference_ms: float, **extra
) -> dict:
    """The seed's training_info.json: its metric names at the top level, timing, classes."""
    info = {
        "metrics": dict(test_metrics),
        "training_time_seconds": round(training_seconds, 2),
        "training_time_minutes": round(training_seconds / 60, 2),
        "avg_inference_time_ms": round(avg_inference_ms, 4),
        "num_classes": len(labels),
        "classes": list(labels),
    }
    info.update(extra)
    return info
