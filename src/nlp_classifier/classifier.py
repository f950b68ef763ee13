"""The one interface every model family implements, and the ``Prediction`` it returns."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

from .card import ModelCard
from .errors import ConfigError
from .tasks import MULTI_LABEL, harmless_labels

DEFAULT_THRESHOLD = 0.5


@dataclass
class Prediction:
    """One text's result. ``label`` is the predicted class (single-label) or the highest-scoring flagged label
    (multi-label; None when nothing is flagged); ``flagged`` lists the harmful labels decided for the text: the
    predicted class unless it is harmless (single-label), every label at or over its threshold (multi-label).
    A harmless label (``Classifier.harmless_labels``: not_hateful, Regular Speech, neither, ...) is never flagged."""

    label: str | None
    confidence: float
    scores: dict[str, float]
    flagged: list[str]

    def to_dict(self) -> dict:
        """Plain data, for JSON."""
        return asdict(self)


class Classifier(ABC):
    """Texts in, probabilities out. ``predict_proba`` returns an (n_texts, n_labels) array whose columns follow
    ``labels``: softmax rows for single-label models, independent sigmoids for multi-label ones."""

    backend: str = "unknown"

    def __init__(self, card: ModelCard):
        self.card = card

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @property
    def problem_type(self) -> str:
        return self.card.problem_type

    @property
    def harmless_labels(self) -> frozenset[str]:
        """The labels that mean "nothing harmful" and are never flagged (``tasks.harmless_labels``)."""
        return harmless_labels(self.labels, self.card.task)

    @property
    def thresholds(self) -> dict[str, float]:
        """The card's per-label decision thresholds, 0.5 where it has none."""
        saved = self.card.thresholds or {}
        return {lab: float(saved.get(lab, DEFAULT_THRESHOLD)) for lab in self.labels}

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """The family-specific scoring of a non-empty list of texts."""

    def predict_proba(self, texts: Sequence[str] | str) -> np.ndarray:
        """Probabilities, one row per text, one column per label."""
        texts = self._check_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)))
        return np.asarray(self._predict_proba(texts), dtype=float)

    def predict(self, texts: Sequence[str] | str, *, threshold: float | None = None,
                thresholds: Mapping[str, float] | None = None) -> list[Prediction]:
        """Label(s) and scores for each text. ``threshold`` overrides every label's threshold and
        ``thresholds`` single labels; for a binary single-label model they apply to the positive (second)
        label, for a multi-class one the arg-max decides."""
        proba = self.predict_proba(texts)
        limits = self.resolve_thresholds(threshold, thresholds)
        labels, harmless = self.labels, self.harmless_labels
        return [self._decide(row, labels, limits, harmless) for row in proba.tolist()]

    def resolve_thresholds(self, threshold: float | None = None,
                           thresholds: Mapping[str, float] | None = None) -> dict[str, float]:
        """The thresholds in force for one call, after checking the overrides."""
        limits = self.thresholds
        if threshold is not None:
            limits = {lab: float(threshold) for lab in self.labels}
        for lab, value in (thresholds or {}).items():
            if lab not in limits:
                raise ConfigError(f"unknown label '{lab}' in thresholds; labels are: {', '.join(self.labels)}")
            limits[lab] = float(value)
        for lab, value in limits.items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"threshold for '{lab}' must be between 0 and 1, got {value}")
        return limits

    def _decide(self, row: list[float], labels: list[str], limits: dict[str, float],
                harmless: frozenset[str]) -> Prediction:
        """One text's Prediction from its probabilities (plain floats, in ``labels`` order)."""
        scores = dict(zip(labels, row))
        if self.problem_type == MULTI_LABEL:
            flagged = [lab for lab in labels if scores[lab] >= limits[lab] and lab not in harmless]
            top = max(flagged, key=scores.__getitem__) if flagged else None
            confidence = scores[top] if top else 1.0 - max(row)
            return Prediction(top, confidence, scores, flagged)
        if len(labels) == 2:
            positive = labels[1]
            label = positive if scores[positive] >= limits[positive] else labels[0]
        else:
            label = labels[row.index(max(row))]  # the first maximum, as np.argmax
        return Prediction(label, scores[label], scores, [] if label in harmless else [label])

    @staticmethod
    def _check_texts(texts: Sequence[str] | str) -> list[str]:
        if isinstance(texts, str):
            return [texts]
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise ConfigError(f"text {i} is a {type(text).__name__}, expected a string")
        return texts

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name!r} task={self.card.task} backend={self.backend} "
                f"labels={self.labels}>")
