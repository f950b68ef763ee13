"""Post-hoc calibrators fitted on a model's validation split, saved beside the model as a small JSON file and
applied by ``Classifier.predict_proba`` to the probabilities of every backend.

``temperature`` divides the logits by a fitted temperature T (minimising the validation log-loss): for a
single-label model the logits are the log-probabilities and the rows are soft-maxed again (binary and
multi-class), for a multi-label model each label has its own T on its logit log(p / (1 - p)). A positive
monotone map of each score, so a binary or multi-label model's ranking, and so its ROC-AUC, is unchanged, and a
multi-class model keeps each text's arg-max (its per-class one-vs-rest AUC can move slightly, as the other
classes' scores enter the softmax).

``isotonic`` fits scikit-learn's IsotonicRegression per label: on the positive class of a binary model (the
negative class is one minus it), on each label of a multi-label model, and one-vs-rest on each class of a
multi-class model, whose rows are then divided by their sum (a row every map sends to 0 keeps its raw
probabilities). The maps are non-decreasing step functions (linearly interpolated between the fitted points,
clipped outside them): no pair of texts changes order, but texts in the same step tie, so ROC-AUC can move a
little either way (ties count one half). A threshold that falls on a step is moved to the side of it that keeps the raw
decisions (``map_thresholds``). A label without both outcomes in the validation split is left as it
is (temperature 1, no isotonic map).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .card import FILE_CARD_SUFFIX, ModelCard
from .errors import ConfigError, IntegrityError
from .fileio import read_json, write_json
from .tasks import MULTI_LABEL

METHODS = ("temperature", "isotonic")
FORMAT = "nlp-classifier calibrator"
FORMAT_VERSION = 1
FOLDER_FILE = "calibration.json"
FILE_SUFFIX = ".calibration.json"
LOG_T_BOUNDS = (-5.0, 5.0)  # temperatures searched: e^-5 .. e^5
_TINY = np.finfo(float).tiny
_BELOW_ONE = 1.0 - np.finfo(float).epsneg


def _log_proba(proba: np.ndarray) -> np.ndarray:
    return np.log(np.clip(proba, _TINY, 1.0))


def _logit(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba, _TINY, _BELOW_ONE)
    return np.log(p) - np.log1p(-p)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _side_of_step(threshold: float, calibrated: np.ndarray, raw_decisions: np.ndarray) -> float:
    """``threshold`` (texts scoring at it are flagged) or the next float above it (they are not), whichever makes
    ``calibrated >= threshold`` agree with ``raw_decisions`` for more texts; ``threshold`` on a tie."""
    above = float(np.nextafter(threshold, np.inf))
    kept_at, kept_above = (int(np.sum((calibrated >= t) == raw_decisions)) for t in (threshold, above))
    return above if kept_above > kept_at else float(threshold)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(z)


@dataclass
class Calibrator:
    """A fitted calibrator for the model whose labels and problem type it records.

    ``temperature``: ``params["temperature"]`` (single-label) or ``params["temperatures"]`` (label -> T,
    multi-label). ``isotonic``: ``params["isotonic"]``, label -> {"x": [...], "y": [...]}, the fitted points of
    each calibrated column."""

    method: str
    labels: list[str]
    problem_type: str
    params: dict[str, Any]
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def apply(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw (n, n_labels) ones."""
        proba = np.asarray(proba, dtype=float)
        if proba.size == 0:
            return proba
        if self.method == "temperature":
            return self._apply_temperature(proba)
        return self._apply_isotonic(proba)

    def _apply_temperature(self, proba: np.ndarray) -> np.ndarray:
        if self.problem_type == MULTI_LABEL:
            temps = np.array([self.params["temperatures"][lab] for lab in self.labels], dtype=float)
            return _sigmoid(_logit(proba) / temps)
        return _softmax(_log_proba(proba) / float(self.params["temperature"]))

    def _apply_isotonic(self, proba: np.ndarray) -> np.ndarray:
        maps = self.params["isotonic"]
        out = proba.copy()
        for i, lab in enumerate(self.labels):
            if maps.get(lab) is not None:
                out[:, i] = np.interp(proba[:, i], maps[lab]["x"], maps[lab]["y"])
        if self.problem_type == MULTI_LABEL:
            return out
        if len(self.labels) == 2:
            out[:, 0] = 1.0 - out[:, 1]
            return out
        sums = out.sum(axis=1, keepdims=True)
        return np.where(sums > 0, out / np.where(sums > 0, sums, 1.0), proba)

    def map_thresholds(self, thresholds: Mapping[str, float], proba: np.ndarray | None = None) -> dict[str, float]:
        """The decision thresholds on the calibrated scale that make the decisions the raw ``thresholds`` made:
        each threshold goes through the same map as a score (binary: the positive class; multi-label: each
        label). Exact for temperature scaling. An isotonic map is flat over a step, so the texts in the
        threshold's step tie with it and would all be flagged; given ``proba``, raw (n, n_labels) scores such as
        the validation split's, a threshold on a step is put at the step's value or just above it, whichever
        decides more of those texts as the raw threshold did. A multi-class model's thresholds take no part in
        its decisions and are kept."""
        out = {lab: float(t) for lab, t in thresholds.items()}
        if self.problem_type == MULTI_LABEL:
            row, columns = np.array([[out[lab] for lab in self.labels]]), list(range(len(self.labels)))
        elif len(self.labels) == 2:
            row, columns = np.array([[1.0 - out[self.labels[1]], out[self.labels[1]]]]), [1]
        else:
            return out
        mapped = self.apply(row)[0]
        if proba is not None and self.method == "isotonic":
            scores = np.asarray(proba, dtype=float)
            calibrated = self.apply(scores)
            for i in columns:
                raw_decisions = scores[:, i] >= out[self.labels[i]]
                mapped[i] = _side_of_step(mapped[i], calibrated[:, i], raw_decisions)
        out.update((self.labels[i], float(mapped[i])) for i in columns)
        return out

    def summary(self) -> str:
        """One line: the method and its fitted values."""
        if self.method == "temperature":
            if self.problem_type == MULTI_LABEL:
                temps = ", ".join(f"{lab} {t:.3f}" for lab, t in self.params["temperatures"].items())
                return f"temperature scaling per label: {temps}"
            return f"temperature scaling, T = {self.params['temperature']:.4f}"
        steps = {lab: len(m["x"]) for lab, m in self.params["isotonic"].items() if m is not None}
        return "isotonic regression, fitted points per label: " + ", ".join(f"{k} {v}" for k, v in steps.items())

    # --- files ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "method": self.method,
            "labels": list(self.labels),
            "problem_type": self.problem_type,
            "params": self.params,
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "calibrator") -> Calibrator:
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"{where}: not a calibrator file of format version {FORMAT_VERSION}")
        if data.get("method") not in METHODS:
            raise ConfigError(f"{where}: unknown calibration method '{data.get('method')}'")
        return cls(data["method"], list(data["labels"]), data["problem_type"], data["params"], data["fitted_on"])

    def save(self, path: Path) -> None:
        write_json(path, self.to_dict())


