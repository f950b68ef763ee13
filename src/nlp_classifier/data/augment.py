"""Training-split augmentation.

Counterfactual identity-term substitution: extra training texts in which the group a text names is replaced by
another group.

Hate speech data names groups mostly in hateful texts, so a model learns a group's name as a signal of hate
("gay" -> hateful) and flags neutral and positive statements about the group. Copies of the *non-hateful* texts
that name a group, with other groups swapped in, add non-hateful mentions of every group, so the name alone
predicts the label less. The sources attack some groups far more often than others, so a group rarely attacked
in them ("Latinos", "Hindus") is then named mostly in non-hateful texts, and hate against it is missed; copies of
the *hateful* texts with other groups swapped in give every group its share of attacks too.

Spelling noise: extra copies of training texts (of every class, so noise itself predicts nothing) with a few
words obfuscated the way people dodge word filters: digits for letters ("h4te"), letters dropped or repeated,
a space inserted inside a word or removed between two, a vowel starred out. A model trained only on clean
spellings misses "k1ll all ..." and learns nothing from the cue words of the copies it never saw.

Only training splits are augmented; validation and test stay as collected.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from ..identity_terms import SWAP_ADJECTIVES, SWAP_PLURALS, words_found, words_pattern
from ..tasks import MULTI_LABEL
from .datasets import Dataset

_FORMS = (SWAP_ADJECTIVES, SWAP_PLURALS)
_PATTERN = words_pattern((*SWAP_ADJECTIVES, *SWAP_PLURALS))


def same_case(word: str, like: str) -> str:
    """``word`` written in the case of ``like``: all capitals, a leading capital, or as it is."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_identity_terms(text: str, rng: np.random.Generator) -> str | None:
    """``text`` with each group word replaced by another of the same form (one replacement per distinct word,
    applied consistently), or None when it names no group."""
    found = words_found(_PATTERN, text)
    if not found:
        return None
    replacement = {}
    for word in sorted(found):
        form = next(f for f in _FORMS if word in f)
        choices = [w for w in form if w not in found]
        replacement[word] = choices[int(rng.integers(len(choices)))]
    return _PATTERN.sub(lambda m: same_case(replacement[m.group(1).lower()], m.group(1)), text)


def identity_swaps(train: Dataset, copies: float, seed: int, of_class: int = 0) -> Dataset:
    """``train`` plus, for each of its texts of class ``of_class`` (of a single-label task; 0, the default, is not
    hateful) that names a group, ``copies`` copies on average with other groups swapped in (the whole part of
    ``copies`` for every text, one more with the probability of its fractional part); same label, same source.
    ``copies`` 0, or a multi-label task, returns ``train`` unchanged."""
    suffix = "swaps" if of_class == 0 else "hateful-swaps"
    return rewritten_copies(
        train, copies, seed, lambda text: _PATTERN.search(text) is not None, swap_identity_terms, suffix, of_class
    )


def hateful_identity_swaps(train: Dataset, copies: float, seed: int) -> Dataset:
    """``identity_swaps`` of the hateful texts (class 1): copies with other groups swapped in, still hateful."""
    return identity_swaps(train, copies, seed, of_class=1)


def rewritten_copies(
    train: Dataset,
    copies: float,
    seed: int,
    eligible: Callable[[str], bool],
    rewrite: Callable[[str, np.random.Generator], str | None],
    suffix: str,
    of_class: int = 0,
) -> Dataset:
    """``train`` plus, for each of its texts of class ``of_class`` (of a single-label task; 0 is not hateful) that
    is ``eligible``, ``copies`` copies on average made by ``rewrite`` (the whole part of ``copies`` for every text,
    one more with the probability of its fractional part; a rewrite that gives None or the text itself adds
    nothing); same label, same source. ``copies`` 0, or a multi-label task, returns ``train`` unchanged."""
    if copies <= 0 or train.problem_type == MULTI_LABEL:
        return train
    rng = np.random.default_rng(seed)
    whole, extra = int(copies), copies - int(copies)
    texts, rows = [], []
    for i in np.flatnonzero(train.y == of_class):
        text = train.texts[i]
        if not eligible(text):
            continue
        for _ in range(whole + int(rng.random() < extra)):
            rewritten = rewrite(text, rng)
            if rewritten is not None and rewritten != text:
                texts.append(rewritten)
                rows.append(int(i))
    return with_copies(train, rows, texts, suffix)


