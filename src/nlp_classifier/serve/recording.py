"""Which predictions are recorded and queued for review, and the records that say so (``NLPC_RECORD``):

- ``off``: nothing, except texts a client asks to have reviewed (``"review": true`` with an ``external_id``);
- ``flagged``: predictions with at least one flagged label;
- ``uncertain``: predictions whose review score is inside the model's band (``NLPC_REVIEW_BAND``,
  ``NLPC_REVIEW_BANDS``);
- ``all``: every prediction.

A recorded prediction whose score is inside the band is queued (reason ``band``); a requested review is
queued whatever the mode (reason ``requested``)."""

from __future__ import annotations

from collections.abc import Sequence

from ..classifier import Prediction
from ..workflow.band import in_band, review_score, uncertainty
from ..workflow.records import PredictionRecord
from .model_manager import ServedModel
from .settings import ServeSettings


def records_for(
    settings: ServeSettings,
    served: ServedModel,
    texts: Sequence[str],
    predictions: Sequence[Prediction],
    *,
    latency_ms: float,
    threshold: float | None = None,
    external_ids: Sequence[str | None] | None = None,
    channel: str = "",
    review: bool = False,
    keep_text: bool = True,
) -> list[PredictionRecord]:
    """The records to write for one request's predictions (often none); ``keep_text=False`` records only the
    texts' hashes (a client asked for its texts not to be stored)."""
    mode = settings.record
    if mode == "off" and not review:
        return []
    band = settings.band_for(served.name)
    harmless = served.classifier.harmless_labels
    labels = list(served.classifier.labels)
    out = []
    for i, (text, prediction) in enumerate(zip(texts, predictions)):
        external_id = external_ids[i] if external_ids is not None else None
        score = review_score(prediction.scores, harmless)
        uncertain = in_band(score, band)
        requested = review and external_id is not None
        wanted = (
            mode == "all" or (mode == "flagged" and bool(prediction.flagged)) or (mode == "uncertain" and uncertain)
        )
        if not (wanted or requested):
            continue
        queue = "requested" if requested else ("band" if uncertain else None)
        out.append(
            PredictionRecord(
                text=text,
                model=served.name,
                model_version=served.card.version,
                labels=labels,
                scores=dict(prediction.scores),
                label=prediction.label,
                flagged=list(prediction.flagged),
                threshold=threshold,
                latency_ms=latency_ms,
                external_id=external_id,
                channel=channel,
                queue=queue,
                score=round(score, 6),
                priority=uncertainty(score, band),
                keep_text=keep_text,
            )
        )
    return out
