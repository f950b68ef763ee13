"""Text normalisation shared by training and prediction (it is a step of every saved pipeline)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<!\w)@\w+")  # not the @ of an e-mail address
SPACE_RE = re.compile(r"\s+")


def replace_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (U+D800-U+DFFF, which JSON's ``"\\ud800"`` can carry but no UTF-8 text
    holds) replaced by U+FFFD, as a UTF-8 decoder replaces a bad byte. The length, and so every offset, stays."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def normalise_text(text: str) -> str:
    """Unescape HTML entities (twice, for ``&amp;amp;``), replace URLs and @mentions by tokens, squeeze spaces.

    The substitutions are skipped when their pattern cannot match (no ``@``; no ``://`` or ``www.``), and
    ``" ".join(text.split())`` squeezes exactly the characters ``\\s`` matches: the result is what the three
    plain ``re.sub`` calls give, about twice as fast on tweets."""
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if "://" in text or "www." in text.lower():
        text = URL_RE.sub(" URL ", text)
    if "@" in text:
        text = MENTION_RE.sub(" @USER ", text)
    return " ".join(text.split())


def normalise_texts(texts: Iterable[str]) -> list[str]:
    """Normalise each text; the function a scikit-learn pipeline step calls."""
    return [normalise_text(t) for t in texts]


def emoji_to_words(text: str) -> str:
    """Emoji replaced by their CLDR names as words ("🔪" -> " kitchen knife ", "👨🏿" -> " man dark skin tone "), for
    tokenizers whose vocabulary has no emoji (all-MiniLM-L6-v2 reads every emoji as [UNK]). Text without
    emoji is returned unchanged."""
    import emoji

    if not emoji.emoji_count(text):
        return text
    named = emoji.demojize(text, delimiters=(" \x00", "\x00 "))
    return " ".join(_EMOJI_NAME.sub(lambda m: m.group(1).replace("_", " ").replace("-", " "), named).split())


_EMOJI_NAME = re.compile("\x00([^\x00]*)\x00")
