"""Estimators that saved models contain and inference unpickles, so they live outside ``training/``."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone


class PriorShiftedClassifier(ClassifierMixin, BaseEstimator):
    """A fitted multi-class classifier whose probabilities are multiplied by per-class weights and renormalised:
    a shift of the class priors (tuned on validation data) that moves the arg-max decision. It stays a plain
    scikit-learn estimator, so the saved pipeline's ``predict`` and ``predict_proba`` both include the shift."""

    def __init__(self, estimator=None, class_weights=None):
        self.estimator = estimator
        self.class_weights = class_weights

    def fit(self, X, y) -> PriorShiftedClassifier:
        """Fit a clone of ``estimator``; ``class_weights`` maps class names to multipliers (default 1)."""
        return self._shift(clone(self.estimator).fit(X, y))

    @classmethod
    def around(cls, fitted, weights: dict[str, float]) -> PriorShiftedClassifier:
        """Wrap an already fitted classifier; ``weights`` maps class names (as in ``fitted.classes_``) to
        multipliers."""
        return cls(fitted, dict(weights))._shift(fitted)

    def _shift(self, fitted) -> PriorShiftedClassifier:
        self.estimator_ = fitted
        self.classes_ = fitted.classes_
        self.weights_ = np.array([(self.class_weights or {}).get(str(c), 1.0) for c in fitted.classes_], dtype=float)
        return self

    def predict_proba(self, X) -> np.ndarray:
        proba = self.estimator_.predict_proba(X) * self.weights_
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
