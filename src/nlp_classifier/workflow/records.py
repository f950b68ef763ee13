"""Writing predictions: items (text or only its hash), their predictions, and reviews for those that go to the
queue, many at a time in one transaction (the background ``writer`` calls ``record_predictions``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from ..text import replace_lone_surrogates
from .models import Item, Prediction, Review, utcnow

QUEUE_REASONS = ("band", "requested")


EXTERNAL_ID_MAX_CHARS = 200  # the longest external id the API records


def storable(value: str) -> str:
    """``value`` as both databases can store it: NUL characters (which PostgreSQL refuses in text) and lone
    surrogates (JSON's ``"\\ud800"``: no UTF-8 database holds them) become U+FFFD."""
    return replace_lone_surrogates(value.replace("\x00", "\ufffd") if "\x00" in value else value)


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
    keep_text: bool = True  # False: only the text's hash, whatever the service's setting (Perspective's doNotStore)

    def __post_init__(self) -> None:
        for name in ("text", "external_id", "channel"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, storable(value))


def find_item(session: Session, external_id: str, channel: str = "") -> Item | None:
    """The item with ``external_id`` in ``channel`` (``""``: the global channel)."""
    query = select(Item).where(Item.channel == storable(channel), Item.external_id == storable(external_id))
    return session.scalar(query)


def record_predictions(session: Session, records: Sequence[PredictionRecord], *, store_text: bool) -> list[int]:
    """Add every record (item, prediction and, when queued, a review) and return the prediction ids in order. A
    record with an ``external_id`` already stored reuses its item; an item gets at most one review, so asking for a
    review twice queues it once. Texts are kept only when ``store_text``; the hash always is.

    Rows go in as a few multi-row INSERTs (Core, not the ORM's unit of work): this runs for every recorded
    prediction, so it is kept cheap."""
    if not records:
        return []
    keyed = {(r.channel, r.external_id) for r in records if r.external_id is not None}
    known: dict[tuple[str, str], int] = {}
    if keyed:
        found = session.execute(
            select(Item.channel, Item.external_id, Item.id).where(
                tuple_(Item.channel, Item.external_id).in_(sorted(keyed))
            )
        )
        known = {(channel, external_id): item_id for channel, external_id, item_id in found}
    new_rows: list[dict] = []
    new_index: dict[tuple[str, str], int] = {}
    slots: list[tuple[bool, int]] = []  # per record: (False, a stored item's id) or (True, index in new_rows)
    for record in records:
        key = (record.channel, record.external_id) if record.external_id is not None else None
        if key is not None and key in known:
            slots.append((False, known[key]))
            continue
        if key is not None and key in new_index:
            slots.append((True, new_index[key]))
            continue
        if key is not None:
            new_index[key] = len(new_rows)
        slots.append((True, len(new_rows)))
        new_rows.append(
            {
                "text": record.text if store_text and record.keep_text else None,
                "text_hash": text_hash(record.text),
                "external_id": record.external_id,
                "channel": record.channel,
                "created_at": record.created_at,
            }
        )
    new_ids = _insert_returning_ids(session, Item, new_rows)
    item_ids = [new_ids[value] if is_new else value for is_new, value in slots]
    prediction_ids = _insert_returning_ids(
        session,
        Prediction,
        [
            {
                "item_id": item_id,
                "model": r.model,
                "model_version": r.model_version,
                "scores": r.scores,
                "label": r.label,
                "flagged": r.flagged,
                "threshold": r.threshold,
                "latency_ms": r.latency_ms,
                "created_at": r.created_at,
            }
            for r, item_id in zip(records, item_ids)
        ],
    )
    queued = [(r, item_id, pid) for r, item_id, pid in zip(records, item_ids, prediction_ids) if r.queue is not None]
    if queued:
        wanted = {item_id for _, item_id, _ in queued}
        reviewed = set(session.scalars(select(Review.item_id).where(Review.item_id.in_(wanted))))
        rows = []
        for record, item_id, prediction_id in queued:
            if item_id in reviewed:
                continue
            reviewed.add(item_id)
            rows.append(review_row(record, item_id, prediction_id))
        if rows:
            session.execute(insert(Review), rows)
    return prediction_ids


def _insert_returning_ids(session: Session, table: type[Item] | type[Prediction], rows: list[dict]) -> list[int]:
    """Insert ``rows`` in one multi-row statement; their new ids in the same order."""
    if not rows:
        return []
    result = session.execute(insert(table).returning(table.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def review_row(record: PredictionRecord, item_id: int, prediction_id: int | None) -> dict:
    """The columns of a pending review of ``record``."""
    return {
        "item_id": item_id,
        "prediction_id": prediction_id,
        "model": record.model,
        "model_version": record.model_version,
        "labels": list(record.labels),
        "predicted_label": record.label,
        "flagged": list(record.flagged),
        "score": record.score,
        "priority": record.priority,
        "reason": record.queue or "requested",
        "state": "pending",
        "created_at": record.created_at,
        "updated_at": record.created_at,
        "version": 1,
    }
