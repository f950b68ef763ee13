"""``set_obfuscation_reading``: switch a saved model's reading of disguised words (``obfuscation``) on or off,
measure what that changes on its validation and test splits, and publish the result as the model's next version.

Only the texts the reading rewrites are scored twice; the card's validation and test metrics are replaced by
those of the model as it now reads texts, and the card keeps the before/after headline figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .card import ModelCard, now_iso
from .data import Dataset
from .data.model_data import model_splits
from .errors import ConfigError
from .evaluation import dataset_metrics, predict_proba_batched
from .obfuscation import lexicon_sha256, reader_for
from .progress import stage
from .registry import bump_card, resolve

HEADLINE_KEYS = ("accuracy", "f1_macro", "roc_auc")


@dataclass
class ReadingResult:
    """The new card and, per split, the number of texts the reading changed and the headline metrics before and
    after (empty when the model's data is not available)."""

    card: ModelCard
    changed: dict[str, int]
    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.card.name,
            "version": self.card.version,
            "previous_version": self.card.previous_version,
            "read_obfuscation": self.card.read_obfuscation,
            "changed_texts": self.changed,
            "before": self.before,
            "after": self.after,
        }


def set_obfuscation_reading(
    name_or_path: str | Path,
    on: bool,
    *,
    models_dir: str | Path | None = None,
    backend: str | None = None,
    bump: str = "patch",
) -> ReadingResult:
    """Make the model read disguised words (``on``) against the installed lexicon, or score texts as written;
    re-measure its validation and test splits with ``backend`` (default: the fastest it has) and save it as its
    next version. A model already in the asked state is refused."""
    from .backends import load_card

    card = resolve(name_or_path, models_dir)
    wanted = lexicon_sha256() if on else None
    if card.read_obfuscation == wanted:
        state = "already reads obfuscated words with this lexicon" if on else "does not read obfuscated words"
        raise ConfigError(f"model '{card.name}' {state}; nothing to change")
    card.verify_or_raise()
    card.read_obfuscation = None  # load as written; the reading is switched on the loaded classifier below
    classifier = load_card(card, backend=backend)
    reader = reader_for(lexicon_sha256())  # the installed lexicon's reader, as loaded models share it
    splits, note = model_splits(card)
    changed: dict[str, int] = {}
    before: dict[str, dict[str, Any]] = {}
    after: dict[str, dict[str, Any]] = {}
    if splits is not None:
        thresholds = classifier.thresholds
        for part in ("validation", "test"):
            data: Dataset = splits.part(part)
            if not len(data):
                continue
            with stage(f"Scoring {len(data):,} {part} texts as written and as read"):
                plain = predict_proba_batched(classifier, data.texts, description=part)
                read = reader.read_texts(data.texts)
                rows = np.flatnonzero([a != b for a, b in zip(data.texts, read)])
                proba = plain.copy()
                if len(rows):
                    proba[rows] = predict_proba_batched(classifier, [read[i] for i in rows], description=part)
            changed[part] = len(rows)
            before_metrics = dataset_metrics(data, plain if on else proba, thresholds)
            after_metrics = dataset_metrics(data, proba if on else plain, thresholds)
            before[part] = {k: before_metrics.get(k) for k in HEADLINE_KEYS}
            after[part] = {k: after_metrics.get(k) for k in HEADLINE_KEYS}
            card.metrics[part] = after_metrics
    card.read_obfuscation = wanted
    card.extra["obfuscation_reading"] = {
        "switched": "on" if on else "off",
        "at": now_iso(),
        "backend": classifier.backend,
        "measured_on": note if splits is not None else None,
        "changed_texts": changed,
        "before": before,
        "after": after,
    }
    bump_card(card, bump, models_dir)
    return ReadingResult(card, changed, before, after)
