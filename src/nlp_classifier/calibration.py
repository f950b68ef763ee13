"""How well probabilities match observed frequencies: reliability bins, expected calibration error (ECE) and
the Brier score, for single-label and multi-label models.

ECE uses ``ECE_BINS`` equal-width bins over [0, 1]: the gap between mean predicted probability and observed
frequency in each bin, weighted by the bin's share of the predictions. Which probability is binned depends on the
model, so that the ECE answers "when the model says 0.7, how often is it so?" for the score that decides:

- binary single-label: the positive (second) class's probability against its 0/1 target ("positive-class ECE");
- multi-class: the top-label ECE of Guo et al. 2017 (confidence = highest probability, right when that class is
  the true one);
- multi-label: each label's probability against its 0/1 target, averaged over the labels.

Single-label models also get the top-label ECE (``ece_top_label``), the figure most papers quote. For a binary
model it folds the two classes into one confidence, so a positive class scored too high and a negative class
scored too high can cancel in the same bin; the positive-class ECE does not hide that. The Brier score is the
mean squared error of the probabilities: of the positive class for a binary model (scikit-learn's convention),
summed over the classes for a multi-class one (Brier's original definition), per label and averaged for a
multi-label one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tasks import MULTI_LABEL

ECE_BINS = 15


def ece_name(problem_type: str, n_labels: int, n_bins: int = ECE_BINS) -> str:
    """What ``calibration_metrics``' ECE measures for a model, e.g. 'positive-class ECE, 15 equal-width bins'."""
    if problem_type == MULTI_LABEL:
        kind = "mean per-label"
    else:
        kind = "positive-class" if n_labels == 2 else "top-label"
    return f"{kind} ECE, {n_bins} equal-width bins"


@dataclass(frozen=True)
class ReliabilityBins:
    """Equal-width bins of predicted probability: ``edges`` (n_bins + 1), and per bin the number of
    predictions, their mean probability (``confidence``) and the observed share of positives (``accuracy``);
    both are NaN for an empty bin."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean gap between confidence and accuracy."""
        total = self.counts.sum()
        if total == 0:
            return float("nan")
        filled = self.counts > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float((self.counts[filled] * gaps).sum() / total)

    def to_dict(self) -> dict[str, list]:
        """Plain lists (None for an empty bin's means), for JSON."""
        return {
            "edges": self.edges.tolist(),
            "counts": self.counts.tolist(),
            "confidence": [None if np.isnan(v) else float(v) for v in self.confidence],
            "accuracy": [None if np.isnan(v) else float(v) for v in self.accuracy],
        }


def reliability_bins(y: np.ndarray, p: np.ndarray, n_bins: int = ECE_BINS) -> ReliabilityBins:
    """Bin the probabilities ``p`` that each event happens against the 0/1 outcomes ``y``: bin i holds
    ``edges[i] < p <= edges[i + 1]`` (the first bin also holds p == 0)."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y and p differ in length: {len(y)} and {len(p)}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, weights=p, minlength=n_bins) / counts
        accuracy = np.bincount(which, weights=y, minlength=n_bins) / counts
    return ReliabilityBins(edges, counts, confidence, accuracy)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """ECE of the probabilities ``p`` against the 0/1 outcomes ``y`` (``reliability_bins``)."""
    return reliability_bins(y, p, n_bins).ece


def top_label(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a single-label model: whether each arg-max prediction is right (0/1), and its probability."""
    proba = np.asarray(proba, dtype=float)
    return (proba.argmax(axis=1) == np.asarray(y_true)).astype(int), proba.max(axis=1)


def one_hot(y_true: np.ndarray, n_labels: int) -> np.ndarray:
    """(n,) class ids as an (n, n_labels) 0/1 matrix."""
    return np.eye(n_labels, dtype=int)[np.asarray(y_true, dtype=int)]


def brier_score(y_true: np.ndarray, proba: np.ndarray, problem_type: str) -> float:
    """Mean squared error of the probabilities (see the module docstring for the convention of each type)."""
    proba = np.asarray(proba, dtype=float)
    if problem_type == MULTI_LABEL:
        return float(np.mean((proba - np.asarray(y_true)) ** 2))
    if proba.shape[1] == 2:
        return float(np.mean((proba[:, 1] - (np.asarray(y_true) == 1)) ** 2))
    return float(np.mean(((proba - one_hot(y_true, proba.shape[1])) ** 2).sum(axis=1)))


def calibration_metrics(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], problem_type: str, n_bins: int = ECE_BINS
) -> dict[str, Any]:
    """ECE (``ece``, of the kind ``ece_name`` says; ``ece_top_label`` too for a single-label model) and Brier
    score of a model's probabilities, with ``per_label`` figures for a multi-label model."""
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    out: dict[str, Any] = {
        "n": int(len(y_true)),
        "ece_kind": ece_name(problem_type, len(labels), n_bins),
        "brier": brier_score(y_true, proba, problem_type),
    }
    if problem_type == MULTI_LABEL:
        per_label = {
            lab: {
                "ece": expected_calibration_error(y_true[:, i], proba[:, i], n_bins),
                "brier": float(np.mean((proba[:, i] - y_true[:, i]) ** 2)),
            }
            for i, lab in enumerate(labels)
        }
        return {**out, "ece": float(np.mean([v["ece"] for v in per_label.values()])), "per_label": per_label}
    top = expected_calibration_error(*top_label(y_true, proba), n_bins)
    ece = expected_calibration_error(y_true == 1, proba[:, 1], n_bins) if len(labels) == 2 else top
    return {**out, "ece": ece, "ece_top_label": top}
