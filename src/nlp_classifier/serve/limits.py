"""Input limits every prediction endpoint applies: no empty texts, none too long, not too many at once.
(The request body size is limited earlier, by ``middleware.BodySizeLimit``.)"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import invalid
from .settings import ServeSettings


def check_texts(
    texts: Sequence[str], settings: ServeSettings, loc: Sequence[str | int], single: bool = False
) -> list[str]:
    """``texts`` if every one is acceptable, else a 422 naming the first bad one (``loc`` is the field; a list
    field gets the index appended unless ``single``) and the limit."""
    texts = list(texts)
    if not texts:
        raise invalid(loc, "give at least one text", "too_short")
    if len(texts) > settings.max_texts_per_request:
        raise invalid(
            loc,
            f"{len(texts)} texts in one request; the limit is {settings.max_texts_per_request} "
            "(NLPC_MAX_TEXTS_PER_REQUEST)",
            "too_long",
        )
    for i, text in enumerate(texts):
        where = tuple(loc) if single else (*loc, i)
        if not text.strip():
            raise invalid(where, "text is empty or only whitespace", "empty_text")
        if len(text) > settings.max_text_chars:
            raise invalid(
                where,
                f"text is {len(text)} characters; the limit is {settings.max_text_chars} (NLPC_MAX_TEXT_CHARS)",
                "text_too_long",
            )
    return texts


def check_explain(
    texts: Sequence[str], settings: ServeSettings, loc: Sequence[str | int], single: bool = False
) -> None:
    """The explanation caps, on top of ``check_texts``: explaining costs a model call per word (occlusion), so
    fewer and shorter texts may be explained than classified. A 422 names the limit and its variable."""
    if len(texts) > settings.explain_max_texts:
        raise invalid(
            loc,
            f"{len(texts)} texts to explain in one request; the limit is {settings.explain_max_texts} "
            "(NLPC_EXPLAIN_MAX_TEXTS)",
            "too_long",
        )
    for i, text in enumerate(texts):
        if len(text) > settings.explain_max_chars:
            raise invalid(
                tuple(loc) if single else (*loc, i),
                f"text is {len(text)} characters; the limit for explanations is {settings.explain_max_chars} "
                "(NLPC_EXPLAIN_MAX_CHARS)",
                "text_too_long",
            )
