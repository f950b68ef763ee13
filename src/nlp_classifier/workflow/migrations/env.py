"""Alembic's environment for the workflow database: the engine comes from ``workflow.db.Database`` (passed in
``config.attributes["engine"]``), so migrations run the same way from ``nlpc db``, the API and the tests, with no
alembic.ini. SQLite runs in batch mode (it cannot alter tables in place), with foreign keys off while the
migrations run, as SQLite's procedure for rebuilding a table asks (a migration that rebuilds tables checks the
keys itself before it commits)."""

from __future__ import annotations

from alembic import context

from nlp_classifier.workflow.models import Base

engine = context.config.attributes["engine"]
# PostgreSQL advisory lock key held while migrating: API processes starting together (replicas, workers) would
# otherwise create the same tables at once, and all but one fail. SQLite's BEGIN IMMEDIATE serialises them already.
MIGRATION_LOCK = 0x6E6C7063_6D696772  # "nlpcmigr"

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # before any transaction (the pragma does nothing inside one): a table rebuild must not cascade
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":  # the revision is read after this: a waiting process
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")  # finds it done
            context.run_migrations()
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
