"""workflow tables: items, predictions, reviews, feedback, audit_log, api_keys

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("channel", "external_id", name="uq_items_channel_external_id"),
    )
    op.create_index("ix_items_created_at", "items", ["created_at"])
    op.create_index("ix_items_external_id", "items", ["external_id"])

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("flagged", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_predictions_item_id", "predictions", ["item_id"])
    op.create_index("ix_predictions_created_at", "predictions", ["created_at"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prediction_id", sa.Integer(), sa.ForeignKey("predictions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("predicted_label", sa.String(200), nullable=True),
        sa.Column("flagged", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("decided_label", sa.String(200), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("item_id", name="uq_reviews_item_id"),
    )
    op.create_index("ix_reviews_state_priority", "reviews", ["state", "priority"])
    op.create_index("ix_reviews_created_at", "reviews", ["created_at"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(100), nullable=False, server_default=""),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("client_token", sa.String(200), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_feedback_external_id", "feedback", ["external_id"])
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_feedback_created_at", table_name="feedback")
    op.drop_index("ix_feedback_external_id", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_reviews_created_at", table_name="reviews")
    op.drop_index("ix_reviews_state_priority", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_predictions_created_at", table_name="predictions")
    op.drop_index("ix_predictions_item_id", table_name="predictions")
    op.drop_table("predictions")
    op.drop_index("ix_items_external_id", table_name="items")
    op.drop_index("ix_items_created_at", table_name="items")
    op.drop_table("items")
