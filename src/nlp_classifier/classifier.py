"""The one interface every model family implements, and the ``Prediction`` it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from .calibrators import Calibrator, load_calibrator
from .card import ModelCard
from .decision import decide, thresholds_or_default
from .errors import ConfigError
from .obfuscation import reader_for
from .tasks import harmless_labels

if TYPE_CHECKING:
    from .explain import Explanation


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
    ``labels``: softmax rows for single-label models, independent sigmoids for multi-label ones. A model
    calibrated with ``nlpc calibrate`` has its calibrator applied here, after the backend's scores, so every
    backend returns calibrated probabilities."""

    backend: str = "unknown"
    # The explanation methods this classifier supports, its default first (``explain.METHODS``).
    explain_methods: tuple[str, ...] = ("occlusion",)

    def __init__(self, card: ModelCard):
        self.card = card
        self.calibrator: Calibrator | None = load_calibrator(card) if card.path is not None else None
        self.reader = reader_for(card.read_obfuscation) if card.read_obfuscation else None

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
        """The card's per-label decision thresholds, ``decision.DEFAULT_THRESHOLD`` where it has none."""
        return thresholds_or_default(self.labels, self.card.thresholds)

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        """The family-specific scoring of a non-empty list of texts."""

    def predict_proba(self, texts: Sequence[str] | str, *, calibrated: bool = True) -> np.ndarray:
        """Probabilities, one row per text, one column per label; ``calibrated=False`` gives the backend's own
        scores, before the model's calibrator (if it has one)."""
        texts = self._check_texts(texts)
        if not texts:
            return np.zeros((0, len(self.labels)))
        raw = np.asarray(self._predict_proba(self.read(texts)), dtype=float)
        return self.calibrate(raw) if calibrated else raw

    def read(self, texts: list[str]) -> list[str]:
        """The texts as the model scores them: disguised words read back when the model reads obfuscation
        (``ModelCard.read_obfuscation``), else as they are."""
        return texts if self.reader is None else self.reader.read_texts(texts)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """The model's calibrator applied to raw probabilities (unchanged when it has none)."""
        return raw if self.calibrator is None else self.calibrator.apply(raw)

    def predict(
        self,
        texts: Sequence[str] | str,
        *,
        threshold: float | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> list[Prediction]:
        """Label(s) and scores for each text. ``threshold`` overrides every label's threshold and
        ``thresholds`` single labels; for a binary single-label model they apply to the positive (second)
        label, for a multi-class one the arg-max decides (``decision.decide``)."""
        proba = self.predict_proba(texts)
        labels = self.labels
        made = decide(
            proba, labels, self.problem_type, self.resolve_thresholds(threshold, thresholds), self.harmless_labels
        )
        return [
            Prediction(label, confidence, dict(zip(labels, row)), flagged)
            for label, confidence, row, flagged in zip(
                made.predicted_labels(labels), made.confidence.tolist(), proba.tolist(), made.flagged_labels(labels)
            )
        ]

    def explain(
        self, texts: Sequence[str] | str, label: str | None = None, *, method: str | None = None
    ) -> list[Explanation]:
        """Why each text got its score for ``label`` (default: the predicted label, or for a multi-label model
        with nothing flagged the highest-scoring one): one ``Explanation`` per text with a signed score for
        every word. ``method``: ``linear``, ``occlusion`` or ``integrated_gradients`` (default: the first of
        ``explain_methods``: linear for linear TF-IDF models, occlusion otherwise)."""
        from .explain import explain

        return explain(self, texts, label, method=method)

    def resolve_thresholds(
        self, threshold: float | None = None, thresholds: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """The thresholds in force for one call, after checking the overrides."""
        limits = self.thresholds
        if threshold is not None:
            if not 0.0 <= threshold <= 1.0:  # one threshold for every label: say so, not the first label's name
                raise ConfigError(f"the threshold must be between 0 and 1, got {threshold}")
            limits = {lab: float(threshold) for lab in self.labels}
        for lab, value in (thresholds or {}).items():
            if lab not in limits:
                raise ConfigError(f"unknown label '{lab}' in thresholds; labels are: {', '.join(self.labels)}")
            limits[lab] = float(value)
        for lab, value in limits.items():
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"threshold for '{lab}' must be between 0 and 1, got {value}")
        return limits

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
        return (
            f"<{type(self).__name__} {self.name!r} task={self.card.task} backend={self.backend} labels={self.labels}>"
        )
