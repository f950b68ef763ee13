"""Text normalisation shared by training and prediction (it is a step of every saved pipeline)."""
from __future__ import annotations

import html
import re
from typing import Iterable

URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<!\w)@\w+")  # not the @ of an e-mail address
SPACE_RE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Unescape HTML entities (twice, for ``&amp;amp;``), replace URLs and @mentions by tokens, squeeze spaces."""
    text = html.unescape(html.unescape(text))
    text = URL_RE.sub(" URL ", text)
    text = MENTION_RE.sub(" @USER ", text)
    return SPACE_RE.sub(" ", text).strip()


def normalise_texts(texts: Iterable[str]) -> list[str]:
    """Normalise each text; the function a scikit-learn pipeline step calls."""
    return [normalise_text(t) for t in texts]
