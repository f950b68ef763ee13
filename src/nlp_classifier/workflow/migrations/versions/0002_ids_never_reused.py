"""ids are never given again: SQLite tables become AUTOINCREMENT

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

SQLite gives a new row the largest rowid plus one, so once the newest item, review, feedback or audit entry is
deleted (``nlpc db forget``, ``DELETE /v1/items/...``), the next one gets its id, and a client or reviewer still
holding the old id reaches a different row. AUTOINCREMENT tables never reuse an id. SQLite cannot change that in
place, so each table is rebuilt (Alembic's batch mode copies the rows, ids included); ``env.py`` turns foreign
keys off around migrations, as SQLite's own procedure for rebuilding tables asks, so that dropping the old
``items`` does not cascade into the tables that refer to it, and the rebuild ends with a foreign key check.
PostgreSQL's sequences never reuse an id: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ["items", "predictions", "reviews", "feedback", "audit_log", "api_keys"]


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rebuilding the tables broke {len(broken)} foreign keys (first: {broken[0]})")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