def calibrator_file(card: ModelCard) -> str:
    """Where a model keeps its calibrator, relative to its card: ``calibration.json`` inside a folder model,
    ``<name>.calibration.json`` beside a one-file model's card."""
    if card.artifact_path.is_dir():
        return (card.artifact_path / FOLDER_FILE).relative_to(card.root).as_posix()
    assert card.path is not None
    return card.path.name.removesuffix(FILE_CARD_SUFFIX) + FILE_SUFFIX


def load_calibrator(card: ModelCard) -> Calibrator | None:
    """The calibrator the card names (``card.calibration["file"]``), or None. The file must be pinned in the
    card's ``files`` (its sha256 is checked with the rest when the model is verified) and fit the card's
    labels."""
    record = card.calibration
    if not record:
        return None
    rel = record.get("file")
    if not rel or rel not in card.files:
        raise IntegrityError(f"model '{card.name}': its calibrator {rel} is not pinned in the card's files")
    path = card.root / rel
    if not path.is_file():
        raise IntegrityError(f"model '{card.name}': its calibrator {path} is missing")
    calibrator = Calibrator.from_dict(read_json(path), str(path))
    if calibrator.labels != list(card.labels) or calibrator.problem_type != card.problem_type:
        raise ConfigError(f"{path}: fitted for labels {calibrator.labels}, the model has {card.labels}")
    return calibrator


# --- fitting ---------------------------------------------------------------------------------------------
def fit_calibrator(
    method: str, y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], problem_type: str
) -> Calibrator:
    """Fit ``method`` (temperature or isotonic) to raw validation probabilities ``proba`` and targets."""
    if method not in METHODS:
        raise ConfigError(f"unknown calibration method '{method}'; use one of {', '.join(METHODS)}")
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    if len(proba) == 0:
        raise ConfigError("cannot calibrate on an empty validation split")
    labels = list(labels)
    fit = _fit_temperature if method == "temperature" else _fit_isotonic
    return Calibrator(method, labels, problem_type, fit(y_true, proba, labels, problem_type))


def _has_both(y: np.ndarray) -> bool:
    return bool(0 < y.sum() < len(y))


def _best_temperature(loss) -> float:
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(lambda log_t: loss(np.exp(log_t)), bounds=LOG_T_BOUNDS, method="bounded")
    return float(np.exp(result.x))


def _binary_log_loss(y: np.ndarray, z: np.ndarray):
    """The log-loss of sigmoid(z / T) against the 0/1 targets ``y``, as a function of T."""
    from scipy.special import log_expit

    return lambda t: -np.mean(y * log_expit(z / t) + (1 - y) * log_expit(-z / t))


def _fit_temperature(y_true, proba, labels, problem_type) -> dict[str, Any]:
    from scipy.special import log_softmax

    if problem_type == MULTI_LABEL:
        temps = {}
        for i, lab in enumerate(labels):
            y, z = y_true[:, i].astype(float), _logit(proba[:, i])
            if not _has_both(y):
                temps[lab] = 1.0
                continue
            temps[lab] = _best_temperature(_binary_log_loss(y, z))
        return {"temperatures": temps}
    z, rows, ids = _log_proba(proba), np.arange(len(proba)), np.asarray(y_true, dtype=int)
    return {"temperature": _best_temperature(lambda t: -np.mean(log_softmax(z / t, axis=1)[rows, ids]))}


def _fit_isotonic(y_true, proba, labels, problem_type) -> dict[str, Any]:
    from sklearn.isotonic import IsotonicRegression

    if problem_type == MULTI_LABEL:
        columns = range(len(labels))
    else:
        columns = range(1, 2) if len(labels) == 2 else range(len(labels))
    maps: dict[str, Any] = {}
    for i in columns:
        y = y_true[:, i] if problem_type == MULTI_LABEL else (np.asarray(y_true) == i).astype(int)
        if not _has_both(y):
            maps[labels[i]] = None
            continue
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba[:, i], y)
        maps[labels[i]] = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    return {"isotonic": maps}
