"""The review queue: list, read, claim, decide and undo. Every change is one conditional UPDATE on the review's
``version`` (optimistic concurrency) plus its audit entry, in the caller's transaction: of two reviewers deciding
the same item at once exactly one UPDATE matches, and the other gets a ``ConflictError``.

A claim is a soft lock: a review claimed by someone else cannot be claimed or decided by another reviewer until
the claim is older than ``claim_ttl`` (then anyone may take it over)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.orm import Session, joinedload

from .audit import record_change
from .errors import ConflictError, NotFoundError, WorkflowError
from .models import REVIEW_STATES, Item, Review, utcnow
from .records import storable

ORDERS = ("uncertainty", "age")
DEFAULT_CLAIM_TTL = timedelta(minutes=15)
MAX_ID = 2**31 - 1  # ids are 32-bit integers on both databases


class LabelNotAllowed(WorkflowError):
    """A decision's label is not one of the reviewed model's labels."""

    def __init__(self, label: str, labels: list[str]):
        super().__init__(f"label {label!r} is not one of the model's labels: {', '.join(labels)}")
        self.label, self.labels = label, labels


def snapshot(review: Review) -> dict[str, Any]:
    """The review's state for the audit log (no text, no external id)."""
    return {
        "state": review.state,
        "claimed_by": review.claimed_by,
        "decided_label": review.decided_label,
        "reviewer": review.reviewer,
        "note": review.note,
        "version": review.version,
    }


# A review's item and the item's predictions, loaded with the review: a page of reviews takes two queries, not
# one per review (the API answers each review with the scores of its prediction).
_WITH_ITEM = joinedload(Review.item).selectinload(Item.predictions)


def get_review(session: Session, review_id: int) -> Review:
    """The review with its item loaded; ``NotFoundError`` when there is none."""
    review = session.get(Review, review_id, options=[_WITH_ITEM]) if 0 < review_id <= MAX_ID else None
    if review is None:
        raise NotFoundError(f"no review with id {review_id}")
    return review


def review_subject(session: Session, review_id: int) -> tuple[str | None, str, str | None]:
    """A review's item text (None when stored without it), model and predicted label, read without the item's
    predictions; ``NotFoundError`` when there is none."""
    query = select(Item.text, Review.model, Review.predicted_label).join(Review.item).where(Review.id == review_id)
    row = session.execute(query).one_or_none() if 0 < review_id <= MAX_ID else None
    if row is None:
        raise NotFoundError(f"no review with id {review_id}")
    return row[0], row[1], row[2]


@dataclass(frozen=True)
class Page:
    reviews: list[Review]
    next_cursor: str | None


_STATE_RANK = case({"pending": 0, "claimed": 1, "decided": 2}, value=Review.state, else_=3)


def list_reviews(
    session: Session,
    *,
    state: str | None = None,
    model: str | None = None,
    label: str | None = None,
    order: str = "uncertainty",
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Reviews, pending first (then claimed, then decided), within a state by ``order``: ``uncertainty`` (most
    uncertain first) or ``age`` (oldest first); ties by id. ``label`` matches the predicted or the decided label.
    ``cursor`` is the ``next_cursor`` of the previous page (keyset pagination: stable while rows are added)."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}")
    if state is not None and state not in REVIEW_STATES:
        raise ValueError(f"state must be one of {REVIEW_STATES}")
    query = select(Review).options(_WITH_ITEM)
    if state is not None:
        query = query.where(Review.state == state)
    if model is not None:
        query = query.where(Review.model == model)
    if label is not None:
        query = query.where(or_(Review.predicted_label == label, Review.decided_label == label))
    if cursor is not None:
        query = query.where(_after(decode_cursor(cursor), order))
    if order == "uncertainty":
        query = query.order_by(_STATE_RANK, Review.priority.desc(), Review.id)
    else:
        query = query.order_by(_STATE_RANK, Review.created_at, Review.id)
    rows = list(session.scalars(query.limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1], order) if more and rows else None
    return Page(rows, next_cursor)


