"""``calibrate_model``: fit a calibrator to a saved model on its validation split and/or pick its thresholds
for a target precision or recall (or the best F1), measure the change on the test split, and publish the result as
the model's next version (calibrator file pinned in the card, thresholds, metrics).

With ``data`` (a user's labelled file, e.g. posts from the platform the model will serve) the fitting and the
measuring move to that file: a seeded, stratified half fits, the other half measures. A model trained on other
text keeps its ranking there but not always its operating point (docs/evaluation.md).

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
from .data.splits import SEED, split_assignment
from .decision import thresholded_labels
from .errors import ConfigError, DataError
from .evaluation import dataset_metrics, predict_proba_batched
from .metrics import tune_thresholds
from .operating_points import BEST_F1, at_thresholds, check_supported, check_target, pick_thresholds
from .progress import stage
from .registry import bump_card, resolve
from .tasks import MULTI_LABEL

HEADLINE_KEYS = ("roc_auc", "accuracy", "f1_macro")
MIN_ROWS_PER_LABEL = 2  # a user's file: one row of each label for each half at the least


@dataclass
class CalibrationResult:
    """What ``calibrate_model`` changed: the new card, the test split's calibration metrics before and after,
    the thresholds before and after, the operating point (None when no target was given), and what the "test"
    figures were measured on (the test split, or the held-back half of a user's file)."""

    card: ModelCard
    calibrator: Calibrator | None
    test: dict[str, dict[str, Any]]
    thresholds_before: dict[str, float]
    operating_point: dict[str, Any] | None
    measured_on: str = "test split"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.card.name,
            "version": self.card.version,
            "previous_version": self.card.previous_version,
            "calibration": self.card.calibration,
            "measured_on": self.measured_on,
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
    best_f1: bool = False,
    data: Dataset | None = None,
    bump: str = "minor",
    n_bins: int = ECE_BINS,
) -> CalibrationResult:
    """Fit ``method`` (``temperature`` or ``isotonic``; None keeps the model's scores as they are and only picks
    thresholds) on the validation split of the model's own data, pick thresholds for the target precision or
    recall if one is given (or, with ``best_f1``, the ones maximising F1, as training picks them), and save the
    model as its next version (``bump``: major, minor or patch). With ``data`` (labelled with the model's labels)
    one half of it takes the validation split's place and the other half the test split's."""
    from .backends import load_card

    target = check_target(target_precision, target_recall)
    if best_f1 and target is not None:
        raise ConfigError("give a target precision, a target recall or the best F1, not two of them")
    if method is None and target is None and not best_f1:
        raise ConfigError("nothing to do: give a calibration method, a target precision or recall, or the best F1")
    if method is not None and method not in METHODS:
        raise ConfigError(f"unknown calibration method '{method}'; use one of {', '.join(METHODS)}")
    card = resolve(name_or_path, models_dir)
    if target is not None or best_f1:
        check_supported(card.labels, card.problem_type)
    if data is not None:
        validation, test, note = file_halves(data, card)
        fitted_on, measured_on = f"half of {note}", "the other half of the file"
    else:
        splits, note = model_splits(card)
        if splits is None or not len(splits.validation) or not len(splits.test):
            why = note if splits is None else "its validation or test split is empty"
            raise ConfigError(f"model '{card.name}' has no validation split to calibrate on: {why}")
        validation, test = splits.validation, splits.test
        fitted_on, measured_on = f"validation split of {note}", "test split"
    card.verify_or_raise()
    classifier = load_card(card)
    with stage(f"Scoring {len(validation):,} texts to fit on and {len(test):,} to measure on"):
        val_raw = predict_proba_batched(classifier, validation.texts, description="validation", calibrated=False)
        test_raw = predict_proba_batched(classifier, test.texts, description="test", calibrated=False)

    calibrator = classifier.calibrator
    if method is not None:
        calibrator = fit_calibrator(method, validation.y, val_raw, card.labels, card.problem_type)
        part = "validation" if data is None else "file half"
        calibrator.fitted_on = {"split": part, "n": len(validation), "data": fitted_on}
    val_new, test_new = _apply(calibrator, val_raw), _apply(calibrator, test_raw)

    thresholds_before = dict(classifier.thresholds)
    previous_calibration = card.calibration or {}
    raw_thresholds = previous_calibration.get("raw_thresholds") or thresholds_before
    if target is None and not best_f1 and card.operating_point:  # keep the point the thresholds were picked for
        if card.operating_point["metric"] == BEST_F1:
            best_f1 = True
        else:
            target = (card.operating_point["metric"], float(card.operating_point["target"]))
    if best_f1:
        tuned = tune_thresholds(validation.y, val_new, card.labels, card.problem_type)
        deciding = thresholded_labels(card.labels, card.problem_type)
        thresholds = {**thresholds_before, **{lab: tuned[lab] for lab in deciding}}
    elif target is not None:
        thresholds = pick_thresholds(validation.y, val_new, card.labels, card.problem_type, *target)
        thresholds = {**thresholds_before, **thresholds}
    else:
        assert calibrator is not None
        thresholds = calibrator.map_thresholds(raw_thresholds, val_raw)

    test_report = {
        "before": _report(test, classifier.calibrate(test_raw), thresholds_before, n_bins),
        "after": _report(test, test_new, thresholds, n_bins),
    }
    if method is not None:
        assert calibrator is not None
        _save_calibrator(card, calibrator, raw_thresholds, test_report, n_bins)
    operating_point = None
    if target is not None or best_f1:
        operating_point = {
            "metric": BEST_F1 if target is None else target[0],
            "target": "max" if target is None else target[1],
            "picked_on": fitted_on,
            "calibrated": calibrator is not None,
            "picked_at": now_iso(),
            "validation": at_thresholds(validation.y, val_new, card.labels, card.problem_type, thresholds),
            "test": at_thresholds(test.y, test_new, card.labels, card.problem_type, thresholds),
        }
        card.operating_point = operating_point
    card.thresholds = thresholds
    if data is None:
        card.metrics.update(
            validation=dataset_metrics(validation, val_new, thresholds),
            test=dataset_metrics(test, test_new, thresholds),
        )
    else:
        card.metrics["calibration_data"] = {
            "fit": dataset_metrics(validation, val_new, thresholds),
            "check": dataset_metrics(test, test_new, thresholds),
        }
        _remeasure_own_splits(card, classifier, calibrator, thresholds)
    bump_card(card, bump, models_dir)
    return CalibrationResult(card, calibrator, test_report, thresholds_before, operating_point, measured_on)


