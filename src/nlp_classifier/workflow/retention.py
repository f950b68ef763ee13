"""Data protection: purge everything older than a cut-off, and forget everything about one external id. Both
delete items with their predictions, reviews and feedback (the database cascades), and write one audit entry
with the counts, never a text; ``forget`` records only the SHA-256 of the external id it removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from .audit import record_change
from .models import Feedback, Item, Prediction, Review
from .records import storable, text_hash


def _counts(session: Session, items: Select, feedback_filter) -> dict[str, int]:
    def count(query: Select) -> int:
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    return {
        "items": count(items),
        "predictions": count(select(Prediction.id).where(Prediction.item_id.in_(items))),
        "reviews": count(select(Review.id).where(Review.item_id.in_(items))),
        "feedback": count(select(Feedback.id).where(or_(Feedback.item_id.in_(items), feedback_filter))),
    }


def _delete(session: Session, items: Select, feedback_filter) -> dict[str, int]:
    counts = _counts(session, items, feedback_filter)
    ids = list(session.scalars(items))
    session.execute(delete(Feedback).where(or_(Feedback.item_id.in_(ids), feedback_filter)))
    session.execute(delete(Review).where(Review.item_id.in_(ids)))
    session.execute(delete(Prediction).where(Prediction.item_id.in_(ids)))
    session.execute(delete(Item).where(Item.id.in_(ids)))
    return counts


def purge_older_than(session: Session, cutoff: datetime, actor: str = "cli") -> dict[str, int]:
    """Delete items created before ``cutoff`` (and all that hangs on them) and older feedback; the counts."""
    counts = _delete(session, select(Item.id).where(Item.created_at < cutoff), Feedback.created_at < cutoff)
    record_change(session, actor, "purge", "items", None, None, {"before": cutoff.isoformat(), **counts})
    return counts


def forget_external_id(session: Session, external_id: str, actor: str, channel: str | None = None) -> dict[str, int]:
    """Delete every item and feedback with ``external_id`` (in every channel, or only ``channel``); the counts."""
    stored = storable(external_id)
    items = select(Item.id).where(Item.external_id == stored)
    feedback_filter = Feedback.external_id == stored
    if channel is not None:
        items = items.where(Item.channel == channel)
        feedback_filter = feedback_filter & (Feedback.channel == channel)
    counts = _delete(session, items, feedback_filter)
    record_change(session, actor, "forget", "external_id", text_hash(external_id), None, {"channel": channel, **counts})
    return counts
