"""Counterfactual identity-term substitution: extra non-hateful training texts in which the group a text names
is replaced by another group.

Hate speech data names groups mostly in hateful texts, so a model learns a group's name as a signal of hate
("gay" -> hateful) and flags neutral and positive statements about the group. Copies of the *non-hateful* texts
that name a group, with other groups swapped in, add non-hateful mentions of every group, so the name alone
predicts the label less. Only training splits are augmented; validation and test stay as collected.
"""

from __future__ import annotations

import re

import numpy as np

from ..identity_terms import SWAP_ADJECTIVES, SWAP_PLURALS
from ..tasks import MULTI_LABEL
from .datasets import Dataset

_FORMS = (SWAP_ADJECTIVES, SWAP_PLURALS)
_PATTERN = re.compile(
    r"\b(" + "|".join(sorted({*SWAP_ADJECTIVES, *SWAP_PLURALS}, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def _same_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_identity_terms(text: str, rng: np.random.Generator) -> str | None:
    """``text`` with each group word replaced by another of the same form (one replacement per distinct word,
    applied consistently), or None when it names no group."""
    found = {m.group(1).lower() for m in _PATTERN.finditer(text)}
    if not found:
        return None
    replacement = {}
    for word in sorted(found):
        form = next(f for f in _FORMS if word in f)
        choices = [w for w in form if w not in found]
        replacement[word] = choices[int(rng.integers(len(choices)))]
    return _PATTERN.sub(lambda m: _same_case(replacement[m.group(1).lower()], m.group(1)), text)


def identity_swaps(train: Dataset, copies: float, seed: int) -> Dataset:
    """``train`` plus, for each of its negative-class texts (class 0 of a single-label task: not hateful) that
    names a group, ``copies`` copies on average with other groups swapped in (the whole part of ``copies`` for
    every text, one more with the probability of its fractional part); same label, same source. ``copies`` 0, or
    a multi-label task, returns ``train`` unchanged."""
    if copies <= 0 or train.problem_type == MULTI_LABEL:
        return train
    rng = np.random.default_rng(seed)
    whole, extra = int(copies), copies - int(copies)
    extra_texts, extra_rows = [], []
    for i in np.flatnonzero(train.y == 0):
        text = train.texts[i]
        if _PATTERN.search(text) is None:
            continue
        for _ in range(whole + int(rng.random() < extra)):
            swapped = swap_identity_terms(text, rng)
            if swapped is not None and swapped != text:
                extra_texts.append(swapped)
                extra_rows.append(i)
    if not extra_rows:
        return train
    idx = np.asarray(extra_rows, dtype=int)
    y = np.concatenate([train.y, train.y[idx]])
    sources = None if train.sources is None else train.sources + [train.sources[i] for i in idx]
    return Dataset(
        f"{train.name}+swaps",
        train.texts + extra_texts,
        y,
        list(train.labels),
        train.problem_type,
        train.source,
        sources=sources,
    )
