"""Words of a text as character spans of the original string, and the alignment of a transformed text (the
model's normalisation, lower-casing, emoji named) back to the original characters."""

from __future__ import annotations

import difflib
import unicodedata

import numpy as np

APOSTROPHES = frozenset("'\u2019")


def _char_kind(ch: str) -> str:
    """``w`` for a word character (letters, digits, underscore and combining marks, so Devanagari or Thai
    words stay whole), ``s`` for white space, ``p`` for anything else (punctuation, symbols)."""
    if ch.isalnum() or ch == "_" or unicodedata.category(ch)[0] == "M":
        return "w"
    return "s" if ch.isspace() else "p"


def split_words(text: str) -> list[tuple[int, int]]:
    """The words of ``text`` as (start, end) character offsets, in order: each emoji (with its modifiers,
    joiners and variation selectors) on its own, maximal runs of word characters (an apostrophe between two
    word characters stays inside: "don't"), and maximal runs of other non-space characters (",", "!!!")."""
    import emoji

    spans: list[tuple[int, int]] = []
    emoji_spans = [(e["match_start"], e["match_end"]) for e in emoji.emoji_list(text)] if text else []
    position = 0
    for start, end in [*emoji_spans, (len(text), len(text))]:
        spans.extend(_plain_words(text, position, start))
        if end > start:
            spans.append((start, end))
        position = end
    return spans


def _plain_words(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start, kind = begin, ""
    for i in range(begin, end):
        ch = text[i]
        current = _char_kind(ch)
        if ch in APOSTROPHES and kind == "w" and i + 1 < end and _char_kind(text[i + 1]) == "w":
            current = "w"
        if current != kind:
            if kind in ("w", "p"):
                spans.append((start, i))
            start, kind = i, current
    if kind in ("w", "p") and end > start:
        spans.append((start, end))
    return spans


class WordSpreader:
    """Adds amounts that belong to characters of a text into the scores of its words (``spans``): an amount
    over several characters is split evenly over those inside a word (all of it to the nearest word when none
    is), so the word scores always add up to everything added."""

    def __init__(self, text: str, spans: list[tuple[int, int]]):
        self.covering, self.nearest = word_index(len(text), spans)
        self.scores = np.zeros(len(spans))

    def add(self, pieces: list[np.ndarray], amounts: np.ndarray | list[float]) -> None:
        """Spread each ``amounts[i]`` over the words holding the characters ``pieces[i]`` (indices into the
        original text, at least one each), all at once."""
        if not len(self.scores) or not len(pieces):
            return
        amounts = np.asarray(amounts, dtype=float)
        characters = np.concatenate(pieces)
        piece = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
        owners = self.covering[characters]
        owned = owners >= 0
        per_piece = np.bincount(piece, weights=owned, minlength=len(pieces))
        shares = np.divide(amounts, per_piece, out=np.zeros_like(amounts), where=per_piece > 0)
        np.add.at(self.scores, owners[owned], shares[piece[owned]])
        orphans = np.flatnonzero(per_piece == 0)  # no character inside a word: all to the nearest word
        if len(orphans):
            firsts = np.array([pieces[i][0] for i in orphans])
            np.add.at(self.scores, self.nearest[firsts], amounts[orphans])


def word_index(length: int, spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """For each character of a text of ``length`` characters: the word covering it (-1 outside every word),
    and the nearest word (the covering one, else the closest by distance, the earlier one on a tie; -1 when
    the text has no words)."""
    covering = np.full(length, -1, dtype=np.int64)
    for k, (start, end) in enumerate(spans):
        covering[start:end] = k
    if not spans:
        return covering, covering.copy()
    positions = np.arange(length)
    before = np.maximum.accumulate(np.where(covering >= 0, positions, -1))
    after = np.minimum.accumulate(np.where(covering >= 0, positions, length)[::-1])[::-1]
    use_after = (before < 0) | ((after < length) & (after - positions < positions - before))
    nearest_position = np.where(use_after, after, before)
    return covering, covering[nearest_position]


def align(source: str, target: str) -> np.ndarray:
    """For each character of ``target`` (a transformed ``source``), the index of the ``source`` character it came
    from. Equal lengths are taken as character for character (lower-casing); otherwise the two are matched with
    difflib: matched runs map one to one, a replaced run maps proportionally onto what it replaced ("&amp;" ->
    "&", a URL -> "URL", an emoji -> its name), an inserted character to the next source character."""
    if len(source) == len(target):
        return np.arange(len(target), dtype=np.int64)
    out = np.zeros(len(target), dtype=np.int64)
    last = max(len(source) - 1, 0)
    matcher = difflib.SequenceMatcher(None, source, target, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            out[j1:j2] = np.arange(i1, i2)
        elif op == "replace":
            out[j1:j2] = i1 + (np.arange(j2 - j1) * (i2 - i1)) // (j2 - j1)
        elif op == "insert":
            out[j1:j2] = min(i1, last)
    return out