def encode_cursor(review: Review, order: str) -> str:
    key: Any = review.priority if order == "uncertainty" else review.created_at.isoformat()
    raw = json.dumps([REVIEW_STATES.index(review.state), key, review.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The position a cursor stands for; ``ValueError`` for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, key, review_id = json.loads(raw)
        if not isinstance(rank, int) or not isinstance(review_id, int):
            raise TypeError
        return [rank, key, review_id]
    except (ValueError, TypeError):
        raise ValueError("cursor is not one returned by this endpoint (use next_cursor as given)") from None


def _after(position: list[Any], order: str) -> ColumnElement[bool]:
    rank, key, review_id = position
    if order == "uncertainty":
        later = or_(Review.priority < key, and_(Review.priority == key, Review.id > review_id))
    else:
        moment = datetime.fromisoformat(key)
        later = or_(Review.created_at > moment, and_(Review.created_at == moment, Review.id > review_id))
    return or_(_STATE_RANK > rank, and_(_STATE_RANK == rank, later))


def _held_by_other(review: Review, reviewer: str, now: datetime, claim_ttl: timedelta) -> bool:
    if review.state != "claimed" or review.claimed_by in (None, reviewer) or review.claimed_at is None:
        return False
    claimed_at = review.claimed_at if review.claimed_at.tzinfo else review.claimed_at.replace(tzinfo=now.tzinfo)
    return claimed_at > now - claim_ttl


def _apply(session: Session, review: Review, actor: str, action: str, **changes: Any) -> Review:
    """Change ``review`` if it is still at the version read, and audit it; ``ConflictError`` when another writer
    changed it first."""
    before = snapshot(review)
    now = changes.setdefault("updated_at", utcnow())
    result = session.execute(
        update(Review)
        .where(Review.id == review.id, Review.version == review.version)
        .values(version=review.version + 1, **changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"review {review.id} was changed by someone else at the same moment; reload it")
    for name, value in changes.items():
        setattr(review, name, value)
    review.version += 1
    review.updated_at = now
    record_change(session, actor, action, "review", review.id, before, snapshot(review))
    return review


def claim_review(session: Session, review_id: int, reviewer: str, claim_ttl: timedelta = DEFAULT_CLAIM_TTL) -> Review:
    """Claim a pending review for ``reviewer`` (claiming one's own claim again renews it)."""
    review = get_review(session, review_id)
    now = utcnow()
    if review.state == "decided":
        raise ConflictError(f"review {review_id} is already decided (by {review.reviewer})")
    if _held_by_other(review, reviewer, now, claim_ttl):
        raise ConflictError(f"review {review_id} is claimed by {review.claimed_by}")
    return _apply(session, review, reviewer, "claim", state="claimed", claimed_by=reviewer, claimed_at=now)


def decide_review(
    session: Session,
    review_id: int,
    reviewer: str,
    label: str,
    note: str | None = None,
    claim_ttl: timedelta = DEFAULT_CLAIM_TTL,
) -> Review:
    """Decide a review: ``label`` must be one of the model's labels (``LabelNotAllowed``); a review already
    decided, or claimed by someone else, is a ``ConflictError``."""
    review = get_review(session, review_id)
    if label not in review.labels:
        raise LabelNotAllowed(label, list(review.labels))
    now = utcnow()
    if review.state == "decided":
        raise ConflictError(f"review {review_id} is already decided (by {review.reviewer})")
    if _held_by_other(review, reviewer, now, claim_ttl):
        raise ConflictError(f"review {review_id} is claimed by {review.claimed_by}")
    return _apply(
        session,
        review,
        reviewer,
        "decide",
        state="decided",
        decided_label=label,
        reviewer=reviewer,
        note=storable(note) if note is not None else None,
        decided_at=now,
    )


def undo_decision(session: Session, review_id: int, reviewer: str) -> Review:
    """Put ``reviewer``'s last decision back to pending: the review must be decided by ``reviewer``, and no later
    decision of theirs may exist (undo walks back one decision at a time)."""
    review = get_review(session, review_id)
    if review.state != "decided" or review.reviewer != reviewer:
        raise ConflictError(f"review {review_id} has no decision of {reviewer} to undo")
    later = session.scalar(
        select(Review.id)
        .where(Review.reviewer == reviewer, Review.state == "decided", Review.id != review.id)
        .where(
            or_(
                Review.decided_at > review.decided_at,
                and_(Review.decided_at == review.decided_at, Review.id > review.id),
            )
        )
        .limit(1)
    )
    if later is not None:
        raise ConflictError(f"only the last decision can be undone; {reviewer}'s last one is review {later}")
    return _apply(
        session,
        review,
        reviewer,
        "undo",
        state="pending",
        decided_label=None,
        reviewer=None,
        note=None,
        decided_at=None,
        claimed_by=None,
        claimed_at=None,
    )
