"""The uncertainty band that sends a prediction to the review queue, and the queue's priority.

A prediction's *review score* is its highest score among the harmful labels (every label a model may flag;
``tasks.harmless_labels`` decides which are harmless): the probability that the text is a problem. It is queued
when that score falls inside the band (inclusive), e.g. ``0.35-0.65``. Priority is the uncertainty: 1 at the
middle of the band, 0 at its edges and outside it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import ConfigError

Band = tuple[float, float]


def parse_band(text: str, setting: str = "NLPC_REVIEW_BAND") -> Band:
    """``"0.35-0.65"`` as ``(0.35, 0.65)``; anything else is a ``ConfigError`` naming ``setting``."""
    parts = text.strip().split("-")
    try:
        if len(parts) != 2:
            raise ValueError
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"{setting}: expected LOW-HIGH such as 0.35-0.65, got {text!r}") from None
    if not 0.0 <= low <= high <= 1.0:
        raise ConfigError(f"{setting}: expected 0 <= LOW <= HIGH <= 1, got {text!r}")
    return low, high


def review_score(scores: Mapping[str, float], harmless: Iterable[str]) -> float:
    """The highest score among the labels that are not harmless (0 when every label is harmless)."""
    skip = set(harmless)
    return max((score for label, score in scores.items() if label not in skip), default=0.0)


def in_band(score: float, band: Band) -> bool:
    return band[0] <= score <= band[1]


def uncertainty(score: float, band: Band) -> float:
    """1 at the band's middle, falling linearly to 0 at its edges; 0 outside it."""
    low, high = band
    if not in_band(score, band):
        return 0.0
    half = (high - low) / 2
    if half == 0:
        return 1.0
    return round(max(0.0, 1.0 - abs(score - (low + half)) / half), 6)
