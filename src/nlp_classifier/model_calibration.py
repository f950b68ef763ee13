"""``calibrate_model``: fit a calibrator to a saved model on its validation split and/or pick its thresholds
for a target precision or recall, measure the change on the test split, and publish the result as the model's
next version (calibrator file pinned in the card, thresholds, metrics).

Decisions stay put unless asked to move: without a target, a binary or multi-label model's thresholds are mapped
onto the calibrated scale (``Calibrator.map_thresholds``), or, when they were picked for an operating point
before, picked again for the same target on the calibrated scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import ECE_BINS, calibration_metrics, ece_name
from .calibrators import METHODS, Calibrator, calibrator_file, fit_calibrator
from .card import ModelCard, now_iso, sha256_file
from .data import Dataset
from .data.model_data import model_splits
from .errors import ConfigError
from .evaluation import dataset_metrics, predict_proba_batched
from .operating_points import at_thresholds, check_supported, check_target, pick_thresholds
from .progress import stage
from .registry import bump_card, resolve

HEADLINE_KEYS = ("roc_auc", "accuracy", "f1_macro")


@dataclass
class CalibrationResult:
    """What ``calibrate_model`` changed: the new card, the test split's calibration metrics before and after,
    the thresholds before and after, and the operating point (None when no target was given)."""

    card: ModelCard
    calibrator: Calibrator | None
    test: dict[str, dict[str, Any]]
    thresholds_before: dict[str, float]
    operating_point: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.card.name,
            "version": self.card.version,
            "previous_version": self.card.previous_version,
            "calibration": self.card.calibration,
            "test": self.test,
            "thresholds_before": self.thresholds_before,
            "thresholds": self.card.thresholds,
            "operating_point": self.operating_point,
        }


def calibrate_model(
    name_or_path: str | Path,
    *,
    models_dir: str | Path | None = None,
    method: str | None = "temperature",
    target_precision: float | None = None,
    target_recall: float | None = None,
    bump: str = "minor",
    n_bins: int = ECE_BINS,
) -> CalibrationResult:
    """Fit ``method`` (``temperature`` or ``isotonic``; None keeps the model's scores as they are and only picks
    thresholds) on the validation split of the model's own data, pick thresholds for the target precision or
    recall if one is given, and save the model as its next version (``bump``: major, minor or patch)."""
    from .backends import load_card

    target = check_target(target_precision, target_recall)
    if method is None and target is None:
        raise ConfigError("nothing to do: give a calibration method, a target precision or a target recall")
    if method is not None and method not in METHODS:
        raise ConfigError(f"unknown calibration method '{method}'; use one of {', '.join(METHODS)}")
    card = resolve(name_or_path, models_dir)
    if target is not None:
        check_supported(card.labels, card.problem_type)
    splits, note = model_splits(card)
    if splits is None or not len(splits.validation) or not len(splits.test):
        why = note if splits is None else "its validation or test split is empty"
        raise ConfigError(f"model '{card.name}' has no validation split to calibrate on: {why}")
    card.verify_or_raise()
    classifier = load_card(card)
    validation, test = splits.validation, splits.test
    with stage(f"Scoring {len(validation):,} validation and {len(test):,} test texts"):
        val_raw = predict_proba_batched(classifier, validation.texts, description="validation", calibrated=False)
        test_raw = predict_proba_batched(classifier, test.texts, description="test", calibrated=False)

    calibrator = classifier.calibrator
    if method is not None:
        calibrator = fit_calibrator(method, validation.y, val_raw, card.labels, card.problem_type)
        calibrator.fitted_on = {"split": "validation", "n": len(validation), "data": f"validation split of {note}"}
    val_new, test_new = _apply(calibrator, val_raw), _apply(calibrator, test_raw)

    thresholds_before = dict(classifier.thresholds)
    previous_calibration = card.calibration or {}
    raw_thresholds = previous_calibration.get("raw_thresholds") or thresholds_before
    if target is None and card.operating_point:  # keep the operating point the thresholds were picked for
        target = (card.operating_point["metric"], float(card.operating_point["target"]))
    if target is not None:
        thresholds = pick_thresholds(validation.y, val_new, card.labels, card.problem_type, *target)
        thresholds = {**thresholds_before, **thresholds}
    else:
        assert calibrator is not None
        thresholds = calibrator.map_thresholds(raw_thresholds)

    test_report = {
        "before": _report(test, classifier.calibrate(test_raw), thresholds_before, n_bins),
        "after": _report(test, test_new, thresholds, n_bins),
    }
    if method is not None:
        assert calibrator is not None
        _save_calibrator(card, calibrator, raw_thresholds, test_report, n_bins)
    operating_point = None
    if target is not None:
        operating_point = {
            "metric": target[0],
            "target": target[1],
            "picked_on": f"validation split of {note}",
            "calibrated": calibrator is not None,
            "picked_at": now_iso(),
            "validation": at_thresholds(validation.y, val_new, card.labels, card.problem_type, thresholds),
            "test": at_thresholds(test.y, test_new, card.labels, card.problem_type, thresholds),
        }
        card.operating_point = operating_point
    card.thresholds = thresholds
    card.metrics.update(
        validation=dataset_metrics(validation, val_new, thresholds), test=dataset_metrics(test, test_new, thresholds)
    )
    bump_card(card, bump, models_dir)
    return CalibrationResult(card, calibrator, test_report, thresholds_before, operating_point)


def _apply(calibrator: Calibrator | None, raw: np.ndarray) -> np.ndarray:
    return raw if calibrator is None else calibrator.apply(raw)


def _report(data: Dataset, proba: np.ndarray, thresholds: dict[str, float], n_bins: int) -> dict[str, Any]:
    """ECE and Brier score of ``proba``, with the headline metrics at ``thresholds``."""
    metrics = dataset_metrics(data, proba, thresholds)
    calibration = calibration_metrics(data.y, proba, data.labels, data.problem_type, n_bins)
    return {**calibration, **{k: metrics.get(k) for k in HEADLINE_KEYS}}


def _save_calibrator(
    card: ModelCard, calibrator: Calibrator, raw_thresholds: dict[str, float], test_report: dict, n_bins: int
) -> None:
    """Write the calibrator beside the model, pin it in the card and describe it there."""
    rel = calibrator_file(card)
    calibrator.save(card.root / rel)
    card.files[rel] = sha256_file(card.root / rel)
    card.calibration = {
        "file": rel,
        "method": calibrator.method,
        "summary": calibrator.summary(),
        "fitted_on": calibrator.fitted_on,
        "calibrated_at": now_iso(),
        "ece": ece_name(card.problem_type, len(card.labels), n_bins),
        "raw_thresholds": dict(raw_thresholds),
        "test": {
            k: {m: v.get(m) for m in ("ece", "ece_top_label", "brier", "roc_auc")} for k, v in test_report.items()
        },
    }
