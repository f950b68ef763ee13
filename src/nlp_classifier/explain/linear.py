"""Exact explanations of linear TF-IDF models: for the explained label's decision function (before any
sigmoid, softmax, calibration or prior shift) every active feature contributes ``weight x tf-idf value``; each
feature's contribution is split evenly over its occurrences in the text and, within one occurrence, over the
characters it covers, and each character's share goes to the word of the original text it came from (through
the pipeline's normalisation and the vectorizer's lower-casing). The word scores plus the intercept are the
decision function."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from ..backends.tfidf_fast import FastTfidf, _Vectorizer
from .words import WordSpreader, align

_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's own squeeze before character n-grams


def _occurrences(vec: _Vectorizer, text: str) -> Iterator[tuple[str, np.ndarray]]:
    """Every feature the vectorizer's analyzer draws from ``text`` (before the vocabulary), with the indices of
    the characters of ``text`` it covers."""
    source = vec.source
    preprocessed = source.build_preprocessor()(source.decode(text))
    to_text = align(text, preprocessed)
    min_n, max_n = source.ngram_range
    if source.analyzer == "word":
        if source.tokenizer is not None:
            raise ValueError("a custom tokenizer cannot be explained")
        pattern = re.compile(source.token_pattern)
        group = 1 if pattern.groups == 1 else 0
        stop_words = source.get_stop_words()
        tokens = [(m.group(group), m.span(group)) for m in pattern.finditer(preprocessed)]
        if stop_words is not None:
            tokens = [t for t in tokens if t[0] not in stop_words]
        for n in range(min_n, max_n + 1):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i : i + n]
                positions = np.concatenate([to_text[s:e] for _, (s, e) in gram])
                yield " ".join(t for t, _ in gram), positions
        return
    squeezed, kept = _squeeze(preprocessed)
    to_text = to_text[kept]
    if source.analyzer == "char":
        for n in range(min_n, min(max_n + 1, len(squeezed) + 1)):
            for i in range(len(squeezed) - n + 1):
                yield squeezed[i : i + n], to_text[i : i + n]
        return
    if source.analyzer != "char_wb":
        raise ValueError(f"analyzer {source.analyzer!r} cannot be explained")
    for match in re.finditer(r"\S+", squeezed):
        start, end = match.span()
        padded = " " + match.group() + " "
        # the padding spaces belong to the word they pad
        positions = np.concatenate([to_text[start : start + 1], to_text[start:end], to_text[end - 1 : end]])
        for n in range(min_n, max_n + 1):
            offset = 0
            yield padded[offset : offset + n], positions[offset : offset + n]
            while offset + n < len(padded):
                offset += 1
                yield padded[offset : offset + n], positions[offset : offset + n]
            if offset == 0:  # a word shorter than n: scikit-learn counts it once
                break


def _squeeze(text: str) -> tuple[str, np.ndarray]:
    """``_WHITE_SPACES.sub(" ", text)`` and, for each of its characters, its index in ``text``."""
    kept = np.ones(len(text), dtype=bool)
    for match in _WHITE_SPACES.finditer(text):
        kept[match.start() + 1 : match.end()] = False  # a run keeps its first character, as one space
    return _WHITE_SPACES.sub(" ", text), np.flatnonzero(kept)


def linear_word_scores(
    fast: FastTfidf, output: int, text: str, spans: list[tuple[int, int]], read: str | None = None
) -> np.ndarray:
    """The contribution of each word (``spans`` of ``text``) to the decision function of ``predict_proba``'s
    column ``output``. ``read``: the text as the model reads it (``Classifier.read``), when that differs."""
    prepared = fast.prepared([text if read is None else read])[0]
    to_original = align(text, prepared)
    spreader = WordSpreader(text, spans)
    if not spans:
        return spreader.scores
    for vec in fast.vectorizers:
        columns, values = vec.row(prepared)
        if len(columns) == 0:
            continue
        weights, _ = fast.decision_weights(output, columns)
        contribution = dict(zip(columns.tolist(), (values * weights).tolist()))
        found: dict[int, list[np.ndarray]] = {}
        for feature, positions in _occurrences(vec, prepared):
            column = vec.vocabulary.get(feature)
            if column is not None:
                found.setdefault(column + vec.offset, []).append(positions)
        if found.keys() != contribution.keys():
            raise RuntimeError("the explanation's n-grams differ from the vectorizer's; cannot explain this model")
        pieces: list[np.ndarray] = []
        amounts: list[float] = []
        for column, occurrences in found.items():
            share = contribution[column] / len(occurrences)
            pieces.extend(to_original[positions] for positions in occurrences)
            amounts.extend([share] * len(occurrences))
        spreader.add(pieces, amounts)
    return spreader.scores
