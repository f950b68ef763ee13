"""One backend module per model family. Each exposes ``load(card, backend=None, **options) -> Classifier``
and may expose ``card_for_uncarded(path) -> ModelCard | None`` for model folders saved without our card.
Modules are imported lazily so a baseline-only install never imports torch."""

from __future__ import annotations

import importlib
from pathlib import Path

from ..card import ModelCard
from ..errors import ConfigError, ModelLoadError, NlpcError

FAMILY_MODULES = {
    "tfidf": "nlp_classifier.backends.sklearn_backend",
    "transformer": "nlp_classifier.backends.transformer_backend",
}


def backend_module(family: str):
    """The module implementing ``family``."""
    if family not in FAMILY_MODULES:
        raise ConfigError(f"unknown model family '{family}'; known: {', '.join(FAMILY_MODULES)}")
    return importlib.import_module(FAMILY_MODULES[family])


def load_card(card: ModelCard, backend: str | None = None, **options):
    """A Classifier for ``card`` from its family's backend; a failure inside the backend (unpickling, corrupt
    weights, a library missing) is a ``ModelLoadError`` naming the model and its file."""
    module = backend_module(card.family)
    try:
        return module.load(card, backend=backend, **options)
    except NlpcError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"{card.artifact_path}: model '{card.name}' could not be loaded: {type(exc).__name__}: {exc}"
        ) from exc


def card_for_uncarded(path: Path) -> ModelCard | None:
    """A card synthesised by the first family that recognises a model saved without one."""
    for family in FAMILY_MODULES:
        try:
            module = backend_module(family)
        except ImportError:
            continue
        make = getattr(module, "card_for_uncarded", None)
        card = make(path) if make else None
        if card is not None:
            return card
    return None
