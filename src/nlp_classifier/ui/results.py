"""Reading the API's prediction answers for display: scores by label, which labels to highlight, and where
each label's threshold sits (as the API applies it; the UI decides nothing itself)."""

from __future__ import annotations

from ..decision import DEFAULT_THRESHOLD, thresholded_labels
from .models import ModelInfo


def scores_of(result: dict) -> dict[str, float]:
    """``/predict``'s ``scores`` [{label, score}] as {label: score}, in the API's order."""
    return {str(s["label"]): float(s["score"]) for s in result.get("scores", [])}


def toxicity_scores_of(result: dict) -> dict[str, float]:
    """``/predict/toxicity``'s ``toxicity_scores`` [{category, score, flagged}] as {category: score}."""
    return {str(s["category"]): float(s["score"]) for s in result.get("toxicity_scores", [])}


def highlighted(result: dict) -> list[str]:
    """The labels the API flagged for this text (its ``flagged_labels``: harmful labels only, so a not_hateful
    or Regular Speech prediction highlights nothing)."""
    return list(result.get("flagged_labels") or [])


def thresholds_for(labels: list[str], info: ModelInfo | None, override: float | None) -> dict[str, float]:
    """Where to mark each label's threshold: every label of a multi-label model, the positive (second) label of
    a binary one, none for a multi-class one (the arg-max decides). An override replaces the model's own."""
    marked = thresholded_labels(labels, info.problem_type if info is not None else None)
    own = info.thresholds if info is not None else {}
    return {lab: override if override is not None else own.get(lab, DEFAULT_THRESHOLD) for lab in marked}
