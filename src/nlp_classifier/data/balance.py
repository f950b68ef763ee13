"""Identity balancing: training-row weights that stop a group's name from predicting the label.

In hate speech data a group's name appears mostly in hateful texts (in the bundled ``hate`` training split about
half the texts naming gay people or Jews are hateful, against 17% overall), so a model learns the name as a cue
and flags neutral statements about the group. Instance weighting (Zhang et al. 2020, "Demographics should not be
the reason of toxicity") re-weights the texts that name a group so that, weighted, the hateful share among them is
the overall share: a text with label ``y`` naming word ``z`` gets ``P(y) / P(y | z)``. Texts that name no group
keep weight 1. A text naming several words takes the geometric mean of their weights; words in fewer than
``MIN_TEXTS`` texts are left alone (their rates are noise). ``strength`` in [0, 1] scales the correction in the
log domain (0 off, 1 the full balance); weights are clipped to [1/10, 10] and rescaled to mean 1 within each
source, so the sources' mixing shares (data.mixing) stay as they were.

Unlike identity swaps (data.augment) it adds no text: it changes how much each real text counts.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..identity_terms import BALANCE_TERMS, words_found, words_pattern
from ..tasks import MULTI_LABEL
from .datasets import Dataset

MIN_TEXTS = 20
MAX_WEIGHT = 10.0
_TERM = words_pattern(BALANCE_TERMS)


def group_words(text: str) -> set[str]:
    """The balancing words ``text`` names, lower-cased."""
    return words_found(_TERM, text)


def identity_weights(train: Dataset, strength: float) -> np.ndarray:
    """One weight per row of ``train`` (a single-label training split), mean 1 within each source."""
    if not 0 <= strength <= 1:
        raise ConfigError(f"identity_balance must be between 0 and 1, got {strength}")
    if train.problem_type == MULTI_LABEL:
        raise ConfigError("identity_balance needs a single-label task")
    y = np.asarray(train.y, dtype=int)
    weights = np.ones(len(y))
    if strength == 0 or len(y) == 0:
        return weights
    words = [group_words(t) for t in train.texts]
    overall = np.bincount(y, minlength=len(train.labels)) / len(y)
    rows_with: dict[str, list[int]] = {}
    for i, found in enumerate(words):
        for word in found:
            rows_with.setdefault(word, []).append(i)
    log_ratio: dict[str, np.ndarray] = {}  # per word: log(P(y) / P(y | word)) for each label y
    for word, rows in rows_with.items():
        if len(rows) < MIN_TEXTS:
            continue
        given = np.bincount(y[rows], minlength=len(overall)) / len(rows)
        with np.errstate(divide="ignore"):
            log_ratio[word] = np.log(overall) - np.log(np.maximum(given, 1e-12))
    for i, found in enumerate(words):
        counted = [log_ratio[w][y[i]] for w in found if w in log_ratio]
        if counted:
            weights[i] = np.exp(strength * float(np.mean(counted)))
    weights = np.clip(weights, 1 / MAX_WEIGHT, MAX_WEIGHT)
    sources = np.asarray(train.sources) if train.sources is not None else np.zeros(len(y))
    for source in np.unique(sources):
        part = sources == source
        weights[part] /= weights[part].mean()
    return weights


def balanced_rate(train: Dataset, weights: np.ndarray, word: str) -> float:
    """The weighted share of positive (class 1) texts among those naming ``word``: what the weights give."""
    rows = np.array([word in group_words(t) for t in train.texts])
    if not rows.any():
        raise ConfigError(f"no training text names '{word}'")
    return float(np.average(np.asarray(train.y)[rows] == 1, weights=weights[rows]))
