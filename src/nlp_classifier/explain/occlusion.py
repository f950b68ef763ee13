"""Word occlusion, for any model: a word's score is how much the explained label's probability drops when the
word is replaced by a space. Every text and all its one-word-less copies are scored in one ``predict_proba`` call,
so the backend batches them as it batches any request; a text of n words costs n + 1 model calls' worth of
scoring. The probabilities are the model's own, before a calibrator fitted by ``nlpc calibrate``: an isotonic
calibrator maps bands of scores to one value, which would give most words exactly 0 (and it never changes the
order of scores, so it never changes which way a word pushes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def without_words(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the words at ``spans`` (non-overlapping) each replaced by one space."""
    out, position = [], 0
    for start, end in sorted(spans):
        out.append(text[position:start])
        out.append(" ")
        position = end
    out.append(text[position:])
    return "".join(out)


def occluded_texts(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """``text`` with each word in turn replaced by one space."""
    return [without_words(text, [span]) for span in spans]


def occlusion_word_scores(classifier, texts: list[str], spans: list[list[tuple[int, int]]], columns: list[int]):
    """For each text, the drop of its label column's probability (before calibration) when each of its words is
    removed."""
    variants = [v for text, text_spans in zip(texts, spans) for v in occluded_texts(text, text_spans)]
    if not variants:
        return [np.zeros(0) for _ in texts]
    proba = classifier.predict_proba(texts + variants, calibrated=False)
    out = []
    row = len(texts)
    for i, (text_spans, column) in enumerate(zip(spans, columns)):
        without = proba[row : row + len(text_spans), column]
        out.append(proba[i, column] - without)
        row += len(text_spans)
    return out
