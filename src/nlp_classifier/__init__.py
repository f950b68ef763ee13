"""nlp-classifier: self-hosted hate-speech and toxicity classification.

>>> import nlp_classifier
>>> clf = nlp_classifier.load("logistic_regression")
>>> clf.predict(["have a nice day"])[0].label
'Regular Speech'
"""

from __future__ import annotations

from pathlib import Path

from .classifier import Classifier, Prediction
from .errors import ConfigError, DataError, IntegrityError, ModelNotFoundError, NlpcError

__version__ = "0.1.0"
__all__ = [
    "load",
    "Classifier",
    "Prediction",
    "NlpcError",
    "DataError",
    "ConfigError",
    "IntegrityError",
    "ModelNotFoundError",
    "__version__",
]


def load(
    name_or_path: str | Path,
    *,
    backend: str | None = None,
    models_dir: str | Path | None = None,
    verify: bool = True,
    **options,
) -> Classifier:
    """Load a model by registry name or path. The sha256 of every file is checked against its card before
    anything is unpickled (``verify=False`` skips that). ``backend`` picks an implementation where a family has
    several (e.g. ``torch``, ``onnx``, ``onnx-int8``); by default the fastest available one."""
    from .backends import load_card
    from .registry import resolve

    card = resolve(name_or_path, models_dir)
    if verify:
        card.verify_or_raise()
    return load_card(card, backend=backend, **options)
