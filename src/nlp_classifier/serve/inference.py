"""What every prediction endpoint does between parsing and answering: pick the model, classify through its
micro-batcher, time it, note the request in the log line (texts only when ``log_texts`` is set) and hand the
predictions to the workflow's recorder (``recording.py``; it never waits on the database)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import TypeVar

from fastapi import Request

from ..classifier import Prediction
from ..errors import ConfigError, NlpcError
from ..explain import Explanation
from .dependencies import get_workflow
from .errors import from_nlpc_error, invalid
from .model_manager import ServedModel
from .recording import records_for
from .settings import ServeSettings

Served = TypeVar("Served", ServedModel, ServedModel | None)


async def model_for(pending: Awaitable[Served], loc: Sequence[str | int] = ("body", "model")) -> Served:
    """The model a request asked for; unknown 404, unsuitable 422, none available 503."""
    try:
        return await pending
    except NlpcError as exc:
        raise from_nlpc_error(exc, loc) from None


async def classify(
    request: Request,
    settings: ServeSettings,
    served: ServedModel,
    texts: Sequence[str],
    *,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    external_ids: Sequence[str | None] | None = None,
    channel: str = "",
    review: bool = False,
    keep_text: bool = True,
) -> tuple[list[Prediction], float]:
    """Predictions for ``texts`` from ``served`` and the milliseconds it took (batch wait included). They are
    recorded as ``NLPC_RECORD`` says, with the client's ``external_ids`` (one per text) in ``channel``;
    ``review`` asks for the texts with an external id to be queued for review. ``keep_text=False`` (Perspective's
    doNotStore) keeps the texts out of the log and records only their hashes."""
    entry = request.scope.setdefault("state", {}).setdefault("log", {})
    entry.setdefault("models", []).append(served.name)
    entry["n_texts"] = entry.get("n_texts", 0) + len(texts)
    if settings.log_texts and keep_text:
        entry.setdefault("texts", []).extend(texts)
    start = time.perf_counter()
    try:
        predictions = await served.predict(texts, threshold, thresholds)
    except ConfigError as exc:  # unknown label or out-of-range value in the thresholds
        raise invalid(("body", "thresholds"), str(exc)) from None
    ms = round((time.perf_counter() - start) * 1000, 3)
    records = records_for(
        settings,
        served,
        texts,
        predictions,
        latency_ms=ms,
        threshold=threshold,
        external_ids=external_ids,
        channel=channel,
        review=review,
        keep_text=keep_text,
    )
    if records:
        get_workflow(request).submit(records)
    return predictions, ms


async def explain(served: ServedModel, texts: Sequence[str], label: str | None = None) -> list[Explanation]:
    """``served``'s explanations of ``texts`` for ``label`` (default: each text's predicted label); the texts
    were checked against the explanation limits (``limits.check_explain``)."""
    try:
        return await served.explain(texts, label)
    except NlpcError as exc:
        raise from_nlpc_error(exc, ("body", "explain")) from None
