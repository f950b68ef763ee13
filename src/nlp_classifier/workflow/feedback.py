"""Feedback: a label or scores suggested for a text by a client (``/v1/feedback``) or a Perspective client
(``comments:suggestscore``), tied to the recorded item with the same external id when there is one."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from .audit import record_change
from .models import FEEDBACK_SOURCES, Feedback, Item
from .records import find_item, storable, text_hash


def add_feedback(
    session: Session,
    *,
    source: str,
    submitted_by: str,
    external_id: str | None = None,
    channel: str = "",
    text: str | None = None,
    store_text: bool = True,
    model: str | None = None,
    label: str | None = None,
    scores: Mapping[str, float] | None = None,
    client_token: str | None = None,
) -> Feedback:
    """Store one suggestion and audit it. With ``external_id`` it joins that item (a new one holding ``text`` is
    made when none is recorded yet and a text is given); without one, a ``text`` becomes a new item."""
    if source not in FEEDBACK_SOURCES:
        raise ValueError(f"source must be one of {FEEDBACK_SOURCES}")
    external_id = storable(external_id) if external_id is not None else None
    channel, text = storable(channel), storable(text) if text is not None else None
    label = storable(label) if label is not None else None
    client_token = storable(client_token) if client_token is not None else None
    item = find_item(session, external_id, channel) if external_id is not None else None
    if item is None and text is not None:
        item = Item(
            text=text if store_text else None, text_hash=text_hash(text), external_id=external_id, channel=channel
        )
        session.add(item)
        session.flush()
    feedback = Feedback(
        item_id=item.id if item is not None else None,
        external_id=external_id,
        channel=channel,
        model=model,
        label=label,
        scores={storable(name): value for name, value in (scores or {}).items()},
        source=source,
        submitted_by=submitted_by,
        client_token=client_token,
    )
    session.add(feedback)
    session.flush()
    record_change(
        session,
        submitted_by,
        "feedback",
        "feedback",
        feedback.id,
        None,
        {"source": source, "model": model, "label": label, "scores": feedback.scores, "item_id": feedback.item_id},
    )
    return feedback
