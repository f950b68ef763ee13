"""Writing predictions: items (text or only its hash), their predictions, and reviews for those that go to the
queue, many at a time in one transaction (the background ``writer`` calls ``record_predictions``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from .models import Item, Prediction, Review, utcnow

QUEUE_REASONS = ("band", "requested")


def text_hash(text: str) -> str:
    """The SHA-256 of a text (UTF-8), hex: what is kept when texts are not stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PredictionRecord:
    """One prediction to record. ``queue`` is None (not queued), ``"band"`` (the score fell in the uncertainty
    band) or ``"requested"`` (the client asked for a review); ``score`` and ``priority`` come from ``band``."""

    text: str
    model: str
    model_version: str | None
    labels: list[str]
    scores: dict[str, float]
    label: str | None
    flagged: list[str]
    threshold: float | None = None
    latency_ms: float | None = None
    external_id: str | None = None
    channel: str = ""
    queue: str | None = None
    score: float | None = None
    priority: float = 0.0
    created_at: datetime = field(default_factory=utcnow)


def find_item(session: Session, external_id: str, channel: str = "") -> Item | None:
    """The item with ``external_id`` in ``channel`` (``""``: the global channel)."""
    return session.scalar(select(Item).where(Item.channel == channel, Item.external_id == external_id))


def record_predictions(session: Session, records: Sequence[PredictionRecord], *, store_text: bool) -> list[int]:
    """Add every record (item, prediction and, when queued, a review) and return the prediction ids in order. A
    record with an ``external_id`` already stored reuses its item; an item gets at most one review, so asking for a
    review twice queues it once. Texts are kept only when ``store_text``; the hash always is."""
    keyed = {(r.channel, r.external_id) for r in records if r.external_id is not None}
    items: dict[tuple[str, str], Item] = {}
    if keyed:
        found = session.scalars(select(Item).where(tuple_(Item.channel, Item.external_id).in_(sorted(keyed))))
        items = {(item.channel, item.external_id or ""): item for item in found}
    item_for: list[Item] = []
    for record in records:
        key = (record.channel, record.external_id) if record.external_id is not None else None
        item = items.get(key) if key is not None else None
        if item is None:
            item = Item(
                text=record.text if store_text else None,
                text_hash=text_hash(record.text),
                external_id=record.external_id,
                channel=record.channel,
                created_at=record.created_at,
            )
            session.add(item)
            if key is not None:
                items[key] = item
        item_for.append(item)
    predictions = [
        Prediction(
            item=item,
            model=r.model,
            model_version=r.model_version,
            scores=r.scores,
            label=r.label,
            flagged=r.flagged,
            threshold=r.threshold,
            latency_ms=r.latency_ms,
            created_at=r.created_at,
        )
        for r, item in zip(records, item_for)
    ]
    session.add_all(predictions)
    session.flush()
    queued = [(r, p) for r, p in zip(records, predictions) if r.queue is not None]
    if queued:
        item_ids = {p.item_id for _, p in queued}
        reviewed = set(session.scalars(select(Review.item_id).where(Review.item_id.in_(item_ids))))
        for record, prediction in queued:
            if prediction.item_id in reviewed:
                continue
            reviewed.add(prediction.item_id)
            session.add(review_for(record, prediction))
    return [p.id for p in predictions]


def review_for(record: PredictionRecord, prediction: Prediction) -> Review:
    """A pending review of ``prediction``."""
    return Review(
        item_id=prediction.item_id,
        prediction_id=prediction.id,
        model=record.model,
        model_version=record.model_version,
        labels=list(record.labels),
        predicted_label=record.label,
        flagged=list(record.flagged),
        score=record.score,
        priority=record.priority,
        reason=record.queue or "requested",
        state="pending",
        created_at=record.created_at,
        updated_at=record.created_at,
        version=1,
    )
