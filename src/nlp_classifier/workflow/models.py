"""The workflow's tables (SQLAlchemy 2 typed ORM). Migrations in ``migrations/versions`` create exactly these;
``tests/workflow/test_migrations.py`` checks that the two agree.

- ``items``: one moderated text: the text (or only its SHA-256 when ``NLPC_STORE_TEXT=false``), an optional
  ``external_id`` (the client's id, unique within its ``channel``; ``""`` is the global channel).
- ``predictions``: one model answer for an item: model name and version, every label's score, the label, the
  flagged labels, the threshold asked for, latency.
- ``reviews``: an item in the review queue: ``pending`` -> ``claimed`` -> ``decided`` (undo goes back to
  ``pending``); ``version`` grows on every change, and every change is a conditional UPDATE on it, so two
  reviewers deciding at once cannot both win.
- ``feedback``: a suggested label or score for an item or an external id (Perspective's suggestscore, /v1/feedback).
- ``audit_log``: every change of state: who, what, before, after, when (never a text).
- ``api_keys``: hashed API keys with a role (``client``, ``reviewer``, ``admin``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

REVIEW_STATES = ("pending", "claimed", "decided")
FEEDBACK_SOURCES = ("perspective", "api")
ROLES = ("client", "reviewer", "admin")  # each role may do what the ones before it may


def utcnow() -> datetime:
    """Now, timezone-aware UTC (every timestamp in the database)."""
    return datetime.now(timezone.utc)


# SQLite otherwise gives a deleted newest row's id to the next row, and a client still holding it reaches another
# row; PostgreSQL ignores this (its sequences never reuse an id). Migration 0002 made the tables so.
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}
KEY_NAME_MAX_CHARS = 200  # an API key's name (who uses it); PostgreSQL refuses a longer one


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[str]: JSON}


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_items_channel_external_id"),
        Index("ix_items_created_at", "created_at"),
        Index("ix_items_external_id", "external_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    predictions: Mapped[list[Prediction]] = relationship(
        back_populates="item", cascade="all, delete-orphan", passive_deletes=True
    )


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_item_id", "item_id"),
        Index("ix_predictions_created_at", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(50))
    scores: Mapped[dict[str, Any]]
    label: Mapped[str | None] = mapped_column(String(200))
    flagged: Mapped[list[str]]
    threshold: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship(back_populates="predictions")


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("item_id", name="uq_reviews_item_id"),
        Index("ix_reviews_state_priority", "state", "priority"),
        Index("ix_reviews_created_at", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    prediction_id: Mapped[int | None] = mapped_column(ForeignKey("predictions.id", ondelete="SET NULL"))
    model: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str | None] = mapped_column(String(50))
    labels: Mapped[list[str]]  # the model's labels: a decision must be one of them
    predicted_label: Mapped[str | None] = mapped_column(String(200))
    flagged: Mapped[list[str]]
    score: Mapped[float | None] = mapped_column(Float)  # the score the band was checked on
    priority: Mapped[float] = mapped_column(Float, default=0.0)  # uncertainty: 1 at the band's middle
    reason: Mapped[str] = mapped_column(String(20))  # "band" or "requested"
    state: Mapped[str] = mapped_column(String(20), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    decided_label: Mapped[str | None] = mapped_column(String(200))
    reviewer: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    item: Mapped[Item] = relationship()


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_external_id", "external_id"),
        Index("ix_feedback_created_at", "created_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(100), default="", server_default="")
    model: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(200))
    scores: Mapped[dict[str, Any]]  # suggested score per label or Perspective attribute
    source: Mapped[str] = mapped_column(String(20))
    submitted_by: Mapped[str] = mapped_column(String(200))
    client_token: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_at", "at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(KEY_NAME_MAX_CHARS), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
