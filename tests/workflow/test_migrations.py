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


def test_upgrading_a_database_in_use_keeps_every_row_and_link(database_url):
    """Rows written at the first revision survive every later one with their ids, and the links between them
    still hold (on SQLite, 0002 rebuilds every table: dropping the old ``items`` must not cascade)."""
    from sqlalchemy import func, select

    from nlp_classifier.workflow import keys, retention
    from nlp_classifier.workflow.feedback import add_feedback
    from nlp_classifier.workflow.models import AuditEntry, Feedback, Item, Prediction, Review
    from nlp_classifier.workflow.records import PredictionRecord, record_predictions

    db = Database(database_url)
    db.upgrade("0001")
    record = {"model": "m", "model_version": "1", "labels": ["a", "b"], "label": "b", "flagged": ["b"]}
    with db.session() as session:
        record_predictions(
            session,
            [
                PredictionRecord(
                    text=f"text {i}",
                    external_id=f"e{i}",
                    scores={"a": 0.4, "b": 0.6},
                    queue="band",
                    score=0.6,
                    priority=0.8,
                    **record,
                )
                for i in range(3)
            ],
            store_text=True,
        )
        add_feedback(session, source="api", submitted_by="ann", external_id="e1", label="a")
        keys.add_api_key(session, "reviewer", "ann")

    def snapshot() -> dict[str, list[tuple]]:
        with db.session() as session:
            return {
                "items": session.execute(select(Item.id, Item.external_id).order_by(Item.id)).all(),
                "predictions": session.execute(select(Prediction.id, Prediction.item_id).order_by(Prediction.id)).all(),
                "reviews": session.execute(
                    select(Review.id, Review.item_id, Review.prediction_id).order_by(Review.id)
                ).all(),
                "feedback": session.execute(select(Feedback.id, Feedback.item_id).order_by(Feedback.id)).all(),
                "audit_log": session.execute(select(AuditEntry.id, AuditEntry.action).order_by(AuditEntry.id)).all(),
            }

    written = snapshot()
    assert [len(written[t]) for t in ("items", "predictions", "reviews", "feedback")] == [3, 3, 3, 1]
    db.upgrade()
    assert snapshot() == written
    with db.session() as session:  # the cascades still work after the rebuild
        assert retention.forget_external_id(session, "e1", "admin") == {
            "items": 1,
            "predictions": 1,
            "reviews": 1,
            "feedback": 1,
        }
        assert session.scalar(select(func.count()).select_from(Review)) == 2
    db.downgrade("0001")
    assert [len(rows) for rows in snapshot().values()] == [2, 2, 2, 0, len(written["audit_log"]) + 1]
    db.dispose()


def test_several_processes_upgrading_a_new_database_at_once_all_succeed(database_url):
    """Several API processes starting together (replicas, workers; NLPC_DB_AUTO_MIGRATE is on by default) all
    migrate the same new database: each must end at the newest revision without an error. On PostgreSQL two
    processes used to create the same tables at once and one failed (a duplicate key in pg_type)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "nlp_classifier", "db", "--database-url", database_url, "upgrade"]
    for round_ in range(3):
        if round_:  # a brand-new database again: no tables, not even Alembic's own
            db = Database(database_url)
            db.downgrade("base")
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE alembic_version")
            db.dispose()
        processes = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(4)
        ]
        outputs = [(p.communicate(timeout=120)[0], p.returncode) for p in processes]
        assert all(code == 0 for _, code in outputs), [out for out, code in outputs if code]
        db = Database(database_url)
        assert db.current_revision() == db.head_revision()
        db.dispose()