def with_copies(
    train: Dataset, rows: list[int], texts: list[str], suffix: str, labels: list[int] | None = None
) -> Dataset:
    """``train`` plus ``texts``, each a changed copy of the row in ``rows`` at the same position (its source, and
    its label unless ``labels`` gives each copy's class); ``train`` itself when there are none."""
    if not rows:
        return train
    idx = np.asarray(rows, dtype=int)
    copied = train.y[idx] if labels is None else np.asarray(labels, dtype=train.y.dtype)
    y = np.concatenate([train.y, copied])
    sources = None if train.sources is None else train.sources + [train.sources[i] for i in idx]
    return Dataset(
        f"{train.name}+{suffix}",
        train.texts + texts,
        y,
        list(train.labels),
        train.problem_type,
        train.source,
        sources=sources,
    )


_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1", "g": "9"}
_WORD = re.compile(r"[A-Za-z]{3,}")


def _leet(word: str, rng: np.random.Generator) -> str:
    spots = [i for i, c in enumerate(word) if c.lower() in _LEET]
    if not spots:
        return word
    chosen = set(rng.choice(spots, size=int(rng.integers(1, len(spots) + 1)), replace=False).tolist())
    return "".join(_LEET[c.lower()] if i in chosen else c for i, c in enumerate(word))


def _drop_letter(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, len(word)))
    return word[:i] + word[i + 1 :]


def _repeat_letter(word: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(word)))
    return word[: i + 1] + word[i] * int(rng.integers(1, 4)) + word[i + 1 :]


def _split_word(word: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        return " ".join(word)
    i = int(rng.integers(1, len(word)))
    return word[:i] + " " + word[i:]


def _star_vowel(word: str, rng: np.random.Generator) -> str:
    vowels = [i for i, c in enumerate(word) if c.lower() in "aeiou" and i > 0]
    if not vowels:
        return word
    i = vowels[int(rng.integers(len(vowels)))]
    return word[:i] + "*" + word[i + 1 :]


_EDITS = (_leet, _drop_letter, _repeat_letter, _split_word, _star_vowel)


def misspell(text: str, rng: np.random.Generator, words: int = 2) -> str | None:
    """``text`` with up to ``words`` of its words (three letters or more) obfuscated, one seeded edit each, and
    with probability 0.2 one space between two words removed; None when it has no such word."""
    found = list(_WORD.finditer(text))
    if not found:
        return None
    picks = sorted(rng.choice(len(found), size=min(words, len(found)), replace=False).tolist(), reverse=True)
    for k in picks:
        m = found[k]
        edit = _EDITS[int(rng.integers(len(_EDITS)))]
        text = text[: m.start()] + edit(m.group(0), rng) + text[m.end() :]
    if rng.random() < 0.2:
        spaces = [i for i, c in enumerate(text) if c == " " and 0 < i < len(text) - 1]
        if spaces:
            i = spaces[int(rng.integers(len(spaces)))]
            text = text[:i] + text[i + 1 :]
    return text


def spelling_noise(train: Dataset, share: float, seed: int) -> Dataset:
    """``train`` plus one misspelled copy (``misspell``) of a seeded ``share`` of its texts, drawn from every
    class alike; same labels, same sources. ``share`` 0 returns ``train`` unchanged."""
    if share <= 0:
        return train
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(rng.random(len(train.texts)) < share)
    extra_texts, extra_rows = [], []
    for i in chosen:
        noisy = misspell(train.texts[i], rng)
        if noisy is not None and noisy != train.texts[i]:
            extra_texts.append(noisy)
            extra_rows.append(int(i))
    return with_copies(train, extra_rows, extra_texts, "noise")
