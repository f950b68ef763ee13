"""TF-IDF baselines: plain scikit-learn pipelines saved with joblib.

Two backends: ``fast`` (the default) scores with ``tfidf_fast``, the pipeline's own arithmetic done directly on
sparse rows (identical results, several times quicker for one text); ``sklearn`` calls the pipeline itself.
A pipeline the fast path does not recognise is served by the plain pipeline whatever was asked.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import joblib
import numpy as np

from ..card import ModelCard
from ..classifier import Classifier
from ..errors import ConfigError
from ..tasks import MULTI_LABEL

if TYPE_CHECKING:
    from .tfidf_fast import FastTfidf

BACKENDS = ("fast", "sklearn")


class SklearnClassifier(Classifier):
    """A scikit-learn pipeline whose classes are the card's labels (single-label) or whose outputs are the
    card's labels in order (multi-label one-vs-rest)."""

    backend = "sklearn"

    def __init__(self, card: ModelCard, pipeline):
        super().__init__(card)
        self.pipeline = pipeline
        if card.problem_type == MULTI_LABEL:
            self._columns = None
        else:
            classes = [str(c) for c in pipeline.classes_]
            missing = set(card.labels) - set(classes)
            if missing:
                raise ConfigError(
                    f"{card.artifact_path}: pipeline classes {classes} do not match the card's labels {card.labels}"
                )
            self._columns = [classes.index(lab) for lab in card.labels]

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        proba = self.pipeline.predict_proba(texts)
        return proba if self._columns is None else proba[:, self._columns]

    @cached_property
    def _compiled(self) -> FastTfidf | None:
        from .tfidf_fast import Unsupported, compile_pipeline

        try:
            return compile_pipeline(self.pipeline)
        except Unsupported:
            return None

    @property
    def explain_methods(self) -> tuple[str, ...]:  # type: ignore[override]
        """Linear contributions when the pipeline is one the fast path reads (every pipeline nlpc trains),
        occlusion always."""
        return ("linear", "occlusion") if self._compiled is not None else ("occlusion",)

    def linear_model(self) -> FastTfidf:
        """The pipeline's compiled arithmetic, whose decision weights the linear explanation reads."""
        if self._compiled is None:
            raise ConfigError(f"model '{self.name}' is not a TF-IDF linear pipeline; it cannot be explained linearly")
        return self._compiled

    def output_column(self, label: str) -> int:
        """The column of the pipeline's ``predict_proba`` that holds ``label``."""
        index = self.labels.index(label)
        return index if self._columns is None else self._columns[index]


class FastSklearnClassifier(SklearnClassifier):
    """The same pipeline scored by its compiled fast path (``tfidf_fast``): identical probabilities."""

    backend = "fast"

    def __init__(self, card: ModelCard, pipeline, fast):
        super().__init__(card, pipeline)
        self.fast = fast
        self.__dict__["_compiled"] = fast  # the linear explanation reads the same compiled pipeline

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        proba = self.fast.predict_proba(texts)
        return proba if self._columns is None else proba[:, self._columns]


def load(card: ModelCard, backend: str | None = None, **options) -> SklearnClassifier:
    """Unpickle the pipeline (the caller has verified its hash against the card). ``backend``: ``fast``
    (default) or ``sklearn``; other options are accepted and ignored, so callers can pass e.g. thread counts
    to any model."""
    if backend not in (None, *BACKENDS):
        raise ConfigError(f"backend '{backend}' is not available for TF-IDF models; use one of {BACKENDS}")
    pipeline = joblib.load(card.artifact_path)
    if backend == "sklearn":
        return SklearnClassifier(card, pipeline)
    from .tfidf_fast import Unsupported, compile_pipeline

    try:
        return FastSklearnClassifier(card, pipeline, compile_pipeline(pipeline))
    except Unsupported:
        return SklearnClassifier(card, pipeline)
