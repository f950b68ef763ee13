"""The one decision rule, from probabilities to labels, used by everything that decides (``Classifier.predict``,
batch scoring, metrics, export agreement, and through them the CLI, API and UI): a binary single-label model
applies its threshold to the positive (second) label, a multi-class one takes the arg-max, a multi-label one
decides each label at or over its threshold. Harmless labels (``tasks.harmless_labels``) are never flagged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

import numpy as np

from .tasks import MULTI_LABEL

DEFAULT_THRESHOLD = 0.5
"""The decision threshold of a label that has no saved (tuned) one."""


def thresholds_or_default(labels: Sequence[str], saved: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every label's threshold: the saved one where there is one, ``DEFAULT_THRESHOLD`` elsewhere."""
    saved = saved or {}
    return {lab: float(saved.get(lab, DEFAULT_THRESHOLD)) for lab in labels}


def thresholded_labels(labels: Sequence[str], problem_type: str | None) -> list[str]:
    """The labels whose threshold takes part in the decision: every label of a multi-label model, the positive
    (second) label of a binary one, none of a multi-class one (the arg-max decides)."""
    if problem_type == MULTI_LABEL:
        return list(labels)
    return list(labels[1:]) if len(labels) == 2 else []


@dataclass(frozen=True)
class Decisions:
    """What the rule decided for n texts and k labels.

    ``chosen``: the raw decision, (n,) class ids (single-label) or an (n, k) 0/1 matrix (multi-label), harmless
    labels included (what metrics score); ``flagged``: (n, k) booleans, the harmful labels decided for each text;
    ``label_ids``: (n,) the predicted label of each text, for a multi-label model the highest-scoring flagged one
    (-1 when nothing is flagged); ``confidence``: (n,) the predicted label's probability, or for a multi-label
    text with nothing flagged one minus its highest probability."""

    chosen: np.ndarray
    flagged: np.ndarray
    label_ids: np.ndarray
    confidence: np.ndarray

    def predicted_labels(self, labels: Sequence[str], nothing: str | None = None) -> list[str | None]:
        """Each text's predicted label name; ``nothing`` for a multi-label text with nothing flagged."""
        return [labels[i] if i >= 0 else nothing for i in self.label_ids.tolist()]

    def flagged_labels(self, labels: Sequence[str]) -> list[list[str]]:
        """Each text's flagged label names, in label order."""
        return [[lab for lab, on in zip(labels, row) if on] for row in self.flagged.tolist()]


def decide(
    proba: np.ndarray,
    labels: Sequence[str],
    problem_type: str,
    thresholds: Mapping[str, float] | None = None,
    harmless: Set[str] = frozenset(),
) -> Decisions:
    """Apply the decision rule to an (n, k) probability array whose columns follow ``labels``; ``thresholds``
    maps labels to thresholds (``DEFAULT_THRESHOLD`` for a missing one), ``harmless`` names labels never
    flagged."""
    proba = np.asarray(proba, dtype=float).reshape(-1, len(labels))
    limits = np.array(list(thresholds_or_default(labels, thresholds).values()))
    harmful = np.array([lab not in harmless for lab in labels], dtype=bool)
    rows = np.arange(len(proba))
    if problem_type == MULTI_LABEL:
        chosen = (proba >= limits).astype(int)
        flagged = chosen.astype(bool) & harmful
        label_ids = np.where(flagged.any(axis=1), np.where(flagged, proba, -1.0).argmax(axis=1), -1)
        fallback = 1.0 - proba.max(axis=1)
    else:
        chosen = (proba[:, 1] >= limits[1]).astype(int) if len(labels) == 2 else proba.argmax(axis=1)
        flagged = (np.arange(len(labels)) == chosen[:, None]) & harmful
        label_ids = chosen
        fallback = np.zeros(len(proba))
    confidence = np.where(label_ids >= 0, proba[rows, np.maximum(label_ids, 0)], fallback)
    return Decisions(chosen, flagged, label_ids, confidence)
