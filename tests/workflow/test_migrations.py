"""The Alembic migrations shipped in the package, on SQLite and on a real PostgreSQL server: every revision up
and down one step at a time, and the newest one matching the ORM models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nlp_classifier.workflow.db import Database
from nlp_classifier.workflow.models import Base

TABLES = ["api_keys", "audit_log", "feedback", "items", "predictions", "reviews"]


def test_every_migration_walks_up_and_down(database_url):
    db = Database(database_url)
    revisions = [rev for rev, _, _ in db.revisions()]
    assert revisions and revisions[-1] == db.head_revision()
    assert db.current_revision() is None
    for rev in revisions:
        db.upgrade(rev)
        assert db.current_revision() == rev
    assert [t for t in db.table_names() if t != "alembic_version"] == TABLES
    for _rev, down, _ in reversed(db.revisions()):
        db.downgrade(down or "base")
        assert db.current_revision() == down
    assert [t for t in db.table_names() if t != "alembic_version"] == []
    db.upgrade()  # and up again from nothing
    assert db.current_revision() == db.head_revision()
    db.dispose()


def test_newest_migration_matches_the_models(database_url):
    db = Database(database_url)
    db.upgrade()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    db.dispose()