def _remeasure_own_splits(card: ModelCard, classifier, calibrator: Calibrator | None, thresholds: dict) -> None:
    """After calibrating on a user's file, the card's figures on the model's own validation and test splits at
    the new scores and thresholds; where those splits cannot be rebuilt here the old figures are dropped rather
    than left describing decisions the model no longer makes."""
    splits, _ = model_splits(card)
    if splits is None or not len(splits.validation) or not len(splits.test):
        card.metrics.pop("validation", None)
        card.metrics.pop("test", None)
        return
    with stage(f"Re-measuring the model's own validation and test splits ({len(splits.test):,} test texts)"):
        for name, part in (("validation", splits.validation), ("test", splits.test)):
            raw = predict_proba_batched(classifier, part.texts, description=name, calibrated=False)
            card.metrics[name] = dataset_metrics(part, _apply(calibrator, raw), thresholds)


def file_halves(data: Dataset, card: ModelCard) -> tuple[Dataset, Dataset, str]:
    """A user's labelled file split into two seeded, stratified halves (the first fits, the second measures) and
    a note naming the file; an error naming the file when its labels are not the model's or a label has too few
    rows for both halves."""
    if list(data.labels) != list(card.labels) or data.problem_type != card.problem_type:
        raise DataError(f"its labels {list(data.labels)} are not the model's {list(card.labels)}", path=data.source)
    if data.problem_type != MULTI_LABEL:
        counts = np.bincount(np.asarray(data.y, dtype=int), minlength=len(data.labels))
        for label, count in zip(data.labels, counts, strict=True):
            if count < MIN_ROWS_PER_LABEL:
                raise DataError(
                    f"label '{label}' has {count} row(s); calibrating on a file needs at least "
                    f"{MIN_ROWS_PER_LABEL} of each label (it fits on one half and measures on the other)",
                    path=data.source,
                )
    parts = split_assignment(data.y, data.problem_type, SEED, fractions=(0.5, 0.5))
    fit, check = (data.subset(np.flatnonzero(parts == i), name) for i, name in enumerate(("fit", "check")))
    return fit, check, f"{data.source} ({len(fit):,} of its {len(data):,} rows, seed {SEED})"


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
