"""Token-level explanations: which words of a text pushed a model towards (or away from) a label.

``Classifier.explain(texts, label=None, method=None)`` is the entry point; it returns one ``Explanation`` per
text, with a ``WordAttribution`` for every word (character offsets into the original text). Methods:
``linear`` (exact per-feature contributions of a TF-IDF linear model, ``linear.py``), ``occlusion`` (the score
drop when a word is removed, any model, ``occlusion.py``) and ``integrated_gradients`` (captum, transformers run
with PyTorch, ``gradients.py``). ``method=None`` takes the classifier's first method: linear for linear models,
occlusion otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError
from .types import METHODS, Explanation, WordAttribution
from .words import split_words

if TYPE_CHECKING:
    from ..classifier import Classifier

__all__ = ["METHODS", "Explanation", "WordAttribution", "check_method", "explain", "split_words"]


def check_method(classifier: Classifier, method: str | None) -> str:
    """The method to use for ``classifier``: ``method`` when the classifier supports it, its default when None;
    a ConfigError naming the choices otherwise."""
    available = classifier.explain_methods
    if method is None:
        return available[0]
    if method not in METHODS:
        raise ConfigError(f"unknown explanation method '{method}'; use one of {', '.join(METHODS)}")
    if method not in available:
        raise ConfigError(
            f"explanation method '{method}' is not available for model '{classifier.name}' "
            f"(backend {classifier.backend}); use one of {', '.join(available)}"
        )
    return method


def explain(
    classifier: Classifier, texts: Sequence[str] | str, label: str | None = None, *, method: str | None = None
) -> list[Explanation]:
    """Explain each text's score for ``label`` (default: the predicted label; for a multi-label model with
    nothing flagged, the highest-scoring one)."""
    method = check_method(classifier, method)
    labels = classifier.labels
    if label is not None and label not in labels:
        raise ConfigError(f"unknown label '{label}'; labels are: {', '.join(labels)}")
    texts = classifier._check_texts(texts)
    if not texts:
        return []
    predictions = classifier.predict(texts)
    chosen = [label or _default_label(p.label, p.scores) for p in predictions]
    columns = [labels.index(lab) for lab in chosen]
    spans = [split_words(t) for t in texts]
    if method == "occlusion":
        from .occlusion import occlusion_word_scores

        scores = occlusion_word_scores(classifier, texts, spans, columns)
    elif method == "linear":
        from ..backends.sklearn_backend import SklearnClassifier
        from .linear import linear_word_scores

        assert isinstance(classifier, SklearnClassifier)  # check_method: only TF-IDF classifiers offer "linear"
        fast = classifier.linear_model()
        scores = [
            linear_word_scores(fast, classifier.output_column(labels[c]), t, s, r)
            for t, s, c, r in zip(texts, spans, columns, classifier.read(texts))
        ]
    else:
        from .gradients import integrated_gradients_word_scores

        scores = [integrated_gradients_word_scores(classifier, t, s, c) for t, s, c in zip(texts, spans, columns)]
    return [
        Explanation(
            text=text,
            label=lab,
            score=float(prediction.scores[lab]),
            method=method,
            words=[WordAttribution(text[s:e], s, e, float(v)) for (s, e), v in zip(text_spans, np.asarray(ws))],
        )
        for text, lab, prediction, text_spans, ws in zip(texts, chosen, predictions, spans, scores)
    ]


def _default_label(predicted: str | None, scores: dict[str, float]) -> str:
    """The predicted label; for a multi-label model with nothing flagged, the highest-scoring one."""
    return predicted if predicted is not None else max(scores, key=lambda lab: scores[lab])
