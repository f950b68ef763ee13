"""How closely an exported model follows the PyTorch model: on the test split of the model's own data, label
agreement, probability differences and metric deltas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..card import ModelCard
from ..data import Dataset
from ..data.model_data import model_splits
from ..decision import decide
from ..metrics import compute_metrics, headline, headline_metric
from ..tasks import MULTI_LABEL

SINGLE_LABEL_KEYS = ("accuracy", "f1_macro", "f1_weighted", "roc_auc")
MULTI_LABEL_KEYS = ("mean_roc_auc", "f1_macro", "f1_micro", "subset_accuracy")


def test_split(card: ModelCard, limit: int | None = None) -> tuple[Dataset | None, str]:
    """The test split of the data the model was trained on (its card's task, or its data file), with a note
    saying where it came from; (None, reason) when it cannot be rebuilt here."""
    splits, note = model_splits(card)
    if splits is None:
        return None, note
    test = splits.test
    note = f"test split of {note}"
    if limit is not None and limit < len(test):
        test = test.subset(np.sort(np.random.default_rng(0).choice(len(test), limit, replace=False)), "test")
        note += f", a seeded sample of {limit} texts"
    return test, note


def metric_keys(problem_type: str) -> tuple[str, ...]:
    """The metrics reported for a problem type (the headline first)."""
    return MULTI_LABEL_KEYS if problem_type == MULTI_LABEL else SINGLE_LABEL_KEYS


def compare(
    reference: np.ndarray,
    candidate: np.ndarray,
    card: ModelCard,
    y: np.ndarray | None = None,
    calibrate: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict:
    """Label agreement and probability differences of ``candidate`` against ``reference`` (same texts, label
    columns), at the card's thresholds; with targets ``y`` also both models' metrics and their deltas. For a
    calibrated model pass its raw scores and ``calibrate``: the probability differences are then those of the
    models themselves, and the decisions and metrics those of the calibrated scores the card's thresholds are
    for (both sides through the same calibrator)."""
    thresholds = card.thresholds or {}
    diff = np.abs(reference - candidate)
    if calibrate is not None:
        reference, candidate = calibrate(reference), calibrate(candidate)
    ref_decisions = decide(reference, card.labels, card.problem_type, thresholds).chosen
    cand_decisions = decide(candidate, card.labels, card.problem_type, thresholds).chosen
    same = ref_decisions == cand_decisions
    if same.ndim == 2:
        same = same.all(axis=1)
    out: dict[str, Any] = {
        "n": int(len(reference)),
        "label_agreement": float(same.mean()) if len(same) else None,
        "disagreements": int((~same).sum()),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
    }
    if y is not None:
        ref_metrics = compute_metrics(y, reference, card.labels, card.problem_type, thresholds)
        cand_metrics = compute_metrics(y, candidate, card.labels, card.problem_type, thresholds)
        keys = metric_keys(card.problem_type)
        out["metrics"] = {k: _finite(cand_metrics.get(k)) for k in keys}
        out["reference_metrics"] = {k: _finite(ref_metrics.get(k)) for k in keys}
        out["deltas"] = {k: _delta(cand_metrics.get(k), ref_metrics.get(k)) for k in keys}
        out["headline"] = headline_metric(card.problem_type)
        out["headline_reference"] = _finite(headline(ref_metrics, card.problem_type))
        out["headline_value"] = _finite(headline(cand_metrics, card.problem_type))
        both = out["headline_reference"] is not None and out["headline_value"] is not None
        out["headline_drop_points"] = (
            round(100 * (out["headline_reference"] - out["headline_value"]), 4) if both else None
        )
    return out


def _finite(value: float | None) -> float | None:
    """A float, or None for a missing or undefined (NaN) value, so the card stays plain JSON."""
    return None if value is None or not np.isfinite(value) else float(value)


def _delta(new: float | None, old: float | None) -> float | None:
    new, old = _finite(new), _finite(old)
    return None if new is None or old is None else new - old
