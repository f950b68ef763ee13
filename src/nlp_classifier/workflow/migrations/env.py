"""Alembic's environment for the workflow database: the engine comes from ``workflow.db.Database`` (passed in
``config.attributes["engine"]``), so migrations run the same way from ``nlpc db``, the API and the tests, with no
alembic.ini. SQLite runs in batch mode (it cannot alter tables in place)."""

from __future__ import annotations

from alembic import context

from nlp_classifier.workflow.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
