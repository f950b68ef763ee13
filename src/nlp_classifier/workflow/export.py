"""Reviewed items as a labelled table: what ``nlpc feedback export`` writes and ``--extra-data`` reads back.

Every decided review becomes one row: ``text`` and ``label`` (the reviewer's label) first, in the format
``data/extra.py`` reads, then where it came from (external id, channel, reviewer, decision time, note, the model,
its version and the label it predicted). There is one review per item, so each item appears once with its latest
decision (an undone decision is pending again and not exported); rows are ordered by decision time, oldest first,
so that when two items hold the same text, ``--extra-data``'s last-row rule lets the latest decision win.

Items recorded without their text (``NLPC_STORE_TEXT=false`` keeps only its hash) cannot train a model: they are
skipped and counted.

The queue keeps one decided label per item, which is what a single-label model needs. A multi-label model's
training rows need a 0/1 value for every label, which one decided label does not give; ``check_label_sets``
refuses rows of such models (and rows of models with different label sets, which no one task can read)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..errors import ConfigError
from ..tasks import MULTI_LABEL
from .models import Review

COLUMNS = [
    "text",
    "label",
    "external_id",
    "channel",
    "reviewer",
    "decided_at",
    "note",
    "model",
    "model_version",
    "predicted_label",
]


@dataclass(frozen=True)
class ReviewedItems:
    """The exported rows (``frame``, columns ``COLUMNS``), how many decided reviews were skipped because their
    item has no stored text, and each exported model's label list."""

    frame: pd.DataFrame
    skipped_without_text: int
    labels_by_model: dict[str, list[str]]


def reviewed_items(session: Session, *, since: datetime | None = None, model: str | None = None) -> ReviewedItems:
    """Every decided review (decided at or after ``since``; of ``model`` only when given) as a row, oldest
    decision first."""
    query = select(Review).options(joinedload(Review.item)).where(Review.state == "decided")
    if since is not None:
        query = query.where(Review.decided_at >= since)
    if model is not None:
        query = query.where(Review.model == model)
    query = query.order_by(Review.decided_at, Review.id)
    rows: list[dict[str, object]] = []
    skipped = 0
    labels_by_model: dict[str, list[str]] = {}
    for review in session.scalars(query).unique():
        if review.item.text is None:
            skipped += 1
            continue
        labels_by_model.setdefault(review.model, list(review.labels))
        rows.append(
            {
                "text": review.item.text,
                "label": review.decided_label,
                "external_id": review.item.external_id,
                "channel": review.item.channel,
                "reviewer": review.reviewer,
                "decided_at": review.decided_at.isoformat() if review.decided_at else None,
                "note": review.note,
                "model": review.model,
                "model_version": review.model_version,
                "predicted_label": review.predicted_label,
            }
        )
    return ReviewedItems(pd.DataFrame(rows, columns=COLUMNS), skipped, labels_by_model)


def check_label_sets(
    labels_by_model: dict[str, list[str]], problem_type_of: Callable[[str], str | None]
) -> list[str] | None:
    """The one label list of the exported models (None when nothing is exported). ``ConfigError`` when a model is
    multi-label (``problem_type_of(name)``, None when unknown) or when the models have different label sets."""
    multi = sorted(name for name in labels_by_model if problem_type_of(name) == MULTI_LABEL)
    if multi:
        raise ConfigError(
            f"{', '.join(multi)} {'is' if len(multi) == 1 else 'are'} multi-label: the review queue keeps one "
            "decided label per item, not a 0/1 value per label, so these reviews cannot be exported as training "
            "rows; export a single-label model with --model NAME"
        )
    distinct = {tuple(labels) for labels in labels_by_model.values()}
    if len(distinct) > 1:
        described = "; ".join(f"{name}: {', '.join(labels)}" for name, labels in sorted(labels_by_model.items()))
        raise ConfigError(
            f"the reviewed models have different label sets ({described}); export one of them with --model NAME"
        )
    return list(next(iter(distinct))) if distinct else None
